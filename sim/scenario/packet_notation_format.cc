// Writing packets and tuples in the notation (the trace's `pkt` and tuple
// strings). This runs for every traced packet: it appends to a reused
// buffer and formats numbers without allocating.
#include <cstring>
#include <string_view>
#include <utility>

#include "sim/scenario/packet_notation.h"
#include "sim/scenario/packet_notation_internal.h"

namespace ctsim {

using ctcore::InnerHeader;
using ctcore::nf_conntrack_tuple;
using ctcore::nf_inet_addr;
using ctcore::Packet;
using notation::has_ports;
using notation::kDccpTypes;
using notation::kSctpChunks;
using notation::SctpChunkName;

namespace {

// The protocol word without building a string (the named protocols).
void append_protocol_word(TextBuffer& s, uint8_t protonum) {
  switch (protonum) {
    case ctcore::IPPROTO_TCP_: s.literal("tcp"); return;
    case ctcore::IPPROTO_UDP_: s.literal("udp"); return;
    default: s += protocol_word(protonum);
  }
}

// The decimal text of every byte value, padded to four bytes so that one
// 4-byte move writes it (the padding is overwritten by what follows, or
// left past the end): an IPv4 address is four moves, not four digit loops.
struct OctetText {
  char text[256][4];
  uint8_t length[256];
};
constexpr OctetText make_octet_text() {
  OctetText t{};
  for (unsigned v = 0; v < 256; ++v) {
    const uint8_t n = v >= 100 ? 3 : v >= 10 ? 2 : 1;
    unsigned x = v;
    for (int i = n - 1; i >= 0; --i, x /= 10) t.text[v][i] = static_cast<char>('0' + x % 10);
    t.length[v] = n;
  }
  return t;
}
constexpr OctetText kOctetText = make_octet_text();

// Appends an address: IPv4 by table (this runs for every traced packet),
// IPv6 through inet_ntop (its zero compression is the standard text form).
void append_address(TextBuffer& s, uint16_t l3num, const nf_inet_addr& a) {
  if (l3num == ctcore::NFPROTO_IPV6) {
    s += format_address(l3num, a);
    return;
  }
  // The text is at most 15 bytes; a move may write up to 3 padding bytes
  // past it: 18 reserved.
  char* p = s.tail(18);
  for (int i = 0; i < 4; ++i) {
    const uint8_t b = static_cast<uint8_t>(a.all[0] >> (8 * i));
    std::memcpy(p, kOctetText.text[b], 4);
    p += kOctetText.length[b];
    if (i < 3) *p++ = '.';
  }
  s.set_end(p);
}

void append_endpoint(TextBuffer& s, uint16_t l3num, const nf_inet_addr& a, bool ports, uint16_t port) {
  const bool v6 = l3num == ctcore::NFPROTO_IPV6;
  if (ports && v6) s.push_back('[');
  append_address(s, l3num, a);
  if (!ports) return;
  if (v6) s.push_back(']');
  s.push_back(':');
  s.append_uint(port);
}

// Appends "PROTO SRC > DST", the head of every tuple and packet.
void format_head(TextBuffer& s, uint8_t protonum, uint16_t l3num, const nf_inet_addr& src, uint16_t sport,
                 const nf_inet_addr& dst, uint16_t dport, bool ports) {
  append_protocol_word(s, protonum);
  s.push_back(' ');
  append_endpoint(s, l3num, src, ports, sport);
  s.literal(" > ");
  append_endpoint(s, l3num, dst, ports, dport);
}

// append_head()'s miss: formatted, and remembered in `e` when it fits.
[[gnu::noinline]] void append_head_miss(TextBuffer& s, NotationHeadCache::Entry& e, uint64_t addrs, uint64_t rest,
                                        uint8_t protonum, uint16_t l3num, const nf_inet_addr& src, uint16_t sport,
                                        const nf_inet_addr& dst, uint16_t dport, bool ports) {
  const size_t start = s.size();
  format_head(s, protonum, l3num, src, sport, dst, dport, ports);
  const size_t n = s.size() - start;
  if (n <= sizeof e.text) {
    e.addrs = addrs;
    e.rest = rest;
    e.size = static_cast<uint8_t>(n);
    std::memcpy(e.text, s.data() + start, n);
  }
}

// The same, through `heads` when given (IPv4): copied when the memo holds
// this exact head, else formatted and remembered. Inline: the hit (nearly
// every traced tuple and packet) is a key, a compare and one copy.
[[gnu::always_inline]] inline void append_head(TextBuffer& s, uint8_t protonum, uint16_t l3num, const nf_inet_addr& src,
                                               uint16_t sport, const nf_inet_addr& dst, uint16_t dport, bool ports,
                                               NotationHeadCache* heads) {
  if (heads == nullptr || l3num != ctcore::NFPROTO_IPV4) {
    format_head(s, protonum, l3num, src, sport, dst, dport, ports);
    return;
  }
  // Ports the head does not show stay out of the key (they may hold other
  // fields of the tuple).
  if (!ports) sport = dport = 0;
  const uint64_t addrs = uint64_t{src.all[0]} | uint64_t{dst.all[0]} << 32;
  const uint64_t rest = uint64_t{sport} | uint64_t{dport} << 16 | uint64_t{protonum} << 32 | uint64_t{1} << 40;
  NotationHeadCache::Entry& e = heads->slot(addrs, rest);
  if (e.addrs == addrs && e.rest == rest) {
    char* p = s.tail(sizeof e.text);
    std::memcpy(p, e.text, sizeof e.text);  // one fixed-size move; the bytes past size are overwritten or left past the end
    s.set_end(p + e.size);
    return;
  }
  append_head_miss(s, e, addrs, rest, protonum, l3num, src, sport, dst, dport, ports);
}

void append_icmp_words(TextBuffer& s, uint8_t type, uint8_t code, bool v6) {
  if (const char* n = icmp_type_name(type, code, v6)) {
    s += n;
    return;
  }
  s.literal("type ");
  s.append_uint(type);
  s.literal(" code ");
  s.append_uint(code);
}

// " WORD N": a named number of the notation. Words are literals: " WORD "
// is one fixed-size move.
template <size_t N>
[[gnu::always_inline]] inline void append_field(TextBuffer& s, const char (&word)[N], uint64_t v) {
  char* p = s.tail(N + 1);
  p[0] = ' ';
  std::memcpy(p + 1, word, N - 1);
  p[N] = ' ';
  s.set_end(p + N + 1);
  s.append_uint(v);
}

// append_field() at a cursor: returns the end. REQUIRES N + 1 +
// TextBuffer::kUintRoom bytes of room.
template <size_t N>
[[gnu::always_inline]] inline char* put_field(char* q, const char (&word)[N], uint64_t v) {
  q[0] = ' ';
  std::memcpy(q + 1, word, N - 1);
  q[N] = ' ';
  return TextBuffer::put_uint(q + N + 1, v);
}
// A TCP packet's fields after the head: " flags " and 8, seven fields of
// at most " wscale " and a number's room each, " sackok".
constexpr size_t kTcpFieldsRoom = 7 + 8 + 6 * (8 + TextBuffer::kUintRoom) + 7;

// The flags' letters of every flag byte ("none" for 0), made at compile
// time: one 8-byte move per packet instead of a loop over the bits.
struct TcpFlagsText {
  char text[256][8];
  uint8_t length[256];
};
constexpr TcpFlagsText make_tcp_flags_text() {
  constexpr std::pair<uint8_t, char> kOrder[] = {
      {ctcore::TCPHDR_SYN, 'S'}, {ctcore::TCPHDR_FIN, 'F'}, {ctcore::TCPHDR_RST, 'R'}, {ctcore::TCPHDR_PSH, 'P'},
      {ctcore::TCPHDR_ACK, 'A'}, {ctcore::TCPHDR_URG, 'U'}, {ctcore::TCPHDR_ECE, 'E'}, {ctcore::TCPHDR_CWR, 'C'}};
  TcpFlagsText t{};
  for (unsigned f = 0; f < 256; ++f) {
    uint8_t n = 0;
    for (auto [bit, c] : kOrder)
      if (f & bit) t.text[f][n++] = c;
    if (f == 0) {
      t.text[f][0] = 'n', t.text[f][1] = 'o', t.text[f][2] = 'n', t.text[f][3] = 'e';
      n = 4;
    }
    t.length[f] = n;
  }
  return t;
}
constexpr TcpFlagsText kTcpFlagsText = make_tcp_flags_text();

void append_tcp_flags(TextBuffer& s, uint8_t f) {
  char* p = s.tail(8);
  std::memcpy(p, kTcpFlagsText.text[f], 8);
  s.set_end(p + kTcpFlagsText.length[f]);
}

}  // namespace

NotationHeadCache::NotationHeadCache() : entries_(new Entry[kEntries]) {}

std::string format_tuple(const nf_conntrack_tuple& t) {
  TextBuffer s;
  append_tuple_notation(s, t);
  return s.str();
}

void append_tuple_notation(TextBuffer& s, const nf_conntrack_tuple& t, NotationHeadCache* heads) {
  const uint8_t p = t.dst.protonum;
  const bool ports = has_ports(p);
  append_head(s, p, t.src.l3num, t.src.u3, t.sport(), t.dst.u3, t.dport(), ports, heads);
  if (p == ctcore::IPPROTO_ICMP_ || p == ctcore::IPPROTO_ICMPV6_) {
    s.push_back(' ');
    append_icmp_words(s, t.icmp_type(), t.icmp_code(), p == ctcore::IPPROTO_ICMPV6_);
    append_field(s, "id", t.icmp_id());
  } else if (p == ctcore::IPPROTO_GRE_) {
    // The destination key is the packet's key (a PPTP call id); a source key
    // (from the PPTP helper's keymap in the kernel) is 0 in a packet's tuple
    // and shows only in an inverted one.
    append_field(s, "key", ctcore::raw_be16(t.dst.u_all));
    if (t.src.u_all != 0) append_field(s, "srckey", ctcore::raw_be16(t.src.u_all));
  }
}

std::string format_tcp_flags(uint8_t f) {
  TextBuffer s;
  append_tcp_flags(s, f);
  return s.str();
}

std::string format_packet(const Packet& p) {
  TextBuffer s;
  append_packet_notation(s, p);
  return s.str();
}

void append_packet_notation(TextBuffer& s, const Packet& p, NotationHeadCache* heads) {
  const bool ports = has_ports(p.protonum);
  append_head(s, p.protonum, p.l3num, p.saddr, p.sport, p.daddr, p.dport, ports, heads);
  switch (p.protonum) {
    case ctcore::IPPROTO_TCP_: {
      // Every traced TCP packet: through a local cursor, one capacity test
      // for all its fields.
      char* q = s.tail(kTcpFieldsRoom);
      std::memcpy(q, " flags ", 7);
      std::memcpy(q + 7, kTcpFlagsText.text[p.tcp_flags], 8);
      q += 7 + kTcpFlagsText.length[p.tcp_flags];
      q = put_field(q, "seq", p.seq);
      if ((p.tcp_flags & ctcore::TCPHDR_ACK) || p.ack_seq != 0) q = put_field(q, "ack", p.ack_seq);
      q = put_field(q, "win", p.window);
      if (p.len) q = put_field(q, "len", p.len);
      if (p.wscale >= 0) q = put_field(q, "wscale", static_cast<uint64_t>(p.wscale));
      if (p.sackok) {
        std::memcpy(q, " sackok", 7);
        q += 7;
      }
      if (p.mss) q = put_field(q, "mss", p.mss);
      s.set_end(q);
      break;
    }
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
      if (p.len) append_field(s, "len", p.len);
      if (p.udplite_csum17) s.literal(" csum17");
      break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: {
      const bool v6 = p.protonum == ctcore::IPPROTO_ICMPV6_;
      s.push_back(' ');
      append_icmp_words(s, p.icmp_type, p.icmp_code, v6);
      if (!p.has_inner || p.icmp_id != 0) append_field(s, "id", p.icmp_id);
      if (p.icmp_seq) append_field(s, "seq", p.icmp_seq);
      if (p.has_inner) {
        const InnerHeader& in = p.inner;
        const bool iports = has_ports(in.protonum);
        s.literal(" [");
        format_head(s, in.protonum, in.l3num, in.saddr, in.sport, in.daddr, in.dport, iports);
        if (in.protonum == ctcore::IPPROTO_ICMP_ || in.protonum == ctcore::IPPROTO_ICMPV6_) {
          s.push_back(' ');
          append_icmp_words(s, in.icmp_type, in.icmp_code, in.protonum == ctcore::IPPROTO_ICMPV6_);
          append_field(s, "id", in.sport);
        } else if (in.protonum == ctcore::IPPROTO_GRE_) {
          append_field(s, "key", in.gre_key);
        }
        s.push_back(']');
      }
      break;
    }
    case ctcore::IPPROTO_GRE_: append_field(s, "key", p.gre_key); break;
    case ctcore::IPPROTO_SCTP_: {
      // The first chunk first, then the others in ascending type order (the
      // order the tracker walks them in).
      std::string chunks;
      for (const SctpChunkName& c : kSctpChunks)
        if ((p.sctp_chunks & c.bit) && c.type == p.sctp_first_chunk) chunks = c.name;
      for (const SctpChunkName& c : kSctpChunks) {
        if ((p.sctp_chunks & c.bit) && c.type != p.sctp_first_chunk) {
          if (!chunks.empty()) chunks += ',';
          chunks += c.name;
        }
      }
      s.literal(" chunks ");
      s += chunks.empty() ? std::string_view("none") : std::string_view(chunks);
      append_field(s, "vtag", p.sctp_vtag);
      if (p.sctp_chunks & (ctcore::SCTP_CHUNK_INIT | ctcore::SCTP_CHUNK_INIT_ACK))
        append_field(s, "init_tag", p.sctp_init_tag);
      break;
    }
    case ctcore::IPPROTO_DCCP_:
      s.literal(" type ");
      s += p.dccp_type < 10 ? kDccpTypes[p.dccp_type] : "INVALID";
      if (p.dccp_seq) append_field(s, "seq", p.dccp_seq);
      if (p.dccp_ack) append_field(s, "ack", p.dccp_ack);
      break;
    default: break;
  }
  const bool len_written = p.protonum == ctcore::IPPROTO_TCP_ || p.protonum == ctcore::IPPROTO_UDP_ ||
                           p.protonum == ctcore::IPPROTO_UDPLITE_;
  if (p.len && !len_written) append_field(s, "len", p.len);
  if (p.bad_checksum) s.literal(" badsum");
  if (p.truncated) s.literal(" truncated");
}

}  // namespace ctsim
