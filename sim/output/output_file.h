// An output that is either complete or absent: written under a temporary
// name beside the target and renamed into place by publish(); a failed or
// abandoned run leaves nothing behind. "-" writes to stdout; a path that
// is not a regular file (a device such as /dev/null or /dev/full, a pipe)
// is written in place, and a write error there is still reported.
// open_memory() writes into memory instead (a writer that formats into a
// buffer for another output, as the explorer page's narrative does).
//
// Threading: single owner.
#ifndef CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
#define CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "sim/engine/status.h"

namespace ctsim {

class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  Status open(const std::string& path);
  // Opens an in-memory stream: nothing reaches the disk; memory_size() says
  // how much is held, drain_memory() hands it over and starts afresh.
  Status open_memory();
  size_t memory_size();
  std::string drain_memory();
  bool is_open() const { return f_ != nullptr; }
  void write(std::string_view s) {
    if (f_ != nullptr && !failed_ && std::fwrite(s.data(), 1, s.size(), f_) != s.size()) failed_ = true;
  }
  // Flushes and closes. Returns the first write error (then the temporary
  // file is already removed).
  Status finish();
  // Renames the finished file into place. REQUIRES: finish() returned OK.
  Status publish();
  // Closes and removes the temporary file.
  void abort();
  const std::string& path() const { return path_; }
  // The open stream, for a library that writes through stdio itself
  // (libpcap's pcap_dump); null when not open.
  std::FILE* stdio() { return f_; }
  // Records a write error made through stdio(): finish() reports it.
  void mark_failed() { failed_ = true; }

 private:
  std::string path_;
  std::string tmp_;
  FILE* f_ = nullptr;
  bool failed_ = false;
  bool is_stdout_ = false;
  char* mem_ = nullptr;  // open_memory()'s buffer (open_memstream owns it until fclose)
  size_t mem_size_ = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
