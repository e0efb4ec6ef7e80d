#include "sim/verify/gc_granularity.h"

#include <algorithm>

#include "core/nf_conntrack_core.h"
#include "core/workqueue.h"

namespace ctsim::verify {

namespace {

// The longest a timer armed for `delay` jiffies may take to fire: its
// expiry on a multiple of its wheel level's granule (then the wheel fires
// it one granule later, never early).
uint64_t worst_fire_delay(uint64_t delay) {
  constexpr uint64_t kAligned = uint64_t{1} << 40;  // a multiple of every granule
  return ctcore::timer_wheel_fire_delay(kAligned - delay, delay);
}

}  // namespace

SimTime gc_granularity(const ctcore::kernel_profile& profile, uint32_t hz) {
  uint64_t jiffies = 0;
  switch (profile.gc) {
    case ctcore::ct_gc_mode::kSlices: {
      // gc_worker_slices: the longest interval between runs, and the runs
      // one sweep of the table takes.
      const uint64_t max_interval = std::max<uint64_t>(16u * hz / ctcore::GC_MAX_BUCKETS_DIV, 1);
      jiffies = ctcore::GC_MAX_BUCKETS_DIV * worst_fire_delay(max_interval);
      break;
    }
    case ctcore::ct_gc_mode::kWholeTable:
      jiffies = worst_fire_delay(uint64_t{ctcore::GC_SCAN_INTERVAL_S} * hz);
      break;
    case ctcore::ct_gc_mode::kAutotune:
    case ctcore::ct_gc_mode::kAutotuneMean:
      jiffies = worst_fire_delay(uint64_t{ctcore::GC_SCAN_INTERVAL_MAX_S} * hz);
      break;
  }
  return static_cast<SimTime>(jiffies * uint64_t{kNsPerSec} / hz);
}

}  // namespace ctsim::verify
