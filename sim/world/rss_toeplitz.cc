#include "sim/world/rss_toeplitz.h"

#include <cstring>

#include "core/nf_conntrack_common.h"

namespace ctsim {

namespace {

// The symmetric key is 0x6d5a repeated: key byte i is 0x6d for even i and
// 0x5a for odd i, so the 32-bit window (key bits 8i..8i+31) at the start of
// input byte i is 0x6d5a6d5a or 0x5a6d5a6d by i's parity alone, and so is
// the whole contribution of the byte: what each of its set bits XORs into
// the hash. Both parities' contributions of all 256 byte values make a
// 2 KiB table, built once at compile time; a hash is then one lookup per
// input byte instead of eight shift-and-test steps.
constexpr uint8_t key_byte(size_t i) { return (i % 2 == 0) ? 0x6d : 0x5a; }

// What byte value `v` at an input byte of parity `parity` XORs into the
// hash: the per-bit definition (input bit k selects key bits k..k+31).
constexpr uint32_t byte_contribution(size_t parity, uint8_t v) {
  uint32_t window = static_cast<uint32_t>(key_byte(parity)) << 24 | static_cast<uint32_t>(key_byte(parity + 1)) << 16 |
                    static_cast<uint32_t>(key_byte(parity + 2)) << 8 | key_byte(parity + 3);
  const uint8_t next = key_byte(parity + 4);
  uint32_t result = 0;
  for (int b = 7; b >= 0; --b) {
    if (v & (1u << b)) result ^= window;
    window = (window << 1) | ((next >> b) & 1u);
  }
  return result;
}

struct ContributionTable {
  uint32_t by_parity[2][256];
};

constexpr ContributionTable make_table() {
  ContributionTable t{};
  for (size_t parity = 0; parity < 2; ++parity)
    for (unsigned v = 0; v < 256; ++v) t.by_parity[parity][v] = byte_contribution(parity, static_cast<uint8_t>(v));
  return t;
}

constexpr ContributionTable kTable = make_table();

static_assert(kTable.by_parity[0][0x80] == 0x6d5a6d5au, "input bit 0 selects key bits 0..31");
static_assert(kTable.by_parity[1][0x80] == 0x5a6d5a6du, "input bit 8 selects key bits 8..39");

}  // namespace

uint32_t toeplitz_hash(const uint8_t* input, size_t len) {
  uint32_t result = 0;
  for (size_t i = 0; i < len; ++i) result ^= kTable.by_parity[i & 1][input[i]];
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
