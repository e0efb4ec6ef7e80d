#include "sim/output/output_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace ctsim {

OutputFile::~OutputFile() { abort(); }

Status OutputFile::open(const std::string& path) {
  path_ = path;
  buf_.clear();
  if (path == "-") {
    f_ = stdout;
    is_stdout_ = true;
    flush_at_ = 1;  // every record: stdout's own buffer keeps the order between outputs
    return Status::OK();
  }
  struct stat st;
  const bool special = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  if (special) {
    f_ = std::fopen(path.c_str(), "w");
  } else {
    tmp_ = fmt::format("{}.tmp-ctsim-{}", path, static_cast<long>(::getpid()));
    f_ = std::fopen(tmp_.c_str(), "w");
  }
  if (f_ == nullptr) {
    std::string why = std::strerror(errno);
    tmp_.clear();
    return Status::IOError(fmt::format("{}: cannot open for writing: {}", path, why));
  }
  // buf_ is the only buffer: each flush() is one write() of about kFlushBytes
  // (glibc ignores setvbuf's size without a buffer: a FILE's own buffer
  // would be 4 KiB, one write() each).
  std::setvbuf(f_, nullptr, _IONBF, 0);
  flush_at_ = kFlushBytes;
  buf_.reserve(kFlushBytes + kFlushBytes / 16);
  return Status::OK();
}

Status OutputFile::open_memory() {
  path_ = "(memory)";
  buf_.clear();
  memory_ = true;
  return Status::OK();
}

std::string OutputFile::drain_memory() {
  std::string held(buf_.data(), buf_.size());
  buf_.clear();
  return held;
}

int OutputFile::write_block(const TextBuffer& b) {
  errno = 0;
  if (std::fwrite(b.data(), 1, b.size(), f_) == b.size()) return 0;
  return errno != 0 ? errno : EIO;
}

void OutputFile::flush() {
  if (f_ == nullptr || failed_ || buf_.empty()) {
    buf_.clear();
    return;
  }
  if (is_stdout_) {
    if (const int e = write_block(buf_); e != 0) {
      failed_ = true;
      failed_errno_ = e;
    }
    buf_.clear();
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !in_flight_; });
  if (writer_failed_) {  // nothing more is written after a failed block
    buf_.clear();
    return;
  }
  const bool start = !writer_.joinable();
  // The first block: the other buffer gets the same room, once (invariant 1:
  // spare_ is empty and ours while nothing is in flight).
  if (start) spare_.reserve(kFlushBytes + kFlushBytes / 16);
  spare_.swap(buf_);
  in_flight_ = true;
  lock.unlock();
  if (!start) {
    cv_.notify_all();
    return;
  }
  try {
    writer_ = std::thread(&OutputFile::writer_loop, this);
  } catch (const std::system_error&) {
    // No thread to be had (resources): this block is written here, and the
    // next full block tries again. Nothing is left in flight.
    const int e = write_block(spare_);
    lock.lock();
    block_done(e);
  }
}

void OutputFile::block_done(int e) {
  if (e != 0 && !writer_failed_) {
    writer_failed_ = true;
    writer_errno_ = e;
  }
  spare_.clear();
  in_flight_ = false;
}

void OutputFile::writer_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return in_flight_ || stop_; });
    if (!in_flight_) return;  // stopped, and the last block is written
    lock.unlock();
    const int e = write_block(spare_);  // spare_ is the writer's while in flight
    lock.lock();
    block_done(e);
    cv_.notify_all();
  }
}

void OutputFile::stop_writer() {
  if (writer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    writer_.join();
  }
  // A failed block (written by the thread, or here when no thread could
  // be made) is the file's error.
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_failed_ && !failed_) {
    failed_ = true;
    failed_errno_ = writer_errno_;
  }
  writer_failed_ = false;
  writer_errno_ = 0;
  stop_ = false;
}

Status OutputFile::finish() {
  if (f_ == nullptr) return Status::OK();
  const bool threaded = writer_.joinable();
  if (threaded) flush();  // the last block, after the ones before it
  stop_writer();
  if (!threaded && !failed_ && !buf_.empty()) {
    // Less than a block in all: written here, no thread made for it.
    if (const int e = write_block(buf_); e != 0) {
      failed_ = true;
      failed_errno_ = e;
    }
  }
  buf_.clear();
  bool bad = failed_;
  if (std::fflush(f_) != 0) bad = true;
  const int saved = failed_errno_ != 0 ? failed_errno_ : errno;
  if (!is_stdout_ && std::fclose(f_) != 0) bad = true;
  f_ = nullptr;
  if (bad) {
    if (!tmp_.empty()) std::remove(tmp_.c_str());
    tmp_.clear();
    return Status::IOError(fmt::format("{}: write error: {}", path_, std::strerror(saved ? saved : EIO)));
  }
  return Status::OK();
}

Status OutputFile::publish() {
  if (!tmp_.empty() && std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp_.c_str());
    tmp_.clear();
    return Status::IOError(fmt::format("{}: cannot move the finished file into place: {}", path_, why));
  }
  tmp_.clear();
  return Status::OK();
}

void OutputFile::abort() {
  stop_writer();  // invariant 3: the file outlives its writer
  buf_.clear();
  memory_ = false;
  if (f_ != nullptr && !is_stdout_) std::fclose(f_);
  f_ = nullptr;
  if (!tmp_.empty()) std::remove(tmp_.c_str());
  tmp_.clear();
}

}  // namespace ctsim
