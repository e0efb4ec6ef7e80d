#include "sim/scenario/inet_checksum.h"

#include <array>
#include <bit>
#include <cstring>

namespace ctsim {

namespace {

// Four 32-bit lanes, a vector in the compiler's own extension (SSE2 on
// x86-64, NEON on arm64, plain words elsewhere): the same arithmetic, so
// the same bits, on every machine.
using Lanes = uint32_t __attribute__((vector_size(16)));

// The sum of `steps` 32-byte steps from `data` as host-order 16-bit words,
// by lane. Each 16 bytes adds at most 2 x 0xffff to a lane: 16,384 steps
// (512 KiB) cannot carry out of one (2^16 x 0x1fffe < 2^32).
constexpr size_t kMaxLaneSteps = 16384;
inline uint64_t sum_steps(const uint8_t* data, size_t steps) {
  Lanes acc_a = {0, 0, 0, 0};
  Lanes acc_b = {0, 0, 0, 0};
  for (size_t k = 0; k < steps; ++k, data += 32) {
    Lanes a;
    Lanes b;
    std::memcpy(&a, data, 16);
    std::memcpy(&b, data + 16, 16);
    acc_a += (a & 0xffff) + (a >> 16);
    acc_b += (b & 0xffff) + (b >> 16);
  }
  uint64_t s = 0;
  for (int l = 0; l < 4; ++l) s += static_cast<uint64_t>(acc_a[l]) + acc_b[l];
  return s;
}

}  // namespace

uint32_t csum_partial(const uint8_t* data, size_t len, uint32_t sum) {
  // The bulk, 32 bytes a step (then 8, then 4), as host-order 16-bit words
  // in vector lanes, with no byte swap per load: by RFC 1071's byte-order
  // independence the sum of byte-swapped words, folded, is the
  // byte-swapped sum. So the bulk is folded to 16 bits and swapped once
  // into network order. Its folded value is 0 only if all its bytes are,
  // so csum_fold of the total is what the network-order sum of every word
  // would give. (A whole 198-byte TCP frame's segment is five steps.)
  uint64_t bulk = 0;
  size_t i = 0;
  for (size_t steps = (len - i) / 32; steps != 0; steps = (len - i) / 32) {
    const size_t now = steps < kMaxLaneSteps ? steps : kMaxLaneSteps;
    bulk += sum_steps(data + i, now);
    i += now * 32;
  }
  // The last 31 bytes at most: 16, 8 and 4 as host-order 32-bit words
  // (their halves add up to the same folded sum as their 16-bit words).
  if (i + 15 < len) {
    uint64_t a;
    uint64_t b;
    std::memcpy(&a, data + i, 8);
    std::memcpy(&b, data + i + 8, 8);
    bulk += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32);
    i += 16;
  }
  if (i + 7 < len) {
    uint64_t a;
    std::memcpy(&a, data + i, 8);
    bulk += (a & 0xffffffffu) + (a >> 32);
    i += 8;
  }
  if (i + 3 < len) {
    uint32_t a;
    std::memcpy(&a, data + i, 4);
    bulk += a;
    i += 4;
  }
  while (bulk >> 16) bulk = (bulk & 0xffff) + (bulk >> 16);
  if constexpr (std::endian::native == std::endian::little) bulk = __builtin_bswap16(static_cast<uint16_t>(bulk));
  uint64_t s = static_cast<uint64_t>(sum) + bulk;
  // The last 3 bytes at most (i is even: its words are the datagram's
  // 16-bit words).
  for (; i + 1 < len; i += 2) s += static_cast<uint32_t>(data[i]) << 8 | data[i + 1];
  if (i < len) s += static_cast<uint32_t>(data[i]) << 8;
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t ip_fast_csum(const uint8_t* iph, unsigned ihl) {
  // Host-order 32-bit words, folded, then swapped once into network order
  // (csum_partial's bulk argument). 15 words cannot carry out of 64 bits.
  uint64_t s = 0;
  for (unsigned k = 0; k < ihl; ++k) {
    uint32_t w;
    std::memcpy(&w, iph + 4 * k, 4);
    s += w;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t folded = static_cast<uint16_t>(s);
  if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
  return static_cast<uint16_t>(~folded & 0xffff);
}

uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t csum_pseudo(const uint8_t* saddr, const uint8_t* daddr, size_t n, uint8_t proto, uint32_t l4len) {
  // The addresses are 4 or 16 bytes: host-order 32-bit words, folded and
  // swapped once, as csum_partial's bulk (once per packet: no loop setup).
  uint64_t addrs = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, saddr + i, 4);
    std::memcpy(&b, daddr + i, 4);
    addrs += static_cast<uint64_t>(a) + b;
  }
  while (addrs >> 16) addrs = (addrs & 0xffff) + (addrs >> 16);
  if constexpr (std::endian::native == std::endian::little) addrs = __builtin_bswap16(static_cast<uint16_t>(addrs));
  uint64_t t = addrs + proto + (l4len >> 16) + (l4len & 0xffff);
  while (t >> 32) t = (t & 0xffffffffu) + (t >> 32);
  return static_cast<uint32_t>(t);
}

namespace {

// The reflected CRC32c table (polynomial 0x82F63B78), built at compile time.
constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < len; ++i) c = kCrc32cTable[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace ctsim
