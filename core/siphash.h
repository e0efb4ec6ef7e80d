// SipHash-2-4 with a 64-bit result (Aumasson and Bernstein, "SipHash: a fast
// short-input PRF", 2012), with the entry points the kernel's conntrack uses.
//
// Mirrors: include/linux/siphash.h siphash_key_t, siphash();
//          lib/siphash.c siphash_4u64().
// Written from the paper; tests/siphash_test.cc checks it against the
// paper's 64 reference vectors (key 00..0f, messages 00 01 .. of 0..63
// bytes), copied in tests/data/siphash/gen_vectors.py.
//
// Byte order: the message is read as little-endian 64-bit words and the
// 0..7 tail bytes go, little-endian, into the low bytes of the last word
// whose top byte is the length mod 256 — what the paper specifies and what
// lib/siphash.c does on any CPU. So results do not depend on the host.
// siphash_key_t::key[i] are the two key words as the kernel holds them: on
// x86, key[0] is bytes 0..7 of the key in memory read little-endian.
//
// Not yet used by the core: the kernel profiles will select it
// (core/nf_conntrack_hash_forms.h).
//
// Threading: pure functions.
#ifndef CTSIM_CORE_SIPHASH_H_
#define CTSIM_CORE_SIPHASH_H_

#include <cstddef>
#include <cstdint>

namespace ctcore {

struct siphash_key_t {
  uint64_t key[2] = {0, 0};

  bool operator==(const siphash_key_t&) const = default;
};

// The key whose 16 bytes in memory (x86 order) are `bytes`: key[0] is
// bytes 0..7 read little-endian, key[1] bytes 8..15.
siphash_key_t siphash_key_from_bytes(const uint8_t (&bytes)[16]);

// SipHash-2-4 of `len` bytes at `data` (the kernel's siphash()).
uint64_t siphash(const void* data, size_t len, const siphash_key_t& key);

// SipHash-2-4 of the 32 bytes whose little-endian words are a, b, c, d in
// that order (the kernel's siphash_4u64()); equal to siphash() over those
// bytes.
uint64_t siphash_4u64(uint64_t a, uint64_t b, uint64_t c, uint64_t d, const siphash_key_t& key);

}  // namespace ctcore

#endif  // CTSIM_CORE_SIPHASH_H_
