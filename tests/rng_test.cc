// The PRNG every draw of a run comes from (sim/engine/rng.h). Runs are
// reproducible only while it yields the same numbers for the same seed on
// every compiler, so the reference values below were computed independently
// (a Python transcription of splitmix64 seeding and xoshiro256**) and any
// change to the generator fails here before it silently changes traces.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "sim/engine/rng.h"

using ctsim::Rng;

TEST_CASE("fixed seeds give the reference sequence") {
  Rng r(42, 0);
  CHECK(r.next() == 13696896915399030466ull);
  CHECK(r.next() == 12641092763546669283ull);
  CHECK(r.next() == 14580102322132234639ull);
  // Another stream of the same seed starts elsewhere.
  CHECK(Rng(42, 1).next() == 11753091247201629797ull);
  // next_u32 is the high half of next.
  CHECK(Rng(1, 2).next_u32() == 373396144u);
}

TEST_CASE("derived draws are fixed too: below() and exponential_ns()") {
  Rng r(42, 0);
  std::vector<uint64_t> below;
  for (int i = 0; i < 5; ++i) below.push_back(r.below(10));
  CHECK(below == std::vector<uint64_t>{7, 6, 7, 2, 0});
  Rng e(7, 3);
  CHECK(e.exponential_ns(1'000'000) == 2221214);
  CHECK(e.exponential_ns(1'000'000) == 1085733);
  CHECK(e.exponential_ns(1'000'000) == 1090076);
}

TEST_CASE("the same seed and stream repeat; streams and seeds are independent") {
  Rng a(9, 4), b(9, 4);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next() == b.next());
  // Drawing from one stream does not move another: stream 5's first draw is
  // the same whether or not stream 4 was used before.
  Rng fresh(9, 5);
  const uint64_t first = fresh.next();
  Rng used(9, 4);
  for (int i = 0; i < 1000; ++i) (void)used.next();
  CHECK(Rng(9, 5).next() == first);
  // Neighbouring streams and seeds share no early values.
  std::set<uint64_t> seen;
  for (uint64_t stream = 0; stream < 16; ++stream) {
    Rng r(9, stream);
    for (int i = 0; i < 64; ++i) seen.insert(r.next());
  }
  for (uint64_t seed = 10; seed < 26; ++seed) {
    Rng r(seed, 0);
    for (int i = 0; i < 64; ++i) seen.insert(r.next());
  }
  CHECK(seen.size() == 32 * 64);
}

TEST_CASE("below() stays in range and reaches both ends") {
  Rng r(1, 0);
  for (uint64_t n : {1ull, 2ull, 3ull, 7ull, 1000ull, (1ull << 63) + 1}) {
    CAPTURE(n);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 4000; ++i) {
      const uint64_t v = r.below(n);
      REQUIRE(v < n);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    if (n <= 7) {
      CHECK(lo == 0);
      CHECK(hi == n - 1);
    }
  }
  CHECK(r.below(0) == 0);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = r.range(5, 9);
    REQUIRE(v >= 5);
    REQUIRE(v <= 9);
  }
  CHECK(r.range(3, 3) == 3);
}

TEST_CASE("below() is unbiased over a small range") {
  Rng r(3, 0);
  uint64_t counts[6] = {};
  constexpr int kDraws = 60000;
  for (int i = 0; i < kDraws; ++i) ++counts[r.below(6)];
  for (uint64_t c : counts) {
    // Each face 10000 +- 5 standard deviations (sd ~ 91).
    CHECK(c > 9500);
    CHECK(c < 10500);
  }
}

TEST_CASE("exponential_ns() is non-negative, bounded and has the asked mean") {
  Rng r(11, 0);
  constexpr uint64_t kMean = 1'000'000;
  constexpr int kDraws = 100000;
  long double sum = 0;
  int64_t max = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t v = r.exponential_ns(kMean);
    REQUIRE(v >= 0);
    sum += static_cast<long double>(v);
    max = std::max(max, v);
  }
  const long double mean = sum / kDraws;
  // The sample mean of 1e5 draws is within 2% of the mean (sd 0.3%).
  CHECK(mean > 0.98L * kMean);
  CHECK(mean < 1.02L * kMean);
  // A 32-bit uniform caps the gap at ln(2^32) ~ 22.2 means.
  CHECK(max <= static_cast<int64_t>(23 * kMean));
  CHECK(Rng(11, 1).exponential_ns(0) == 0);
}
