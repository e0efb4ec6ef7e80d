// The future-event list: a 4-ary min-heap plus a FIFO for the current
// instant, together ordered by (time, phase, seq).
//
// Ordering contract (a strict weak order: irreflexive, antisymmetric,
// transitive, because (t, phase, seq) is unique per event):
//   1. earlier virtual time first;
//   2. at the same time, lower phase first (Phase below);
//   3. at the same time and phase, insertion order (seq, assigned at push).
// So nothing about pointers, hashing or the build can change the order.
//
// Most events of a packet's traversal are scheduled at the current instant
// (the time of the last pop). Such an event goes to the `now_` FIFO when its
// phase is not below the FIFO's last one: the FIFO is then sorted by the
// order above (same time, phases non-decreasing, seq increasing), and pop
// takes the smaller of the FIFO's front and the heap's top. Invariant: every
// FIFO event has t == the time of the last pop, which no heap event
// precedes in time (nothing is scheduled into the past).
//
// Complexity: push and pop O(1) through the FIFO, else O(log n) on a 4-ary
// heap (shallower than a binary one: fewer cache lines touched per pop);
// memory one Event (32 bytes) per pending event. Cancelling is lazy: the
// owner of a delayed work keeps the seq of its live event and ignores any
// other (see Engine).
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_EVENT_QUEUE_H_
#define CTSIM_SIM_EVENT_QUEUE_H_

#include <cstdint>
#include <vector>

#include "sim/sim_time.h"

namespace ctsim {

// What happens first among events at the same instant.
enum class Phase : uint8_t {
  kAction = 0,    // scenario actions (sysctl, flush, snapshot, ...)
  kWork = 1,      // workqueue items: gc_worker, ecache redelivery
  kPacket = 2,    // packet arrivals and hook steps
  kListener = 3,  // event listeners draining their sockets
  kSample = 4,    // time-series samples (see everything at t)
};

struct Event {
  SimTime t = 0;
  Phase phase = Phase::kAction;
  uint16_t kind = 0;  // meaning owned by the simulator
  uint32_t arg = 0;
  uint64_t seq = 0;
  void* ptr = nullptr;
};

// The heap's element: the order key packed into two words (time; phase in
// the top byte above the sequence number) and the payload.
struct QueuedEvent {
  SimTime t;
  uint64_t order;  // phase << 56 | seq
  void* ptr;
  uint32_t arg;
  uint16_t kind;
};
static_assert(sizeof(QueuedEvent) == 32, "queued events stay two per cache line");

class EventQueue {
 public:
  // Adds an event; returns its seq. REQUIRES: ev.t >= the time of the last
  // popped event (no scheduling into the past).
  uint64_t push(Event ev);
  bool empty() const { return heap_.empty() && now_head_ == now_.size(); }
  size_t size() const { return heap_.size() + (now_.size() - now_head_); }
  SimTime top_time() const { return top().t; }
  Phase top_phase() const { return static_cast<Phase>(top().order >> 56); }
  // REQUIRES: !empty().
  Event pop();

 private:
  static bool before(const QueuedEvent& a, const QueuedEvent& b) {
    return a.t != b.t ? a.t < b.t : a.order < b.order;
  }
  bool fifo_first() const {
    if (now_head_ == now_.size()) return false;
    return heap_.empty() || before(now_[now_head_], heap_.front());
  }
  const QueuedEvent& top() const { return fifo_first() ? now_[now_head_] : heap_.front(); }
  void heap_push(const QueuedEvent& q);
  QueuedEvent heap_pop();

  static constexpr size_t kArity = 4;
  std::vector<QueuedEvent> heap_;
  std::vector<QueuedEvent> now_;  // events at last_t_, sorted; [now_head_, end) pending
  size_t now_head_ = 0;
  SimTime last_t_ = 0;  // time of the last pop
  uint64_t next_seq_ = 1;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_EVENT_QUEUE_H_
