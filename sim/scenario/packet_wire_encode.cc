// Encoding a Packet into the bytes of an IP datagram (sim/scenario/packet_wire.h).
#include <cstring>

#include "core/nf_conntrack_common.h"
#include "sim/scenario/inet_checksum.h"
#include "sim/scenario/packet_wire.h"

namespace ctsim {

using ctcore::Packet;

namespace {

void put16(std::string* o, uint16_t v) {
  o->push_back(static_cast<char>(v >> 8));
  o->push_back(static_cast<char>(v));
}
void put32(std::string* o, uint32_t v) {
  put16(o, static_cast<uint16_t>(v >> 16));
  put16(o, static_cast<uint16_t>(v));
}
void put8(std::string* o, uint8_t v) { o->push_back(static_cast<char>(v)); }
void set16(std::string* o, size_t at, uint16_t v) {
  (*o)[at] = static_cast<char>(v >> 8);
  (*o)[at + 1] = static_cast<char>(v);
}
const uint8_t* bytes(const std::string& s, size_t at = 0) { return reinterpret_cast<const uint8_t*>(s.data()) + at; }

// The address bytes of `a` in network order (4 or 16 of them).
void addr_bytes(const ctcore::nf_inet_addr& a, uint8_t* b) { std::memcpy(b, a.all, sizeof a.all); }

bool is_v6(uint16_t l3num) { return l3num == ctcore::NFPROTO_IPV6; }

// The IP header of a datagram carrying `l4len` bytes of `proto`.
void ip_header(uint16_t l3num, const ctcore::nf_inet_addr& src, const ctcore::nf_inet_addr& dst, uint8_t proto,
               size_t l4len, std::string* o) {
  uint8_t s[16], d[16];
  addr_bytes(src, s);
  addr_bytes(dst, d);
  if (is_v6(l3num)) {
    put32(o, 0x60000000u);
    put16(o, static_cast<uint16_t>(l4len));
    put8(o, proto);
    put8(o, 64);  // hop limit
    o->append(reinterpret_cast<const char*>(s), 16);
    o->append(reinterpret_cast<const char*>(d), 16);
    return;
  }
  const size_t start = o->size();
  put8(o, 0x45);
  put8(o, 0);
  put16(o, static_cast<uint16_t>(20 + l4len));
  put16(o, 0);       // identification: DF is set, so none is needed
  put16(o, 0x4000);  // DF, not a fragment
  put8(o, 64);       // TTL
  put8(o, proto);
  put16(o, 0);
  o->append(reinterpret_cast<const char*>(s), 4);
  o->append(reinterpret_cast<const char*>(d), 4);
  set16(o, start + 10, csum_fold(csum_partial(bytes(*o, start), 20, 0)));
}

// The first 8 bytes of the layer-4 header an ICMP error quotes.
void inner_l4(const ctcore::InnerHeader& in, std::string* o) {
  switch (in.protonum) {
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_:
      put8(o, in.icmp_type);
      put8(o, in.icmp_code);
      put16(o, 0);
      put16(o, in.sport);  // the id
      put16(o, 0);
      return;
    case ctcore::IPPROTO_GRE_:
      put16(o, 0x2001);  // key present, version 1 (PPTP)
      put16(o, 0x880b);
      put16(o, 0);
      put16(o, in.gre_key);
      return;
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
      put16(o, in.sport);
      put16(o, in.dport);
      put16(o, 8);  // length (UDP-Lite: coverage): as short as it may be
      put16(o, 0);
      return;
    default:
      put16(o, in.sport);
      put16(o, in.dport);
      put32(o, 0);
      return;
  }
}

bool icmp_error_type(uint8_t type, bool v6) {
  if (v6) return type >= 1 && type <= 4;
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// The layer-4 header and payload of `p`, checksum field zero; *csum_at is
// where its checksum goes (or npos when it has none ctsim computes).
void l4_bytes(const Packet& p, std::string* o, size_t* csum_at) {
  *csum_at = std::string::npos;
  switch (p.protonum) {
    case ctcore::IPPROTO_TCP_: {
      std::string opt;
      if (p.mss != 0) {
        put8(&opt, 2);
        put8(&opt, 4);
        put16(&opt, p.mss);
      }
      if (p.sackok) {
        put8(&opt, 4);
        put8(&opt, 2);
      }
      if (p.wscale >= 0) {
        put8(&opt, 1);
        put8(&opt, 3);
        put8(&opt, 3);
        put8(&opt, static_cast<uint8_t>(p.wscale));
      }
      while (opt.size() % 4 != 0) put8(&opt, 0);
      put16(o, p.sport);
      put16(o, p.dport);
      put32(o, p.seq);
      put32(o, p.ack_seq);
      put8(o, static_cast<uint8_t>(((20 + opt.size()) / 4) << 4));
      put8(o, p.tcp_flags);
      put16(o, p.window);
      *csum_at = o->size();
      put16(o, 0);
      put16(o, 0);
      *o += opt;
      break;
    }
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
      put16(o, p.sport);
      put16(o, p.dport);
      // UDP: the length; UDP-Lite: the checksum coverage, 0 = all of it.
      put16(o, p.protonum == ctcore::IPPROTO_UDP_ ? static_cast<uint16_t>(8 + p.len) : 0);
      *csum_at = o->size();
      put16(o, 0);
      break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: {
      const bool v6 = p.protonum == ctcore::IPPROTO_ICMPV6_;
      put8(o, p.icmp_type);
      put8(o, p.icmp_code);
      *csum_at = o->size();
      put16(o, 0);
      if (icmp_error_type(p.icmp_type, v6)) {
        put32(o, 0);  // unused (or the MTU of packet-too-big)
        if (p.has_inner) {
          std::string l4;
          inner_l4(p.inner, &l4);
          // The quoted datagram's length as its header said: its first 8
          // layer-4 bytes are all an error carries here.
          ip_header(p.inner.l3num, p.inner.saddr, p.inner.daddr, p.inner.protonum, l4.size(), o);
          *o += l4;
        }
        return;  // an error carries no payload of its own
      }
      put16(o, p.icmp_id);
      put16(o, p.icmp_seq);
      break;
    }
    case ctcore::IPPROTO_GRE_:
      put16(o, 0x2001);  // key present, version 1: PPTP's enhanced GRE
      put16(o, 0x880b);  // PPP
      put16(o, static_cast<uint16_t>(p.len));
      put16(o, p.gre_key);  // the call id
      break;
    case ctcore::IPPROTO_SCTP_: {
      put16(o, p.sport);
      put16(o, p.dport);
      put32(o, p.sctp_vtag);
      *csum_at = o->size();
      put32(o, 0);
      // The first chunk, then the others in type order. A chunk bit is
      // 1 << its type (SctpChunkBit).
      auto chunk = [&](uint8_t type) {
        put8(o, type);
        put8(o, 0);
        if (type == 1 || type == 2) {  // INIT, INIT_ACK: the fixed parameters
          put16(o, 20);
          put32(o, p.sctp_init_tag);
          put32(o, 65536);       // a_rwnd
          put16(o, 1);           // outbound streams
          put16(o, 1);           // inbound streams
          put32(o, 1);           // initial TSN
        } else if (type == 0) {  // DATA: TSN, stream, sequence, PPID
          put16(o, 16);
          put32(o, 1);
          put32(o, 0);
          put32(o, 0);
        } else if (type == 3) {  // SACK: cumulative TSN, a_rwnd, no gaps
          put16(o, 16);
          put32(o, 1);
          put32(o, 65536);
          put32(o, 0);
        } else {
          put16(o, 4);
        }
      };
      const bool any = p.sctp_chunks != 0;
      if (any) chunk(p.sctp_first_chunk);
      for (uint8_t t = 0; t < 32; ++t)
        if ((p.sctp_chunks & (1u << t)) && t != p.sctp_first_chunk) chunk(t);
      break;
    }
    case ctcore::IPPROTO_DCCP_: {
      // Extended (48-bit) sequence numbers; the acknowledgement subheader on
      // every type but REQUEST and DATA; REQUEST and RESPONSE carry a
      // service code, RESET its code.
      const uint8_t t = p.dccp_type;
      const bool has_ack = t != 0 && t != 2;
      const size_t len = 16 + (has_ack ? 8 : 0) + ((t == 0 || t == 1 || t == 7) ? 4 : 0);
      put16(o, p.sport);
      put16(o, p.dport);
      put8(o, static_cast<uint8_t>(len / 4));
      put8(o, 0);  // CCVal 0, CsCov 0: the checksum covers everything
      *csum_at = o->size();
      put16(o, 0);
      put8(o, static_cast<uint8_t>((t << 1) | 1));  // type, X = 1
      put8(o, 0);
      put16(o, static_cast<uint16_t>(p.dccp_seq >> 32));
      put32(o, static_cast<uint32_t>(p.dccp_seq));
      if (has_ack) {
        put16(o, 0);
        put16(o, static_cast<uint16_t>(p.dccp_ack >> 32));
        put32(o, static_cast<uint32_t>(p.dccp_ack));
      }
      if (t == 0 || t == 1 || t == 7) put32(o, 0);
      break;
    }
    default: break;
  }
  o->append(p.len, '\0');
}

}  // namespace

void encode_ip(const Packet& p, std::string* out) {
  std::string l4;
  size_t csum_at;
  l4_bytes(p, &l4, &csum_at);
  const bool v6 = is_v6(p.l3num);
  // UDP-Lite: the checksum the other pseudo-header protocol (17 or 136)
  // would give, which a `badsum` packet must not carry either.
  uint16_t udplite_other = 0;
  if (csum_at != std::string::npos) {
    uint8_t s[16], d[16];
    addr_bytes(p.saddr, s);
    addr_bytes(p.daddr, d);
    if (p.protonum == ctcore::IPPROTO_SCTP_) {
      const uint32_t c = crc32c(bytes(l4), l4.size());
      // CRC32c goes on the wire least significant byte first.
      for (int i = 0; i < 4; ++i) l4[csum_at + i] = static_cast<char>(c >> (8 * i));
    } else {
      // ICMPv4 has no pseudo-header; every other one does. UDP-Lite's holds
      // 136 (RFC 3828) unless the packet is `csum17`: then UDP's 17, the
      // protocol conntrack verifies it with (core/packet.h).
      const uint8_t pseudo_proto = p.udplite_csum17 ? ctcore::IPPROTO_UDP_ : p.protonum;
      uint32_t sum = p.protonum == ctcore::IPPROTO_ICMP_
                         ? 0
                         : csum_pseudo(s, d, v6 ? 16 : 4, pseudo_proto, static_cast<uint32_t>(l4.size()));
      uint16_t c = csum_fold(csum_partial(bytes(l4), l4.size(), sum));
      const bool udp_like = p.protonum == ctcore::IPPROTO_UDP_ || p.protonum == ctcore::IPPROTO_UDPLITE_;
      if (c == 0 && udp_like) c = 0xffff;  // 0 means "no checksum" (UDP-Lite: "checksum missing")
      set16(&l4, csum_at, c);
      if (p.protonum == ctcore::IPPROTO_UDPLITE_) {
        const uint8_t other = p.udplite_csum17 ? ctcore::IPPROTO_UDPLITE_ : ctcore::IPPROTO_UDP_;
        std::string zeroed = l4;
        set16(&zeroed, csum_at, 0);
        udplite_other = csum_fold(csum_partial(
            bytes(zeroed), zeroed.size(), csum_pseudo(s, d, v6 ? 16 : 4, other, static_cast<uint32_t>(l4.size()))));
      }
    }
    if (p.bad_checksum) {
      l4[csum_at] = static_cast<char>(~l4[csum_at]);
      l4[csum_at + 1] = static_cast<char>(~l4[csum_at + 1]);
      // An all-zero UDP checksum would mean "none", which is valid; in
      // UDP-Lite it is "checksum missing", another failure than badsum's.
      const bool zero_means_none =
          (p.protonum == ctcore::IPPROTO_UDP_ && !v6) || p.protonum == ctcore::IPPROTO_UDPLITE_;
      if (l4[csum_at] == 0 && l4[csum_at + 1] == 0 && zero_means_none) l4[csum_at + 1] = 1;
      // The inverse of one UDP-Lite checksum may be the other one (1 in
      // 65535): a bad checksum verifies with neither 136 nor 17.
      const uint16_t v =
          static_cast<uint16_t>(static_cast<uint8_t>(l4[csum_at]) << 8 | static_cast<uint8_t>(l4[csum_at + 1]));
      const bool other_verifies =
          v == udplite_other || (v == 0xffff && udplite_other == 0) || (v == 0 && udplite_other == 0xffff);
      if (p.protonum == ctcore::IPPROTO_UDPLITE_ && other_verifies) {
        l4[csum_at + 1] = static_cast<char>(l4[csum_at + 1] ^ 1);  // one off: verifies with neither
        if (l4[csum_at] == 0 && l4[csum_at + 1] == 0) l4[csum_at + 1] = 2;
      }
    }
  }
  // A truncated packet: its layer-4 header stops after the ports (after 2
  // bytes when it has none).
  if (p.truncated) {
    const bool ports = p.protonum == ctcore::IPPROTO_TCP_ || p.protonum == ctcore::IPPROTO_UDP_ ||
                       p.protonum == ctcore::IPPROTO_UDPLITE_ || p.protonum == ctcore::IPPROTO_SCTP_ ||
                       p.protonum == ctcore::IPPROTO_DCCP_;
    l4.resize(ports ? 4 : 2);
  }
  ip_header(p.l3num, p.saddr, p.daddr, p.protonum, l4.size(), out);
  *out += l4;
}

void encode_ethernet(const Packet& p, uint16_t cpu, std::string* out, uint16_t interface) {
  const uint16_t dst_mark = static_cast<uint16_t>(interface + 1);
  const char dst[6] = {0x02, 0, 0, 0, static_cast<char>(dst_mark >> 8), static_cast<char>(dst_mark)};
  out->append(dst, 6);
  const char src[6] = {0x02, 0, 0, 0, static_cast<char>(cpu >> 8), static_cast<char>(cpu)};
  out->append(src, 6);
  put16(out, is_v6(p.l3num) ? 0x86dd : 0x0800);
  encode_ip(p, out);
}

int ethernet_cpu_mark(int linktype, const uint8_t* f, size_t caplen) {
  if (linktype != kLinkEthernet || caplen < 14) return -1;
  if (f[6] != 0x02 || f[7] != 0 || f[8] != 0 || f[9] != 0) return -1;
  return f[10] << 8 | f[11];
}

int ethernet_interface_mark(int linktype, const uint8_t* f, size_t caplen) {
  if (linktype != kLinkEthernet || caplen < 14) return -1;
  if (f[0] != 0x02 || f[1] != 0 || f[2] != 0 || f[3] != 0) return -1;
  const int mark = f[4] << 8 | f[5];
  return mark - 1;  // 0 (no interface) is -1: not such a frame
}

}  // namespace ctsim
