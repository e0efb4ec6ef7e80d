// The time source the core reads: the kernel's `jiffies`.
//
// Mirrors: include/linux/jiffies.h (jiffies, INITIAL_JIFFIES),
//          include/net/netfilter/nf_conntrack.h (nfct_time_stamp).
// The simulator implements it on its virtual clock; tests implement it with
// a settable counter. The core never reads any other clock.
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_CLOCK_H_
#define CTSIM_CORE_CLOCK_H_

#include <cstdint>

namespace ctcore {

class Clock {
 public:
  virtual ~Clock() = default;
  // The 64-bit jiffies counter (never wraps in a run). It starts at
  // INITIAL_JIFFIES, so its low 32 bits wrap five virtual minutes in.
  virtual uint64_t jiffies() const = 0;
  // Jiffies per second (the kernel's HZ).
  virtual uint32_t hz() const = 0;

  // nfct_time_stamp: the 32-bit view every conn timeout is compared with.
  uint32_t nfct_time_stamp() const { return static_cast<uint32_t>(jiffies()); }
};

// The kernel's INITIAL_JIFFIES for a given HZ: (u32)(-300 * HZ).
constexpr uint64_t initial_jiffies_for_hz(uint32_t hz) {
  return static_cast<uint32_t>(-300 * static_cast<int64_t>(hz));
}

// A clock a test sets by hand.
class ManualClock : public Clock {
 public:
  explicit ManualClock(uint32_t hz = 250, uint64_t start = initial_jiffies_for_hz(250)) : hz_(hz), now_(start) {}
  uint64_t jiffies() const override { return now_; }
  uint32_t hz() const override { return hz_; }
  void set(uint64_t j) { now_ = j; }
  void advance(uint64_t j) { now_ += j; }

 private:
  uint32_t hz_;
  uint64_t now_;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_CLOCK_H_
