#include "sim/output/output_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ctsim {

OutputFile::~OutputFile() { abort(); }

Status OutputFile::open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    f_ = stdout;
    is_stdout_ = true;
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
  static constexpr size_t kBuf = 1 << 20;
  std::setvbuf(f_, nullptr, _IOFBF, kBuf);
  return Status::OK();
}

Status OutputFile::open_memory() {
  path_ = "(memory)";
  f_ = ::open_memstream(&mem_, &mem_size_);
  if (f_ == nullptr) return Status::IOError(fmt::format("cannot open a memory stream: {}", std::strerror(errno)));
  return Status::OK();
}

size_t OutputFile::memory_size() {
  if (f_ == nullptr) return 0;
  std::fflush(f_);  // sets mem_size_
  return mem_size_;
}

std::string OutputFile::drain_memory() {
  if (f_ == nullptr) return {};
  std::fclose(f_);  // the buffer and its size are final now
  std::string held(mem_, mem_size_);
  std::free(mem_);
  mem_ = nullptr;
  mem_size_ = 0;
  f_ = ::open_memstream(&mem_, &mem_size_);
  if (f_ == nullptr) failed_ = true;
  return held;
}

Status OutputFile::finish() {
  if (f_ == nullptr) return Status::OK();
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
  if (f_ != nullptr && !is_stdout_) std::fclose(f_);
  f_ = nullptr;
  std::free(mem_);
  mem_ = nullptr;
  if (!tmp_.empty()) std::remove(tmp_.c_str());
  tmp_.clear();
}

}  // namespace ctsim
