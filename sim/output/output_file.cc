#include "sim/output/output_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

void OutputFile::flush() {
  if (f_ != nullptr && !failed_ && !buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
    failed_ = true;
  buf_.clear();
}

Status OutputFile::finish() {
  if (f_ == nullptr) return Status::OK();
  flush();
  bool bad = failed_;
  if (std::fflush(f_) != 0) bad = true;
  const int saved = errno;
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
  buf_.clear();
  memory_ = false;
  if (f_ != nullptr && !is_stdout_) std::fclose(f_);
  f_ = nullptr;
  if (!tmp_.empty()) std::remove(tmp_.c_str());
  tmp_.clear();
}

}  // namespace ctsim
