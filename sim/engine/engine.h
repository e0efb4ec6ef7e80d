// The discrete-event engine: virtual clock, event queue, and the core's
// Clock and Workqueue seams implemented on them.
//
// Invariants: time never goes backwards; an event is never scheduled before
// now(); a delayed work has at most one live event (its `token`).
//
// Threading: single-threaded; no global state (pass Engine& explicitly).
#ifndef CTSIM_SIM_ENGINE_ENGINE_H_
#define CTSIM_SIM_ENGINE_ENGINE_H_

#include <cstdint>

#include "core/clock.h"
#include "core/nf_conntrack_common.h"
#include "core/workqueue.h"
#include "sim/engine/event_queue.h"
#include "sim/engine/sim_time.h"

namespace ctsim {

// Event kinds the engine itself handles; the simulator numbers its own from
// kFirstUserKind.
enum EngineKind : uint16_t {
  kKindWork = 1,
  kFirstUserKind = 16,
};

class Engine : public ctcore::Clock, public ctcore::Workqueue {
 public:
  explicit Engine(TimeBase base) : base_(base), jiffies_(base.initial_jiffies) { set_clock(0); }

  SimTime now() const { return now_; }
  uint64_t jiffies() const override { return jiffies_; }
  uint32_t hz() const override { return base_.hz; }

  // Schedules at absolute time t. REQUIRES: t >= now().
  uint64_t schedule(SimTime t, Phase phase, uint16_t kind, uint32_t arg = 0, void* ptr = nullptr) {
    CT_ASSERT(t >= now_, "an event scheduled into the past");
    return queue_.push(t, phase, kind, arg, ptr);
  }

  bool queue_delayed_work(ctcore::delayed_work* work, uint64_t delay) override;
  bool mod_delayed_work(ctcore::delayed_work* work, uint64_t delay) override;
  bool cancel_delayed_work(ctcore::delayed_work* work) override;

  bool empty() const { return queue_.empty(); }
  SimTime next_time() const { return queue_.top_time(); }
  // True iff an event scheduled now at `phase` would be the next to run:
  // nothing queued comes before (now, phase). Running it inline instead is
  // then indistinguishable from scheduling it.
  bool would_run_next(Phase phase) const { return queue_.would_pop_first(now_, phase); }
  // Pops the next event and advances the clock to it. Work events are run
  // here (returns false for them); other events are returned to the caller.
  bool next(Event* out) {
    queue_.pop(out);
    CT_ASSERT(out->t >= now_, "time went backwards");
    set_clock(out->t);
    ++events_run_;
    if (out->kind == kKindWork) {
      run_work(*out);
      return false;
    }
    return true;
  }
  uint64_t events_run() const { return events_run_; }
  // Moves the clock forward to `t` with no event (the end of a run with a
  // fixed end time). REQUIRES: t >= now().
  void advance_to(SimTime t);

 private:
  // Runs a work event's function unless the work was cancelled or moved
  // (its live event is the one whose seq is its token).
  void run_work(const Event& ev);
  // Sets now_ and jiffies_; the division behind jiffies_at() runs only when
  // t leaves the current jiffy [jiffy_start_, jiffy_end_).
  void set_clock(SimTime t) {
    now_ = t;
    if (t >= jiffy_start_ && t < jiffy_end_) return;
    jiffies_ = base_.jiffies_at(t);
    jiffy_start_ = base_.time_of_jiffies(jiffies_);
    jiffy_end_ = base_.time_of_jiffies(jiffies_ + 1);
  }

  TimeBase base_;
  SimTime now_ = 0;
  uint64_t jiffies_;
  SimTime jiffy_start_ = 0, jiffy_end_ = 0;  // times whose jiffies are jiffies_
  EventQueue queue_;
  uint64_t events_run_ = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_ENGINE_H_
