// -ln(u) for u = x / 2^32 in (0, 1], in Q32.32 fixed point, with integer
// arithmetic only, so every machine and compiler draws the same bits (the
// exponential gaps of "rate" flows, Rng::exponential_ns).
//
// The definition is neg_ln_q32_exact: log2 by normalisation and 32
// repeated squarings (each truncated to Q1.62), times ln(2). neg_ln_q32
// gives the same result for every input, about ten times faster: a
// 256-row table and a degree-7 series give log2 to 2^-60, and the few
// inputs whose result that cannot settle go to the exact method
// (tests/neg_ln_test.cc compares the two).
//
// Threading: pure functions.
#ifndef CTSIM_SIM_ENGINE_NEG_LN_H_
#define CTSIM_SIM_ENGINE_NEG_LN_H_

#include <cstdint>

namespace ctsim {

uint64_t neg_ln_q32(uint32_t x);        // x == 0 is taken as 1
uint64_t neg_ln_q32_exact(uint32_t x);  // the definition (slow: 32 dependent multiplications)

// -ln(x / 2^32) from log2(x) = msb + frac / 2^32 (msb: x's highest set bit,
// frac: Q0.32): -log2(u) = (32 - msb) - frac / 2^32, times ln(2) in Q0.32.
inline uint64_t neg_ln_from_log2(int msb, uint64_t frac) {
  const int64_t neg_log2_q32 = (static_cast<int64_t>(32 - msb) << 32) - static_cast<int64_t>(frac);
  return static_cast<uint64_t>((static_cast<unsigned __int128>(neg_log2_q32) * 2977044472ull) >> 32);
}

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_NEG_LN_H_
