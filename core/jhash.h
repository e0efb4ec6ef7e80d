// Bob Jenkins' lookup3 hash as the kernel uses it.
//
// Mirrors: include/linux/jhash.h jhash(), jhash2(), jhash_3words() and friends.
// Bit-exact: tests/jhash_test.cc checks every vector of
// tests/data/hash-vectors.json.
//
// jhash() reads its key byte by byte in little-endian word order (what the
// kernel does on x86), so results do not depend on the host's byte order.
//
// Threading: pure functions.
#ifndef CTSIM_CORE_JHASH_H_
#define CTSIM_CORE_JHASH_H_

#include <cstddef>
#include <cstdint>

namespace ctcore {

constexpr uint32_t JHASH_INITVAL = 0xdeadbeef;

constexpr uint32_t rol32(uint32_t word, unsigned shift) { return (word << (shift & 31)) | (word >> ((-shift) & 31)); }

namespace detail {

// __jhash_mix(): the 96-bit mix of three words. Three steps a line, as the
// algorithm is usually written (hence clang-format off).
// clang-format off
inline void jhash_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c; a ^= rol32(c, 4);  c += b;
  b -= a; b ^= rol32(a, 6);  a += c;
  c -= b; c ^= rol32(b, 8);  b += a;
  a -= c; a ^= rol32(c, 16); c += b;
  b -= a; b ^= rol32(a, 19); a += c;
  c -= b; c ^= rol32(b, 4);  b += a;
}
// clang-format on

// __jhash_final(): the final mix of three words into c. Three steps a line, as the
// algorithm is usually written (hence clang-format off).
// clang-format off
inline void jhash_final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b; c -= rol32(b, 14);
  a ^= c; a -= rol32(c, 11);
  b ^= a; b -= rol32(a, 25);
  c ^= b; c -= rol32(b, 16);
  a ^= c; a -= rol32(c, 4);
  b ^= a; b -= rol32(a, 14);
  c ^= b; c -= rol32(b, 24);
}
// clang-format on

}  // namespace detail

// Hash of an array of 32-bit words (lookup3 hashword()).
// Inline: the conntrack hash calls it with a constant length (9 words),
// which the compiler unrolls.
inline uint32_t jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = JHASH_INITVAL + (length << 2) + initval;
  while (length > 3) {
    a += k[0];
    b += k[1];
    c += k[2];
    detail::jhash_mix(a, b, c);
    length -= 3;
    k += 3;
  }
  switch (length) {
    case 3: c += k[2]; [[fallthrough]];
    case 2: b += k[1]; [[fallthrough]];
    case 1:
      a += k[0];
      detail::jhash_final(a, b, c);
      break;
    case 0: break;
  }
  return c;
}

// Hash of `length` bytes (lookup3 hashlittle() on a little-endian machine).
uint32_t jhash(const void* key, uint32_t length, uint32_t initval);

uint32_t jhash_3words(uint32_t a, uint32_t b, uint32_t c, uint32_t initval);
uint32_t jhash_2words(uint32_t a, uint32_t b, uint32_t initval);
uint32_t jhash_1word(uint32_t a, uint32_t initval);

// Maps a 32-bit hash uniformly onto [0, ep_ro) without a division
// (include/linux/kernel.h reciprocal_scale()).
constexpr uint32_t reciprocal_scale(uint32_t val, uint32_t ep_ro) {
  return static_cast<uint32_t>((static_cast<uint64_t>(val) * ep_ro) >> 32);
}

}  // namespace ctcore

#endif  // CTSIM_CORE_JHASH_H_
