// Deferred work: how the core asks to be called back later (gc_worker, the
// event redelivery work).
//
// Mirrors: include/linux/workqueue.h (struct delayed_work,
//          queue_delayed_work(), mod_delayed_work(), cancel_delayed_work()).
// Simplified: one queue; work runs on CPU 0; "deferrable" timers fire on
//          time (an idle simulated CPU is never asleep).
//
// Ownership: a delayed_work is owned by the core object it is embedded in and
// must outlive its queueing; the Workqueue keeps only a pointer.
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_WORKQUEUE_H_
#define CTSIM_CORE_WORKQUEUE_H_

#include <cstdint>
#include <functional>

namespace ctcore {

struct delayed_work {
  std::function<void()> func;  // set once by the owner
  bool pending = false;        // queued and not yet run or cancelled
  uint64_t due = 0;            // 64-bit jiffies it is due at, while pending
  uint64_t token = 0;          // the workqueue's handle for the queued run
};

class Workqueue {
 public:
  virtual ~Workqueue() = default;
  // Queues `work` to run `delay` jiffies from now. Returns false (and changes
  // nothing) iff it was already pending.
  virtual bool queue_delayed_work(delayed_work* work, uint64_t delay) = 0;
  // Like queue_delayed_work, but a pending work is moved to the new time.
  // Returns true iff it was pending.
  virtual bool mod_delayed_work(delayed_work* work, uint64_t delay) = 0;
  // Returns true iff it was pending (and is no longer).
  virtual bool cancel_delayed_work(delayed_work* work) = 0;
};

// The delay after which a timer armed at jiffies `now` to expire `delay`
// jiffies later really fires: the timer wheel (kernel/time/timer.c,
// calc_wheel_index/calc_index, 5.x and 6.x alike, HZ > 100: LVL_DEPTH 8)
// files it on the level its distance falls in and rounds its expiry up to
// the next multiple of that level's granularity (8^level jiffies) strictly
// after it, so that it never fires early. Level 0 (under 63 jiffies) fires
// one jiffy late; a 60 s timer at HZ=250 (level 3) on the next multiple of
// 512 jiffies. Assumes the CPU's timer base is current (its clk == now).
// REQUIRES: delay > 0 (delay 0 queues the work without a timer).
inline uint64_t timer_wheel_fire_delay(uint64_t now, uint64_t delay) {
  constexpr unsigned kLvlClkShift = 3, kLvlDepth = 8;
  const uint64_t expires = now + delay;
  unsigned lvl = 0;
  while (lvl + 1 < kLvlDepth && delay >= (uint64_t{63} << (lvl * kLvlClkShift))) ++lvl;
  const unsigned shift = lvl * kLvlClkShift;
  return (((expires >> shift) + 1) << shift) - now;
}

}  // namespace ctcore

#endif  // CTSIM_CORE_WORKQUEUE_H_
