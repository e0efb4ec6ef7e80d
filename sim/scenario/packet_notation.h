// The scenario's tcpdump-like packet notation (docs/SCENARIO.md "Packet
// notation"): parsing into a core Packet, and writing packets and tuples
// back in the same notation (the trace's `pkt` and tuple strings).
//
//   tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S [seq N] [ack N] [win N] [len N]
//       [wscale N] [sackok] [mss N]
//   udp 192.168.1.2:5353 > 10.0.0.53:53 [len N]          (also udplite, which
//       may add `csum17`: its checksum made with protocol 17, core/packet.h)
//   icmp 192.168.1.2 > 10.0.0.2 echo-request [id N] [seq N]
//   icmp 10.0.0.2 > 192.168.1.2 port-unreachable [udp 192.168.1.2:5000 > 10.0.0.2:53]
//   icmp6 2001:db8::1 > 2001:db8::2 echo-request id 7
//   gre 192.168.1.2 > 10.0.0.2 key 5                     (PPTP call id 5; a tuple
//       adds `srckey N` when its source key is not 0, as a reply tuple does)
//   sctp 192.168.1.2:5000 > 10.0.0.2:5001 chunks INIT[,DATA...] vtag 0 [init_tag N]
//   dccp 192.168.1.2:5000 > 10.0.0.2:5001 type REQUEST [seq N] [ack N]
//   proto 50 192.168.1.2 > 10.0.0.2
// Any packet may end in `badsum` (bad layer-4 checksum) or `truncated`.
// ICMP types go by name or as `type N code M`. The packet an ICMP error
// quotes is in brackets, in the tuple notation (no flags or options).
// format_packet(parse_packet(x)) parses back to the same Packet.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_PACKET_NOTATION_H_
#define CTSIM_SIM_SCENARIO_PACKET_NOTATION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "core/packet.h"
#include "sim/engine/parse_result.h"
#include "sim/engine/text_buffer.h"

namespace ctsim {

struct PacketSpec {
  ctcore::Packet pkt;
  // TCP fields the notation gave; the others are filled in per flow.
  bool has_seq = false;
  bool has_ack = false;
  bool has_win = false;
};

// One word of the notation (or of a rule's match text) and where it starts.
struct NotationToken {
  std::string_view text;
  size_t pos;  // 0-based offset
};

// Splits on spaces and tabs; a bracket group containing spaces (an ICMP
// error's quoted packet) is one token, brackets included.
std::vector<NotationToken> tokenize_notation(std::string_view s);

// Parses a packet; an error's column is where in `text` it lies.
Parsed<PacketSpec> parse_packet(std::string_view text);

// Parses a tuple: the packet notation without flags or other options
// (`tcp 1.2.3.4:1 > 5.6.7.8:2`, `icmp a > b echo-request id 3`).
Parsed<ctcore::nf_conntrack_tuple> parse_tuple(std::string_view text);

// Parses one address (IPv4 dotted quad or IPv6) into *out and its family.
bool parse_address(std::string_view text, ctcore::nf_inet_addr* out, uint16_t* l3num);

std::string format_address(uint16_t l3num, const ctcore::nf_inet_addr& a);
// The protocol word of the notation: tcp, udp, icmp, icmp6, ..., or "proto N".
std::string protocol_word(uint8_t protonum);
// A tuple in notation: "tcp 192.168.1.2:47562 > 10.0.0.2:80".
std::string format_tuple(const ctcore::nf_conntrack_tuple& t);
// A packet in canonical notation, with the seq/ack/win it actually carried.
std::string format_packet(const ctcore::Packet& p);
// A memo of the notation's heads ("PROTO SRC > DST", the start of every
// tuple and packet) for IPv4, keyed by everything a head is made of
// (protocol, addresses, ports) and checked against all of it on every use:
// a head is copied from the memo only when its key is equal, so what is
// written is what formatting would write; an entry is only ever replaced.
// A conn's tuples and packets repeat the same two heads, so the trace
// formats each about once per conn. Direct-mapped, kEntries slots.
//
// Threading: one owner (the writer it serves).
class NotationHeadCache {
 public:
  NotationHeadCache();
  NotationHeadCache(const NotationHeadCache&) = delete;
  NotationHeadCache& operator=(const NotationHeadCache&) = delete;

  // 72 bytes each: the longest IPv4 head ("udplite" and two endpoints of
  // 21 bytes) is 53.
  struct Entry {
    uint64_t addrs = 0;  // saddr | daddr << 32
    uint64_t rest = 0;   // sport | dport << 16 | protonum << 32 | 1 << 40 (in use)
    char text[55] = {};
    uint8_t size = 0;
  };
  static constexpr size_t kEntries = 1024;
  Entry& slot(uint64_t addrs, uint64_t rest) {
    const uint64_t h = (addrs ^ (rest * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return entries_[h >> 54];
  }

 private:
  std::unique_ptr<Entry[]> entries_;
};

// The same, appended to `out` (a reused buffer: no allocation once grown).
// With `heads`, the head is copied from that memo when it holds it (the
// text is the same either way).
void append_tuple_notation(TextBuffer& out, const ctcore::nf_conntrack_tuple& t, NotationHeadCache* heads = nullptr);
void append_packet_notation(TextBuffer& out, const ctcore::Packet& p, NotationHeadCache* heads = nullptr);
// TCP flags as notation letters ("SA"), or "none".
std::string format_tcp_flags(uint8_t flags);

// The TCP flag bit of a notation letter (S A F R P U E C); false for
// any other letter.
bool tcp_flag_bit(char letter, uint8_t* bit);

// ICMP/ICMPv6 type names as the notation spells them; null if unnamed.
const char* icmp_type_name(uint8_t type, uint8_t code, bool v6);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_PACKET_NOTATION_H_
