// Packets written as a capture file that Wireshark, tshark, tcpdump and
// tcpreplay read (docs/TRACE_SCHEMA.md "Packet captures"):
//   - pcapng: one interface per name (the world names them
//     "NETNS/PATH"), nanosecond timestamps, and an optional comment on each
//     packet (Wireshark shows it in its packet list, tshark as
//     `frame.comment`);
//   - classic pcap (nanosecond magic), written by libpcap's pcap_dump,
//     without interfaces or comments.
// Every frame is Ethernet II (packet_wire.h encode_ethernet).
//
// Why pcapng is written by hand: libpcap reads pcapng but cannot write it
// (pcap_dump writes only classic pcap), and classic pcap has no per-packet
// comment. The writer emits only three block types (Section Header,
// Interface Description, Enhanced Packet), little-endian.
//
// Life cycle: start() once, write() per packet, finish() before the
// OutputFile is finished (it flushes libpcap's stream).
// Ownership: borrows the OutputFile, which must outlive it.
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_PCAP_WRITER_H_
#define CTSIM_SIM_OUTPUT_PCAP_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/status.h"
#include "sim/output/output_file.h"

struct pcap;
struct pcap_dumper;

namespace ctsim {

enum class PcapFormat : uint8_t { kPcapng, kPcap };

class PcapWriter {
 public:
  PcapWriter(OutputFile& out, PcapFormat format) : out_(out), format_(format) {}
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Writes the file header.
  Status start();
  // One frame at `ts_ns` (virtual time; the file shows it as time since
  // the Unix epoch) seen on interface `iface`, with `comment` (pcapng only;
  // empty: none).
  void write(int64_t ts_ns, std::string_view iface, std::string_view frame, std::string_view comment);
  // Flushes what libpcap buffered. Returns the first write error.
  Status finish();
  // The number of interface `name`: interfaces are numbered from 0 in the
  // order they first appear, in both formats (pcapng writes each one's
  // Interface Description Block when it first appears, so its number is
  // the pcapng interface id).
  uint32_t interface_id(std::string_view name);
  // Every interface's name, by number.
  std::vector<std::string> interface_names() const;

 private:
  OutputFile& out_;
  PcapFormat format_;
  std::map<std::string, uint32_t, std::less<>> interfaces_;
  std::string block_;  // reused for every block
  ::pcap* dead_ = nullptr;
  ::pcap_dumper* dumper_ = nullptr;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_PCAP_WRITER_H_
