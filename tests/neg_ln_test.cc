// The fast fixed-point -ln (sim/engine/neg_ln.h) gives the same bits as the
// function every golden was made with, kept here verbatim as the reference:
// on every input near a boundary the table or the fallback could get wrong,
// and on a large spread sample. CTSIM_NEG_LN_EXHAUSTIVE=1 checks all 2^32
// inputs (about 15 CPU minutes; run once when the function changes).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>

#include "sim/engine/neg_ln.h"
#include "sim/engine/rng.h"

namespace {

// The original (sim/engine/rng.cc before the table): log2 by normalisation
// and repeated squaring, times ln(2).
uint64_t reference_neg_ln_q32(uint32_t x) {
  if (x == 0) x = 1;
  int msb = 31;
  while (((x >> msb) & 1u) == 0) --msb;
  uint64_t m = static_cast<uint64_t>(x) << (62 - msb);
  uint64_t frac = 0;
  for (int i = 31; i >= 0; --i) {
    unsigned __int128 sq = static_cast<unsigned __int128>(m) * m;
    m = static_cast<uint64_t>(sq >> 62);
    if (m >= (2ull << 62)) {
      m >>= 1;
      frac |= 1ull << i;
    }
  }
  const int64_t neg_log2_q32 = (static_cast<int64_t>(32 - msb) << 32) - static_cast<int64_t>(frac);
  return static_cast<uint64_t>((static_cast<unsigned __int128>(neg_log2_q32) * 2977044472ull) >> 32);
}

// Counts the inputs in [lo, hi) (stepping by `step`) where the two differ.
uint64_t mismatches(uint64_t lo, uint64_t hi, uint64_t step) {
  uint64_t bad = 0;
  for (uint64_t x = lo; x < hi; x += step) {
    const uint32_t v = static_cast<uint32_t>(x);
    if (ctsim::neg_ln_q32(v) != reference_neg_ln_q32(v)) {
      if (bad == 0) FAIL_CHECK("first mismatch at x = " << v);
      ++bad;
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("the table's -ln equals the reference at the edges") {
  // Both ends, every power of two and its neighbours, every table row's
  // first and last mantissa at every exponent.
  uint64_t bad = mismatches(0, 1 << 16, 1) + mismatches(0xffff0000u, 0x100000000ull, 1);
  for (int e = 0; e < 32; ++e) {
    const uint64_t p = uint64_t{1} << e;
    for (uint64_t d = 0; d < 4; ++d) {
      bad += mismatches(p + d, p + d + 1, 1);
      if (p > d) bad += mismatches(p - d, p - d + 1, 1);
    }
    if (e >= 8)
      for (uint64_t j = 0; j < 256; ++j) {
        const uint64_t row = p + (j << (e - 8));
        bad += mismatches(row - 2, row + 3, 1);
      }
  }
  CHECK(bad == 0);
  CHECK(ctsim::neg_ln_q32(0) == reference_neg_ln_q32(1));
  CHECK(ctsim::neg_ln_q32_exact(12345) == reference_neg_ln_q32(12345));
}

TEST_CASE("the table's -ln equals the reference on a spread sample and on random draws") {
  // A prime stride through the whole range (about 4M inputs), then 1M draws.
  CHECK(mismatches(1, 0x100000000ull, 1021) == 0);
  ctsim::Rng rng(7, 0);
  uint64_t bad = 0;
  for (int i = 0; i < 1000000; ++i) {
    const uint32_t x = rng.next_u32();
    bad += ctsim::neg_ln_q32(x) != reference_neg_ln_q32(x);
  }
  CHECK(bad == 0);
}

TEST_CASE("the fallback decides the inputs the estimate leaves close to a boundary") {
  // x = 2^k exactly: log2 of the mantissa is 0, an integer; the estimate is
  // within its margin there, so only the exact method can answer.
  for (int k = 0; k < 32; ++k) CHECK(ctsim::neg_ln_q32(1u << k) == reference_neg_ln_q32(1u << k));
  CHECK(ctsim::neg_ln_q32(1) == (static_cast<uint64_t>(32) * 2977044472ull));
}

TEST_CASE("every input (CTSIM_NEG_LN_EXHAUSTIVE=1)" *
          doctest::skip(std::getenv("CTSIM_NEG_LN_EXHAUSTIVE") == nullptr)) {
  CHECK(mismatches(0, 0x100000000ull, 1) == 0);
}
