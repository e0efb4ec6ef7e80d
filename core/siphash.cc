#include "core/siphash.h"

namespace ctcore {

namespace {

constexpr uint64_t rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

uint64_t load_le64(const uint8_t* p) {
  uint64_t w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];
  return w;
}

// The internal state v0..v3 and the paper's steps on it.
class SipState {
 public:
  explicit SipState(const siphash_key_t& k)
      // The initial constants are "somepseudorandomlygeneratedbytes" in ASCII.
      : v0_(k.key[0] ^ 0x736f6d6570736575ull),
        v1_(k.key[1] ^ 0x646f72616e646f6dull),
        v2_(k.key[0] ^ 0x6c7967656e657261ull),
        v3_(k.key[1] ^ 0x7465646279746573ull) {}

  // Compression: c = 2 rounds per message word.
  void absorb(uint64_t m) {
    v3_ ^= m;
    round();
    round();
    v0_ ^= m;
  }

  // Finalization: d = 4 rounds after xoring 0xff into v2.
  uint64_t finish() {
    v2_ ^= 0xff;
    round();
    round();
    round();
    round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  // SipRound: two add-rotate-xor half rounds on (v0, v1) and (v2, v3).
  void round() {
    v0_ += v1_;
    v1_ = rotl64(v1_, 13);
    v1_ ^= v0_;
    v0_ = rotl64(v0_, 32);
    v2_ += v3_;
    v3_ = rotl64(v3_, 16);
    v3_ ^= v2_;
    v0_ += v3_;
    v3_ = rotl64(v3_, 21);
    v3_ ^= v0_;
    v2_ += v1_;
    v1_ = rotl64(v1_, 17);
    v1_ ^= v2_;
    v2_ = rotl64(v2_, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

}  // namespace

siphash_key_t siphash_key_from_bytes(const uint8_t (&bytes)[16]) {
  return siphash_key_t{{load_le64(bytes), load_le64(bytes + 8)}};
}

uint64_t siphash(const void* data, size_t len, const siphash_key_t& key) {
  const auto* p = static_cast<const uint8_t*>(data);
  SipState s(key);
  const size_t whole = len - len % 8;
  for (size_t i = 0; i < whole; i += 8) s.absorb(load_le64(p + i));
  // The last word: the remaining bytes little-endian, the length mod 256 on top.
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = whole; i < len; ++i) last |= static_cast<uint64_t>(p[i]) << (8 * (i - whole));
  s.absorb(last);
  return s.finish();
}

uint64_t siphash_4u64(uint64_t a, uint64_t b, uint64_t c, uint64_t d, const siphash_key_t& key) {
  SipState s(key);
  s.absorb(a);
  s.absorb(b);
  s.absorb(c);
  s.absorb(d);
  s.absorb(uint64_t{32} << 56);
  return s.finish();
}

}  // namespace ctcore
