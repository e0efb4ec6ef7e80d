#include "sim/world/rss_toeplitz.h"

#include <cstring>

#include "core/nf_conntrack_common.h"

namespace ctsim {

uint32_t toeplitz_hash(const uint8_t* input, size_t len) {
  // The key is 0x6d5a repeated: the 32-bit window at any even bit offset is
  // 0x6d5a6d5a rotated, so it is computed on the fly for any length.
  auto key_byte = [](size_t i) -> uint8_t { return (i % 2 == 0) ? 0x6d : 0x5a; };
  uint32_t window = 0x6d5a6d5a;  // key bits 0..31
  uint32_t result = 0;
  for (size_t i = 0; i < len; ++i) {
    const uint8_t next = key_byte(i + 4);
    for (int b = 7; b >= 0; --b) {
      if (input[i] & (1u << b)) result ^= window;
      window = (window << 1) | ((next >> b) & 1u);
    }
  }
  return result;
}

uint32_t rss_hash(const ctcore::Packet& p) {
  uint8_t in[36];
  const size_t alen = p.l3num == ctcore::NFPROTO_IPV6 ? 16 : 4;
  std::memcpy(in, p.saddr.all, alen);
  std::memcpy(in + alen, p.daddr.all, alen);
  size_t len = 2 * alen;
  switch (p.protonum) {
    case ctcore::IPPROTO_TCP_:
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
    case ctcore::IPPROTO_SCTP_:
    case ctcore::IPPROTO_DCCP_:
      if (p.truncated) break;
      in[len++] = static_cast<uint8_t>(p.sport >> 8);
      in[len++] = static_cast<uint8_t>(p.sport);
      in[len++] = static_cast<uint8_t>(p.dport >> 8);
      in[len++] = static_cast<uint8_t>(p.dport);
      break;
    default: break;
  }
  return toeplitz_hash(in, len);
}

}  // namespace ctsim
