// Reading a capture file (pcap, µs or ns, or pcapng) frame by frame through
// libpcap, with an optional BPF filter (tcpdump's expression language).
// Frames are read one at a time as the caller asks: a capture of any size
// is never held in memory.
//
// libpcap gives every frame's time in nanoseconds whatever the file's own
// resolution (pcapng interfaces each have theirs), and one link type for
// the whole file (libpcap refuses a pcapng whose interfaces differ in it).
//
// Threading: single owner.
#ifndef CTSIM_SIM_SCENARIO_CAPTURE_READER_H_
#define CTSIM_SIM_SCENARIO_CAPTURE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine/status.h"

struct pcap;  // libpcap's pcap_t

namespace ctsim {

struct PcapLibrary;

struct CaptureFrame {
  int64_t ts_ns = 0;              // capture time, nanoseconds since the Unix epoch
  const uint8_t* data = nullptr;  // valid until the next read
  size_t caplen = 0;              // bytes captured
  size_t wirelen = 0;             // bytes on the wire
};

class CaptureReader {
 public:
  CaptureReader() = default;
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Opens `path` and compiles `filter` (empty: every frame). The error
  // names the file (and the filter).
  Status open(const std::string& path, const std::string& filter);
  enum class Read : uint8_t { kFrame, kEnd, kError };
  // The next frame that passes the filter. kError: the file is damaged
  // (a truncated last record); error() says how.
  Read next(CaptureFrame* out);
  const std::string& error() const { return error_; }
  // The file's link type (LINKTYPE_ / DLT_ number as libpcap reports it).
  int linktype() const { return linktype_; }

 private:
  static constexpr size_t kStreamBuffer = 1 << 20;
  const PcapLibrary* lib_ = nullptr;  // libpcap, loaded by open()
  ::pcap* p_ = nullptr;               // owns the stream that reads through buffer_
  std::unique_ptr<char[]> buffer_;    // the stream's buffer: the destructor closes the stream first
  int linktype_ = 0;
  std::string error_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_CAPTURE_READER_H_
