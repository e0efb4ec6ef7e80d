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
// Double buffering: a file's blocks are written by a writer thread of its
// own while the simulation formats the next block into the other buffer.
// The thread starts at the first full block (an output that never fills
// one is written by the caller at finish(), and no thread is made), and
// takes one block at a time in the order they were filled, so the bytes
// and their order are exactly what one thread would write.
//
// Invariants:
//  (1) At most one block is in flight: spare_ is the writer's while
//      in_flight_, the caller's (empty) otherwise.
//  (2) writer_ is joinable iff it was started and neither finish() nor
//      abort() has run since: both join it, so does the destructor, on
//      every path (a write error included).
//  (3) The file is closed only after the writer is joined.
//
// Threading: one owner thread calls every public method; the writer
// thread only writes spare_ to the file and reports through the fields
// marked GUARDED_BY(mu_).
#ifndef CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
#define CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

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
  // Where the next record is formatted. REQUIRES: is_open(). The object
  // stays the same for the file's life (its storage changes at a commit()).
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
  // Hands the buffer to the file: to the writer thread for a file (after
  // the block before it is written), directly for stdout.
  void flush();
  // Writes `b` to f_ (one fwrite on an unbuffered FILE). Returns 0, or the
  // errno of a failed write.
  int write_block(const TextBuffer& b);
  // Waits until no block is in flight, stops the writer and joins it (if
  // it was started); merges a failed block's error into failed_.
  void stop_writer();
  void writer_loop();
  // The block in flight was written with result `e` (0 or an errno): the
  // first error is kept, the spare buffer is free again. REQUIRES: mu_ held.
  void block_done(int e);

  std::string path_;
  std::string tmp_;
  FILE* f_ = nullptr;
  TextBuffer buf_;
  size_t flush_at_ = kFlushBytes;
  bool failed_ = false;
  int failed_errno_ = 0;  // the errno of the first failed write, 0 if unknown
  bool is_stdout_ = false;
  bool memory_ = false;  // open_memory(): no file, the text stays in buf_

  // The writer thread and what it shares with the owner.
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  TextBuffer spare_;            // the block in flight (GUARDED_BY(mu_) while in_flight_)
  bool in_flight_ = false;      // GUARDED_BY(mu_)
  bool stop_ = false;           // GUARDED_BY(mu_)
  int writer_errno_ = 0;        // GUARDED_BY(mu_): first failed write's errno (or EIO)
  bool writer_failed_ = false;  // GUARDED_BY(mu_)
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_OUTPUT_FILE_H_
