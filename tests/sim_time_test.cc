// Virtual time, jiffies and the duration syntax.
#include <doctest/doctest.h>

#include "core/clock.h"
#include "sim/engine/sim_time.h"

using namespace ctsim;

TEST_CASE("INITIAL_JIFFIES is (u32)(-300*HZ), so J32 wraps five minutes in") {
  CHECK(ctcore::initial_jiffies_for_hz(250) == 4294892296u);
  CHECK(ctcore::initial_jiffies_for_hz(1000) == 4294667296u);
  TimeBase tb{250, ctcore::initial_jiffies_for_hz(250)};
  CHECK(static_cast<uint32_t>(tb.jiffies_at(300 * kNsPerSec - 1)) == 0xffffffffu);
  CHECK(static_cast<uint32_t>(tb.jiffies_at(300 * kNsPerSec)) == 0u);
}

TEST_CASE("jiffies are floor(t * HZ / 1e9) and time_of_jiffies inverts them") {
  TimeBase tb{250, 0};
  CHECK(tb.jiffies_at(0) == 0);
  CHECK(tb.jiffies_at(3'999'999) == 0);
  CHECK(tb.jiffies_at(4'000'000) == 1);
  CHECK(tb.time_of_jiffies(1) == 4'000'000);
  TimeBase odd{300, 0};  // 1e9/300 is not whole: ceil
  CHECK(odd.time_of_jiffies(1) == 3'333'334);
  CHECK(odd.jiffies_at(odd.time_of_jiffies(1)) == 1);
  CHECK(odd.jiffies_at(odd.time_of_jiffies(1) - 1) == 0);
  // 400 days at 1000 Hz does not overflow.
  TimeBase fast{1000, 0};
  CHECK(fast.jiffies_at(400LL * 86400 * kNsPerSec) == 400ull * 86400 * 1000);
}

TEST_CASE("parse_duration accepts every unit and jiffies") {
  CHECK(parse_duration("1.5s", 250) == 1'500'000'000);
  CHECK(parse_duration("250ms", 250) == 250'000'000);
  CHECK(parse_duration("10us", 250) == 10'000);
  CHECK(parse_duration("7ns", 250) == 7);
  CHECK(parse_duration("2min", 250) == 120 * kNsPerSec);
  CHECK(parse_duration("1h", 250) == 3600 * kNsPerSec);
  CHECK(parse_duration("6d", 250) == 6 * 86400 * kNsPerSec);
  CHECK(parse_duration("j:250", 250) == kNsPerSec);
  CHECK(parse_duration("0s", 250) == 0);
}

TEST_CASE("parse_duration rejects what is not a duration, saying what it expected") {
  const auto ten = parse_duration("10", 250);
  REQUIRE_FALSE(ten.ok());
  CHECK(ten.error().what.find("expected a number with a unit") != std::string::npos);
  CHECK(ten.error().column == 0);
  CHECK_FALSE(parse_duration("1.s", 250));
  CHECK_FALSE(parse_duration("-1s", 250));
  CHECK_FALSE(parse_duration("j:x", 250));
  const auto long_run = parse_duration("500d", 250);
  REQUIRE_FALSE(long_run.ok());
  CHECK(long_run.error().what.find("400 days") != std::string::npos);
}

TEST_CASE("parse_rate_nano reads N/s with fractions") {
  CHECK(parse_rate_nano("100/s") == 100 * kNsPerSec);
  CHECK(parse_rate_nano("0.5/s") == kNsPerSec / 2);
  CHECK_FALSE(parse_rate_nano("0/s"));
  CHECK_FALSE(parse_rate_nano("100"));
}
