// An output that is either complete or absent: written under a temporary
// name beside the target and renamed into place by publish(); a failed or
// abandoned run leaves nothing behind. "-" writes to stdout; a path that
// is not a regular file (a device such as /dev/null or /dev/full, a pipe)
// is written in place, and a write error there is still reported.
//
// Writers format straight into buffer() and call commit() after each
// whole record; the text goes to the file in blocks of about kFlushBytes,
// one write() call each (to stdout after every record instead, so that
// several outputs sharing stdout keep their records' order).
//
// Threading: single owner.
#ifndef CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
#define CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "sim/engine/status.h"
#include "sim/engine/text_buffer.h"

namespace ctsim {

class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  Status open(const std::string& path);
  // Opens an in-memory output: nothing reaches a file; the text stays in
  // buffer(); memory_size() says how much is held, drain_memory() hands it
  // over and starts afresh.
  Status open_memory();
  size_t memory_size() const { return buf_.size(); }
  std::string drain_memory();
  static constexpr size_t kFlushBytes = size_t{1} << 20;

  bool is_open() const { return f_ != nullptr || memory_; }
  // Where the next record is formatted. REQUIRES: is_open().
  TextBuffer& buffer() { return buf_; }
  // The record in buffer() is whole: sends the buffer on once it holds a
  // block.
  void commit() {
    if (buf_.size() >= flush_at_ && !memory_) flush();
  }
  // A whole record (or several).
  void write(std::string_view s) {
    if (!is_open()) return;
    buf_.append(s);
    commit();
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
  // (libpcap's pcap_dump, on its own descriptor of the same file); null
  // when not open or in memory.
  std::FILE* stdio() { return f_; }
  // Records a write error made through stdio(): finish() reports it.
  void mark_failed() { failed_ = true; }

 private:
  // Hands the buffer to the file (one fwrite on an unbuffered FILE).
  void flush();

  std::string path_;
  std::string tmp_;
  FILE* f_ = nullptr;
  TextBuffer buf_;
  size_t flush_at_ = kFlushBytes;
  bool failed_ = false;
  bool is_stdout_ = false;
  bool memory_ = false;  // open_memory(): no file, the text stays in buf_
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
