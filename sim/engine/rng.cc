#include "sim/engine/rng.h"

namespace ctsim {

namespace {

// -ln(u) for u = x / 2^32 in (0, 1], in Q32.32 fixed point, computed with
// integer arithmetic only: log2 by normalisation and repeated squaring.
uint64_t neg_ln_q32(uint32_t x) {
  if (x == 0) x = 1;
  // log2(x / 2^32) = log2(x) - 32; x in [1, 2^32).
  int msb = 31;
  while (((x >> msb) & 1u) == 0) --msb;
  // mantissa m in [1, 2) as Q1.62
  uint64_t m = static_cast<uint64_t>(x) << (62 - msb);
  uint64_t frac = 0;  // fractional bits of log2(m), Q0.32
  for (int i = 31; i >= 0; --i) {
    unsigned __int128 sq = static_cast<unsigned __int128>(m) * m;  // Q2.124
    m = static_cast<uint64_t>(sq >> 62);                           // back to Q?.62
    if (m >= (2ull << 62)) {
      m >>= 1;
      frac |= 1ull << i;
    }
  }
  // log2(u) = (msb - 32) + frac/2^32, negative; -log2(u) = (32 - msb) - frac/2^32
  const int64_t neg_log2_q32 = (static_cast<int64_t>(32 - msb) << 32) - static_cast<int64_t>(frac);
  // ln = log2 * ln(2); ln(2) in Q0.32 = 2977044472
  return static_cast<uint64_t>((static_cast<unsigned __int128>(neg_log2_q32) * 2977044472ull) >> 32);
}

}  // namespace

int64_t Rng::exponential_ns(uint64_t mean_ns) {
  const uint32_t u = next_u32() | 1u;  // (0, 1)
  const uint64_t l = neg_ln_q32(u);    // Q32.32
  return static_cast<int64_t>((static_cast<unsigned __int128>(l) * mean_ns) >> 32);
}

}  // namespace ctsim
