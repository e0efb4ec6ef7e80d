// lookup3 as in include/linux/jhash.h; written from the published algorithm.
#include "core/jhash.h"

#include "core/nf_conntrack_common.h"

namespace ctcore {
namespace {

// The reversible mixing step applied after every three words.
inline uint32_t load_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

uint32_t jhash(const void* key, uint32_t length, uint32_t initval) {
  const uint8_t* k = static_cast<const uint8_t*>(key);
  uint32_t a, b, c;
  a = b = c = JHASH_INITVAL + length + initval;
  while (length > 12) {
    a += load_le32(k);
    b += load_le32(k + 4);
    c += load_le32(k + 8);
    detail::jhash_mix(a, b, c);
    length -= 12;
    k += 12;
  }
  if (length == 0) return c;
  // Tail of 1..12 bytes: byte i goes into word i/4 at shift 8*(i%4).
  uint32_t* words[3] = {&a, &b, &c};
  for (uint32_t i = 0; i < length; ++i) {
    *words[i / 4] += static_cast<uint32_t>(k[i]) << (8 * (i % 4));
  }
  detail::jhash_final(a, b, c);
  return c;
}

uint32_t jhash_3words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval) {
  a += initval + JHASH_INITVAL + (3 << 2);
  b += initval + JHASH_INITVAL + (3 << 2);
  c += initval + JHASH_INITVAL + (3 << 2);
  detail::jhash_final(a, b, c);
  return c;
}

uint32_t jhash_2words(uint32_t a, uint32_t b, uint32_t initval) {
  uint32_t c = 0;
  a += initval + JHASH_INITVAL + (2 << 2);
  b += initval + JHASH_INITVAL + (2 << 2);
  c += initval + JHASH_INITVAL + (2 << 2);
  detail::jhash_final(a, b, c);
  return c;
}

uint32_t jhash_1word(uint32_t a, uint32_t initval) {
  uint32_t b = 0, c = 0;
  a += initval + JHASH_INITVAL + (1 << 2);
  b += initval + JHASH_INITVAL + (1 << 2);
  c += initval + JHASH_INITVAL + (1 << 2);
  detail::jhash_final(a, b, c);
  return c;
}

}  // namespace ctcore
