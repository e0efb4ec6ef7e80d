#include "sim/scenario/inet_checksum.h"

#include <array>
#include <bit>
#include <cstring>

namespace ctsim {

uint32_t csum_partial(const uint8_t* data, size_t len, uint32_t sum) {
  // 32-bit big-endian words into a 64-bit accumulator, two per load: the
  // one's-complement sum does not depend on the word size once folded, and
  // no carry is lost for any datagram (2^32 words before it could overflow).
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 7 < len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);  // network order
    s += (w >> 32) + (w & 0xffffffffu);
  }
  for (; i + 1 < len; i += 2) s += static_cast<uint32_t>(data[i]) << 8 | data[i + 1];
  if (i < len) s += static_cast<uint32_t>(data[i]) << 8;
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t csum_pseudo(const uint8_t* saddr, const uint8_t* daddr, size_t n, uint8_t proto, uint32_t l4len) {
  uint32_t s = csum_partial(saddr, n, 0);
  s = csum_partial(daddr, n, s);
  uint64_t t = static_cast<uint64_t>(s) + proto + (l4len >> 16) + (l4len & 0xffff);
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
