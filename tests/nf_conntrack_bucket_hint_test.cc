// BucketHint on its own: the deadline bound is a lower bound at the
// granularity of 256 jiffies, across the 32-bit wrap and with far deadlines
// clamped; the count saturates; the hash bits never rule out a linked hash.
// (The Conntrack tests check that the hints change no output.)
#include "core/nf_conntrack_bucket_hint.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using ctcore::BucketHint;

namespace {

constexpr uint32_t kUnit = uint32_t{1} << BucketHint::kShift;

// Returns true iff the kernel would call a conn with `deadline` expired.
bool expired(uint32_t deadline, uint32_t now) { return static_cast<int32_t>(deadline - now) <= 0; }

}  // namespace

TEST_CASE("the bound holds until a deadline's unit is reached, across the 32-bit wrap") {
  for (const uint32_t start : {1000u, 0xffff0000u, 0xfffffff0u}) {
    BucketHint h;
    const uint32_t deadlines[] = {start + 30 * 250, start + 5 * 250, start + 180 * 250};
    for (uint32_t d : deadlines) h.link(d, 0x1234, start);
    const uint32_t earliest = start + 5 * 250;
    // Never claims "none expired" while one is: walk time forward.
    for (uint32_t step = 0; step < 200 * 250 / 7; ++step) {
      const uint32_t now = start + 7 * step;
      bool any = false;
      for (uint32_t d : deadlines) any = any || expired(d, now);
      if (any) REQUIRE_FALSE(h.none_expired(now));
    }
    // And it is no coarser than one unit: until the earliest deadline's
    // unit begins, nothing is expired and the hint says so.
    const uint32_t unit_start = earliest & ~(kUnit - 1);
    CHECK(h.none_expired(unit_start - 1));
    CHECK_FALSE(h.none_expired(unit_start));
    CHECK(h.bound(start) == unit_start);
  }
}

TEST_CASE("a deadline far ahead counts as kMaxAhead from when it was recorded") {
  const uint32_t now = 0x7ffff000u;
  const uint32_t five_days_hz1000 = 5u * 86400u * 1000u;  // beyond the 16-bit window
  BucketHint h;
  h.link(now + five_days_hz1000, 1, now);
  CHECK(h.none_expired(now));
  CHECK(h.none_expired(now + BucketHint::kMaxAhead - kUnit));
  CHECK_FALSE(h.none_expired(now + BucketHint::kMaxAhead));  // walked then, not in 5 days
  CHECK(h.bound(now) == ((now + BucketHint::kMaxAhead) & ~(kUnit - 1)));
}

TEST_CASE("lower() moves the bound earlier only; unlink() leaves it") {
  const uint32_t now = 5000;
  BucketHint h;
  h.link(now + 120 * 250, 1, now);
  h.link(now + 300 * 250, 2, now);
  const uint32_t before = h.bound(now);
  h.lower(now + 600 * 250, now);  // later: no change
  CHECK(h.bound(now) == before);
  h.lower(now + 10 * 250, now);  // earlier (a FIN): lowered
  CHECK(h.bound(now) == ((now + 10 * 250) & ~(kUnit - 1)));
  h.unlink();
  CHECK(h.nodes() == 1);
  CHECK(h.bound(now) == ((now + 10 * 250) & ~(kUnit - 1)));
  h.unlink();
  CHECK(h.nodes() == 0);
  CHECK(h.none_expired(now + 1000 * 250));  // empty: nothing to expire
  h.link(now + 60 * 250, 3, now);           // the first link sets the bound anew
  CHECK(h.bound(now) == ((now + 60 * 250) & ~(kUnit - 1)));
}

TEST_CASE("the count saturates: an unknown count is never trusted") {
  BucketHint h;
  for (uint32_t i = 0; i < BucketHint::kManyNodes + 10u; ++i) h.link(1u << 20, i, 0);
  CHECK_FALSE(h.knows_nodes());
  CHECK_FALSE(h.none_expired(0));  // the GC and lookups walk such a chain
  h.unlink();
  CHECK_FALSE(h.knows_nodes());  // only a recount (an exact walk) restores it
}

TEST_CASE("hash bits never rule out a linked hash, and do rule out most others") {
  BucketHint h;
  CHECK_FALSE(h.may_hold(0x12345678));  // an empty chain holds nothing
  uint32_t x = 0x9e3779b9u;
  std::vector<uint32_t> linked;
  for (int i = 0; i < 4; ++i) {
    x = x * 1664525u + 1013904223u;
    linked.push_back(x);
    h.link(100000, x, 0);
  }
  for (uint32_t v : linked) CHECK(h.may_hold(v));
  int held = 0;
  for (int i = 0; i < 10000; ++i) {
    x = x * 1664525u + 1013904223u;
    held += h.may_hold(x) ? 1 : 0;
  }
  CHECK(held < 1500);  // ~3% expected for 4 nodes; a broken set says 100%
  h.unlink();          // unlinked bits stay: still a superset
  for (uint32_t v : linked) CHECK(h.may_hold(v));
}
