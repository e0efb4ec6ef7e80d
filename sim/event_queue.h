// The future-event list: a binary min-heap ordered by (time, phase, seq).
//
// Ordering contract (a strict weak order: irreflexive, antisymmetric,
// transitive, because (t, phase, seq) is unique per event):
//   1. earlier virtual time first;
//   2. at the same time, lower phase first (Phase below);
//   3. at the same time and phase, insertion order (seq, assigned at push).
// So nothing about pointers, hashing or the build can change the order.
//
// Complexity: push and pop O(log n); memory one Event (40 bytes) per pending
// event. Cancelling is lazy: the owner of a delayed work keeps the seq of its
// live event and ignores any other (see Engine).
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

class EventQueue {
 public:
  // Adds an event; returns its seq. REQUIRES: ev.t >= the time of the last
  // popped event (no scheduling into the past).
  uint64_t push(Event ev);
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  Event pop();

 private:
  static bool before(const Event& a, const Event& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.phase != b.phase) return a.phase < b.phase;
    return a.seq < b.seq;
  }
  std::vector<Event> heap_;
  uint64_t next_seq_ = 1;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_EVENT_QUEUE_H_
