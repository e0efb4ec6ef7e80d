// The only source of randomness: a small, explicitly seeded PRNG
// (splitmix64 to seed, xoshiro256** to draw) with our own distributions, so
// draws are identical with every compiler and standard library.
//
// Streams: Rng(seed, stream) gives independent sequences for independent
// consumers (each flow entry, the hash seeds), so adding one consumer never
// shifts another's draws.
//
// Threading: value type; one owner.
#ifndef CTSIM_SIM_ENGINE_RNG_H_
#define CTSIM_SIM_ENGINE_RNG_H_

#include <cstdint>

namespace ctsim {

class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0x9e3779b97f4a7c15ull * (stream + 1));
    for (auto& w : s_) w = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint32_t next_u32() { return static_cast<uint32_t>(next() >> 32); }

  // Uniform in [0, n), unbiased (Lemire's method with rejection).
  uint64_t below(uint64_t n) {
    if (n == 0) return 0;
    for (;;) {
      const unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
      const uint64_t low = static_cast<uint64_t>(m);
      if (low >= n || low >= (-n) % n) return static_cast<uint64_t>(m >> 64);
    }
  }
  // Uniform in [lo, hi].
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability num / den.
  bool chance(uint64_t num, uint64_t den) { return below(den) < num; }
  // An exponential gap with mean `mean_ns`, in integer ns: inverse CDF on a
  // 53-bit uniform through a fixed-point log, so no libm call can differ.
  int64_t exponential_ns(uint64_t mean_ns);

  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_RNG_H_
