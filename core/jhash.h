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

constexpr uint32_t rol32(uint32_t word, unsigned shift) {
  return (word << (shift & 31)) | (word >> ((-shift) & 31));
}

// Hash of an array of 32-bit words (lookup3 hashword()).
uint32_t jhash2(const uint32_t* k, uint32_t length_words, uint32_t initval);

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
