// Writing packets and tuples in the notation (the trace's `pkt` and tuple
// strings). This runs for every traced packet: it appends to a reused
// buffer and formats numbers without allocating.
#include <fmt/compile.h>
#include <fmt/format.h>

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

// Appends an address: IPv4 by hand (this runs for every traced packet),
// IPv6 through inet_ntop (its zero compression is the standard text form).
void append_address(std::string& s, uint16_t l3num, const nf_inet_addr& a) {
  if (l3num == ctcore::NFPROTO_IPV6) {
    s += format_address(l3num, a);
    return;
  }
  for (int i = 0; i < 4; ++i) {
    if (i) s += '.';
    const fmt::format_int b(static_cast<uint8_t>(a.all[0] >> (8 * i)));
    s.append(b.data(), b.size());
  }
}

void append_endpoint(std::string& s, uint16_t l3num, const nf_inet_addr& a, bool ports, uint16_t port) {
  const bool v6 = l3num == ctcore::NFPROTO_IPV6;
  if (ports && v6) s += '[';
  append_address(s, l3num, a);
  if (!ports) return;
  if (v6) s += ']';
  s += ':';
  const fmt::format_int p(port);
  s.append(p.data(), p.size());
}

std::string endpoint(uint16_t l3num, const nf_inet_addr& a, bool ports, uint16_t port) {
  std::string s;
  append_endpoint(s, l3num, a, ports, port);
  return s;
}

// Appends "PROTO SRC > DST", the head of every tuple and packet.
void append_head(std::string& s, uint8_t protonum, uint16_t l3num, const nf_inet_addr& src, uint16_t sport,
                 const nf_inet_addr& dst, uint16_t dport, bool ports) {
  s += protocol_word(protonum);
  s += ' ';
  append_endpoint(s, l3num, src, ports, sport);
  s += " > ";
  append_endpoint(s, l3num, dst, ports, dport);
}

std::string icmp_words(uint8_t type, uint8_t code, bool v6) {
  if (const char* n = icmp_type_name(type, code, v6)) return n;
  return fmt::format("type {} code {}", type, code);
}

}  // namespace

std::string format_tuple(const nf_conntrack_tuple& t) {
  std::string s;
  append_tuple_notation(s, t);
  return s;
}

void append_tuple_notation(std::string& s, const nf_conntrack_tuple& t) {
  const uint8_t p = t.dst.protonum;
  const bool ports = has_ports(p);
  append_head(s, p, t.src.l3num, t.src.u3, t.sport(), t.dst.u3, t.dport(), ports);
  if (p == ctcore::IPPROTO_ICMP_ || p == ctcore::IPPROTO_ICMPV6_) {
    fmt::format_to(std::back_inserter(s), FMT_COMPILE(" {} id {}"),
                   icmp_words(t.icmp_type(), t.icmp_code(), p == ctcore::IPPROTO_ICMPV6_), t.icmp_id());
  } else if (p == ctcore::IPPROTO_GRE_) {
    fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), ctcore::raw_be16(t.src.u_all));
  }
}

std::string format_tcp_flags(uint8_t f) {
  if (f == 0) return "none";
  std::string s;
  const std::pair<uint8_t, char> kOrder[] = {
      {ctcore::TCPHDR_SYN, 'S'}, {ctcore::TCPHDR_FIN, 'F'}, {ctcore::TCPHDR_RST, 'R'}, {ctcore::TCPHDR_PSH, 'P'},
      {ctcore::TCPHDR_ACK, 'A'}, {ctcore::TCPHDR_URG, 'U'}, {ctcore::TCPHDR_ECE, 'E'}, {ctcore::TCPHDR_CWR, 'C'}};
  for (auto [bit, c] : kOrder)
    if (f & bit) s += c;
  return s;
}

std::string format_packet(const Packet& p) {
  std::string s;
  append_packet_notation(s, p);
  return s;
}

void append_packet_notation(std::string& s, const Packet& p) {
  const bool ports = has_ports(p.protonum);
  append_head(s, p.protonum, p.l3num, p.saddr, p.sport, p.daddr, p.dport, ports);
  switch (p.protonum) {
    case ctcore::IPPROTO_TCP_:
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" flags {} seq {}"), format_tcp_flags(p.tcp_flags), p.seq);
      if ((p.tcp_flags & ctcore::TCPHDR_ACK) || p.ack_seq != 0)
        fmt::format_to(std::back_inserter(s), FMT_COMPILE(" ack {}"), p.ack_seq);
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" win {}"), p.window);
      if (p.len) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
      if (p.wscale >= 0) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" wscale {}"), p.wscale);
      if (p.sackok) s += " sackok";
      if (p.mss) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" mss {}"), p.mss);
      break;
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
      if (p.len) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
      break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: {
      const bool v6 = p.protonum == ctcore::IPPROTO_ICMPV6_;
      s += ' ';
      s += icmp_words(p.icmp_type, p.icmp_code, v6);
      if (!p.has_inner || p.icmp_id != 0) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" id {}"), p.icmp_id);
      if (p.icmp_seq) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" seq {}"), p.icmp_seq);
      if (p.has_inner) {
        const InnerHeader& in = p.inner;
        const bool iports = has_ports(in.protonum);
        fmt::format_to(std::back_inserter(s), FMT_COMPILE(" [{} {} > {}"), protocol_word(in.protonum),
                       endpoint(in.l3num, in.saddr, iports, in.sport), endpoint(in.l3num, in.daddr, iports, in.dport));
        if (in.protonum == ctcore::IPPROTO_ICMP_ || in.protonum == ctcore::IPPROTO_ICMPV6_)
          fmt::format_to(std::back_inserter(s), FMT_COMPILE(" {} id {}"),
                         icmp_words(in.icmp_type, in.icmp_code, in.protonum == ctcore::IPPROTO_ICMPV6_), in.sport);
        else if (in.protonum == ctcore::IPPROTO_GRE_)
          fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), in.gre_key);
        s += "]";
      }
      break;
    }
    case ctcore::IPPROTO_GRE_: fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), p.gre_key); break;
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
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" chunks {} vtag {}"), chunks.empty() ? "none" : chunks,
                     p.sctp_vtag);
      if (p.sctp_chunks & (ctcore::SCTP_CHUNK_INIT | ctcore::SCTP_CHUNK_INIT_ACK))
        fmt::format_to(std::back_inserter(s), FMT_COMPILE(" init_tag {}"), p.sctp_init_tag);
      break;
    }
    case ctcore::IPPROTO_DCCP_:
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" type {}"),
                     p.dccp_type < 10 ? kDccpTypes[p.dccp_type] : "INVALID");
      if (p.dccp_seq) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" seq {}"), p.dccp_seq);
      if (p.dccp_ack) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" ack {}"), p.dccp_ack);
      break;
    default: break;
  }
  const bool len_written = p.protonum == ctcore::IPPROTO_TCP_ || p.protonum == ctcore::IPPROTO_UDP_ ||
                           p.protonum == ctcore::IPPROTO_UDPLITE_;
  if (p.len && !len_written) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
  if (p.bad_checksum) s += " badsum";
  if (p.truncated) s += " truncated";
}

}  // namespace ctsim
