// Decoding a captured frame into a Packet (sim/scenario/packet_wire.h).
#include <algorithm>
#include <cstring>

#include "core/nf_conntrack_common.h"
#include "sim/scenario/inet_checksum.h"
#include "sim/scenario/packet_wire.h"

namespace ctsim {

using ctcore::Packet;

namespace {

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return static_cast<uint32_t>(get16(p)) << 16 | get16(p + 2); }

ctcore::nf_inet_addr addr_from(const uint8_t* b, size_t n) {
  ctcore::nf_inet_addr a;
  std::memcpy(a.all, b, n);
  return a;
}

bool icmp_error_type(uint8_t type, bool v6) {
  if (v6) return type >= 1 && type <= 4;
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// The header an ICMP error quotes: an IP header and (at least) the first 8
// bytes of its layer-4 header. False when too little of it is there (the
// kernel then finds no inner tuple).
bool decode_inner(const uint8_t* d, size_t n, ctcore::InnerHeader* in) {
  size_t hl;
  if (n >= 1 && (d[0] >> 4) == 4) {
    if (n < 20) return false;
    hl = static_cast<size_t>(d[0] & 0x0f) * 4;
    if (hl < 20 || n < hl + 8) return false;
    in->l3num = ctcore::NFPROTO_IPV4;
    in->protonum = d[9];
    in->saddr = addr_from(d + 12, 4);
    in->daddr = addr_from(d + 16, 4);
  } else if (n >= 1 && (d[0] >> 4) == 6) {
    hl = 40;
    if (n < hl + 8) return false;
    in->l3num = ctcore::NFPROTO_IPV6;
    in->protonum = d[6];
    in->saddr = addr_from(d + 8, 16);
    in->daddr = addr_from(d + 24, 16);
  } else {
    return false;
  }
  const uint8_t* l4 = d + hl;
  switch (in->protonum) {
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_:
      in->icmp_type = l4[0];
      in->icmp_code = l4[1];
      in->sport = get16(l4 + 4);
      break;
    case ctcore::IPPROTO_GRE_:
      if ((get16(l4) & 0x7) == 1) in->gre_key = get16(l4 + 6);
      break;
    default:
      in->sport = get16(l4);
      in->dport = get16(l4 + 2);
      break;
  }
  return true;
}

// Reads the layer-4 header of `p.protonum` from `l4` (`len` bytes as the IP
// header says, `cap` of them captured). `sum` is the pseudo-header sum
// (unused for ICMPv4, SCTP and GRE).
FrameSkip decode_l4(const uint8_t* l4, size_t len, size_t cap, uint32_t sum, Packet* p) {
  const bool v6 = p->l3num == ctcore::NFPROTO_IPV6;
  size_t hlen = 0;  // the fixed header's length: a shorter one is truncated
  switch (p->protonum) {
    case ctcore::IPPROTO_TCP_: hlen = 20; break;
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_: hlen = 8; break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: hlen = 8; break;
    case ctcore::IPPROTO_GRE_: hlen = 4; break;
    case ctcore::IPPROTO_SCTP_: hlen = 12; break;
    case ctcore::IPPROTO_DCCP_: hlen = 12; break;
    default: p->len = static_cast<uint32_t>(len); return FrameSkip::kNone;
  }
  if (len < hlen) {  // the datagram itself is short: conntrack sees that
    p->truncated = true;
    if (len >= 4 && cap >= 4 && p->protonum != ctcore::IPPROTO_ICMP_ && p->protonum != ctcore::IPPROTO_ICMPV6_) {
      p->sport = get16(l4);
      p->dport = get16(l4 + 2);
    }
    return FrameSkip::kNone;
  }
  if (cap < hlen) return FrameSkip::kSnaplen;
  const bool complete = cap == len;
  switch (p->protonum) {
    case ctcore::IPPROTO_TCP_: {
      p->sport = get16(l4);
      p->dport = get16(l4 + 2);
      p->seq = get32(l4 + 4);
      p->ack_seq = get32(l4 + 8);
      const size_t doff = static_cast<size_t>(l4[12] >> 4) * 4;
      p->tcp_flags = l4[13];
      p->window = get16(l4 + 14);
      if (doff < 20 || doff > len) {  // tcp_error: "truncated packet"
        p->truncated = true;
        return FrameSkip::kNone;
      }
      if (cap < doff) return FrameSkip::kSnaplen;
      // Options: MSS, SACK-permitted, window scale (what tcp_options reads).
      for (size_t i = 20; i < doff;) {
        const uint8_t kind = l4[i];
        if (kind == 0) break;
        if (kind == 1) {
          ++i;
          continue;
        }
        if (i + 1 >= doff) break;
        const uint8_t olen = l4[i + 1];
        if (olen < 2 || i + olen > doff) break;
        if (kind == 2 && olen == 4) p->mss = get16(l4 + i + 2);
        if (kind == 3 && olen == 3) p->wscale = static_cast<int8_t>(l4[i + 2]);
        if (kind == 4 && olen == 2) p->sackok = true;
        i += olen;
      }
      p->len = static_cast<uint32_t>(len - doff);
      if (complete) p->bad_checksum = csum_fold(csum_partial(l4, len, sum)) != 0;
      return FrameSkip::kNone;
    }
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_: {
      p->sport = get16(l4);
      p->dport = get16(l4 + 2);
      p->len = static_cast<uint32_t>(len - 8);
      const uint16_t field = get16(l4 + 4);
      const uint16_t check = get16(l4 + 6);
      if (p->protonum == ctcore::IPPROTO_UDP_) {
        // udp_error: the length field must fit the datagram.
        if (field < 8 || field > len) {
          p->truncated = true;
          return FrameSkip::kNone;
        }
        if (complete && (check != 0 || v6)) p->bad_checksum = csum_fold(csum_partial(l4, field, sum)) != 0;
      } else {
        // udplite_error: coverage 0 = all; a coverage beyond the datagram or
        // below the header is malformed, which the notation calls truncated.
        const size_t cov = field == 0 ? len : field;
        if (cov < 8 || cov > len) {
          p->truncated = true;
          return FrameSkip::kNone;
        }
        if (complete) {
          // The pseudo-header holds the datagram's length, not the coverage,
          // and the protocol: RFC 3828's 136 (what `sum` holds), or 17, the
          // one conntrack verifies with (`csum17`, core/packet.h). Adding
          // 0xffff - 136 takes 136 out of the one's-complement sum.
          // (A pseudo-header sum is far below 2^32: no carry is lost.)
          const uint32_t sum17 = sum + (0xffffu - ctcore::IPPROTO_UDPLITE_) + ctcore::IPPROTO_UDP_;
          if (check == 0) {
            p->bad_checksum = true;
          } else if (csum_fold(csum_partial(l4, cov, sum)) != 0) {
            p->udplite_csum17 = csum_fold(csum_partial(l4, cov, sum17)) == 0;
            p->bad_checksum = !p->udplite_csum17;
          }
        }
      }
      return FrameSkip::kNone;
    }
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: {
      p->icmp_type = l4[0];
      p->icmp_code = l4[1];
      if (complete) {
        const uint32_t s = p->protonum == ctcore::IPPROTO_ICMP_ ? 0 : sum;
        p->bad_checksum = csum_fold(csum_partial(l4, len, s)) != 0;
      }
      if (icmp_error_type(p->icmp_type, p->protonum == ctcore::IPPROTO_ICMPV6_)) {
        p->has_inner = decode_inner(l4 + 8, cap - 8, &p->inner);
        p->len = 0;
      } else {
        p->icmp_id = get16(l4 + 4);
        p->icmp_seq = get16(l4 + 6);
        p->len = static_cast<uint32_t>(len - 8);
      }
      return FrameSkip::kNone;
    }
    case ctcore::IPPROTO_GRE_: {
      const uint16_t flags = get16(l4);
      size_t h = 4;
      if ((flags & 0x7) == 1) {  // PPTP: key present, the call id in its low half
        if (len < 8) {
          p->truncated = true;
          return FrameSkip::kNone;
        }
        if (cap < 8) return FrameSkip::kSnaplen;
        p->gre_key = get16(l4 + 6);
        h = 8;
      }
      p->len = static_cast<uint32_t>(len - h);
      return FrameSkip::kNone;
    }
    case ctcore::IPPROTO_SCTP_: {
      p->sport = get16(l4);
      p->dport = get16(l4 + 2);
      p->sctp_vtag = get32(l4 + 4);
      if (complete) {
        // The CRC is stored least significant byte first.
        const uint32_t want = static_cast<uint32_t>(l4[8]) | static_cast<uint32_t>(l4[9]) << 8 |
                              static_cast<uint32_t>(l4[10]) << 16 | static_cast<uint32_t>(l4[11]) << 24;
        // The CRC over the packet with its checksum field zeroed.
        static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
        const uint32_t crc = crc32c(l4 + 12, len - 12, crc32c(kZero, 4, crc32c(l4, 8)));
        p->bad_checksum = crc != want;
      }
      bool first = true;
      size_t i = 12;
      for (; i + 4 <= cap;) {
        const uint8_t type = l4[i];
        const uint16_t clen = get16(l4 + i + 2);
        if (first) p->sctp_first_chunk = type;
        first = false;
        if (type < 32) p->sctp_chunks |= 1u << type;
        if ((type == 1 || type == 2) && clen >= 8 && i + 8 <= cap) p->sctp_init_tag = get32(l4 + i + 4);
        if (clen < 4) {  // do_basic_checks: a zero-length chunk is malformed
          p->truncated = true;
          break;
        }
        i += (static_cast<size_t>(clen) + 3) & ~size_t{3};
      }
      p->len = 0;
      return FrameSkip::kNone;
    }
    case ctcore::IPPROTO_DCCP_: {
      p->sport = get16(l4);
      p->dport = get16(l4 + 2);
      const size_t doff = static_cast<size_t>(l4[4]) * 4;
      const uint8_t cscov = l4[5] & 0x0f;
      p->dccp_type = static_cast<uint8_t>((l4[8] >> 1) & 0x0f);
      const bool x = l4[8] & 1;
      const size_t need = x ? 16 : 12;
      const bool has_ack = p->dccp_type != 0 && p->dccp_type != 2;
      const size_t need_ack = need + (has_ack ? 8 : 0);
      if (doff < need_ack || doff > len || len < need_ack) {  // dccp_error: bad data offset
        p->truncated = true;
        return FrameSkip::kNone;
      }
      if (cap < need_ack) return FrameSkip::kSnaplen;
      if (x) {
        p->dccp_seq = static_cast<uint64_t>(get16(l4 + 10)) << 32 | get32(l4 + 12);
        if (has_ack) p->dccp_ack = static_cast<uint64_t>(get16(l4 + 18)) << 32 | get32(l4 + 20);
      } else {
        p->dccp_seq = static_cast<uint64_t>(l4[9]) << 16 | get16(l4 + 10);
        if (has_ack) p->dccp_ack = static_cast<uint64_t>(l4[13]) << 16 | get16(l4 + 14);
      }
      if (complete) {
        const size_t cov = cscov == 0 ? len : std::min(len, doff + (cscov - 1u) * 4);
        p->bad_checksum = csum_fold(csum_partial(l4, cov, sum)) != 0;
      }
      p->len = static_cast<uint32_t>(len - doff);
      return FrameSkip::kNone;
    }
    default: return FrameSkip::kNone;
  }
}

}  // namespace

FrameSkip decode_ip(const uint8_t* d, size_t cap, bool complete, Packet* p) {
  // Copied from a default packet: `*p = Packet{}` zeroes a temporary with
  // `rep stos` first, per packet, which the profile showed as a tenth of a
  // replay's decoding.
  static const Packet kDefault{};
  *p = kDefault;
  if (cap < 1) return FrameSkip::kIpHeader;
  const uint8_t version = d[0] >> 4;
  uint8_t s[16], t[16];
  if (version == 4) {
    if (cap < 20) return FrameSkip::kIpHeader;
    const size_t hl = static_cast<size_t>(d[0] & 0x0f) * 4;
    const size_t tot = get16(d + 2);
    if (hl < 20 || cap < hl || tot < hl) return FrameSkip::kIpHeader;
    // ip_rcv: a bad header checksum never reaches conntrack.
    if (ip_fast_csum(d, static_cast<unsigned>(hl / 4)) != 0) return FrameSkip::kIpHeader;
    if (complete && tot > cap) return FrameSkip::kIpLength;
    if ((get16(d + 6) & 0x3fff) != 0) return FrameSkip::kFragment;  // MF or an offset
    p->l3num = ctcore::NFPROTO_IPV4;
    p->protonum = d[9];
    std::memcpy(s, d + 12, 4);
    std::memcpy(t, d + 16, 4);
    p->saddr = addr_from(s, 4);
    p->daddr = addr_from(t, 4);
    const size_t l4cap = std::min(cap, tot) - hl;
    return decode_l4(d + hl, tot - hl, l4cap, csum_pseudo(s, t, 4, p->protonum, static_cast<uint32_t>(tot - hl)), p);
  }
  if (version == 6) {
    if (cap < 40) return FrameSkip::kIpHeader;
    const size_t tot = 40 + static_cast<size_t>(get16(d + 4));
    if (complete && tot > cap) return FrameSkip::kIpLength;
    p->l3num = ctcore::NFPROTO_IPV6;
    std::memcpy(s, d + 8, 16);
    std::memcpy(t, d + 24, 16);
    p->saddr = addr_from(s, 16);
    p->daddr = addr_from(t, 16);
    // Extension headers up to the layer-4 one (ipv6_skip_exthdr).
    uint8_t next = d[6];
    size_t off = 40;
    for (;;) {
      if (next == 44) return FrameSkip::kFragment;
      if (next != 0 && next != 43 && next != 60 && next != 51) break;
      if (off + 8 > std::min(cap, tot)) return FrameSkip::kIpHeader;
      const size_t elen =
          next == 51 ? (static_cast<size_t>(d[off + 1]) + 2) * 4 : (static_cast<size_t>(d[off + 1]) + 1) * 8;
      next = d[off];
      off += elen;
      if (off > tot) return FrameSkip::kIpHeader;
    }
    p->protonum = next;
    const size_t l4cap = std::min(cap, tot) >= off ? std::min(cap, tot) - off : 0;
    return decode_l4(d + off, tot - off, l4cap, csum_pseudo(s, t, 16, next, static_cast<uint32_t>(tot - off)), p);
  }
  return FrameSkip::kNotIp;
}

bool link_type_supported(int linktype) {
  switch (linktype) {
    case kLinkNull:
    case kLinkEthernet:
    case kLinkRaw:
    case 12:  // DLT_RAW as libpcap reports LINKTYPE_RAW on Linux
    case 14:  // DLT_RAW on some BSDs
    case kLinkLoop:
    case kLinkLinuxSll:
    case kLinkIpv4:
    case kLinkIpv6:
    case kLinkLinuxSll2: return true;
    default: return false;
  }
}

FrameSkip decode_frame(int linktype, const uint8_t* f, size_t caplen, size_t wirelen, CookedDirection dir,
                       Packet* out) {
  size_t off = 0;
  uint16_t ethertype = 0;  // 0: the IP version nibble says
  switch (linktype) {
    case kLinkEthernet:
      off = 14;
      if (caplen < off) return FrameSkip::kLinkHeader;
      ethertype = get16(f + 12);
      // 802.1Q, 802.1ad (QinQ) and the old 0x9100 tag: 4 bytes each.
      while (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) {
        if (caplen < off + 4) return FrameSkip::kLinkHeader;
        ethertype = get16(f + off + 2);
        off += 4;
      }
      break;
    case kLinkLinuxSll: {
      off = 16;
      if (caplen < off) return FrameSkip::kLinkHeader;
      const bool outgoing = get16(f) == 4;  // PACKET_OUTGOING
      if (outgoing != (dir == CookedDirection::kOutgoing)) return FrameSkip::kOutgoing;
      ethertype = get16(f + 14);
      break;
    }
    case kLinkLinuxSll2: {
      off = 20;
      if (caplen < off) return FrameSkip::kLinkHeader;
      const bool outgoing = f[10] == 4;  // PACKET_OUTGOING
      if (outgoing != (dir == CookedDirection::kOutgoing)) return FrameSkip::kOutgoing;
      ethertype = get16(f);
      break;
    }
    case kLinkNull:
    case kLinkLoop:
      off = 4;
      if (caplen < off) return FrameSkip::kLinkHeader;
      break;
    case kLinkRaw:
    case 12:
    case 14:
    case kLinkIpv4:
    case kLinkIpv6: break;
    default: return FrameSkip::kUnsupportedLink;
  }
  if (ethertype != 0 && ethertype != 0x0800 && ethertype != 0x86dd) return FrameSkip::kNotIp;
  if (caplen == off) return FrameSkip::kIpHeader;
  const uint8_t version = f[off] >> 4;
  if (version != 4 && version != 6) return FrameSkip::kNotIp;
  return decode_ip(f + off, caplen - off, caplen == wirelen, out);
}

}  // namespace ctsim
