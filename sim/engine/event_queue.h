// The future-event list: a few sorted FIFO lanes plus a 4-ary min-heap,
// together ordered by (time, phase, seq).
//
// Ordering contract (a strict weak order: irreflexive, antisymmetric,
// transitive, because (t, phase, seq) is unique per event):
//   1. earlier virtual time first;
//   2. at the same time, lower phase first (Phase below);
//   3. at the same time and phase, insertion order (seq, assigned at push).
// So nothing about pointers, hashing or the build can change the order.
//
// Most events come in runs: events scheduled at the same distance (delay)
// from the current time, whose keys therefore only grow. The hook steps of
// packets at the current instant are one run (delay 0), a flow's next
// packets one rtt ahead another, an entry's next connections one interval
// ahead another. A run fits a FIFO lane.
// Invariants:
//   1. each lane holds its events sorted by the order above (an event is
//      appended only if no event of the lane comes after it);
//   2. the heap holds the rest, as a 4-ary min-heap;
//   3. top_ names where the least event of all is (a lane's front or the
//      heap's top), or kNone iff the queue is empty.
// Where an event is kept never changes the order it pops in: pop takes the
// least of the lane fronts and the heap top. A push goes to the lane of its
// delay (a drained lane keeps its delay) if it sorts after that lane's last
// event, else to an empty lane (which then holds that delay's run), else to
// the heap. Lanes are keyed by delay, not by best fit: one far-future event
// appended to a run's lane would push all of the run's later events to the
// heap.
//
// Complexity: push O(kLanes) into a lane, else O(log n) on the heap; pop
// O(kLanes) plus O(log n) when it takes from the heap; top O(1). Memory one
// QueuedEvent (32 bytes) per pending event, a lane's ring at most twice its
// largest length. Cancelling is lazy: the owner of a delayed work keeps the
// seq of its live event and ignores any other (see Engine).
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_ENGINE_EVENT_QUEUE_H_
#define CTSIM_SIM_ENGINE_EVENT_QUEUE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/engine/sim_time.h"

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

// A queued event: the order key packed into two words (time; phase in the
// top byte above the sequence number) and the payload.
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
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Adds an event; returns its seq. REQUIRES: t >= the time of the last
  // popped event (no scheduling into the past).
  uint64_t push(SimTime t, Phase phase, uint16_t kind, uint32_t arg, void* ptr);
  uint64_t push(const Event& ev) { return push(ev.t, ev.phase, ev.kind, ev.arg, ev.ptr); }
  bool empty() const { return top_ == kNone; }
  size_t size() const;
  // REQUIRES: !empty().
  SimTime top_time() const { return top().t; }
  Phase top_phase() const { return static_cast<Phase>(top().order >> 56); }
  // True iff an event pushed now at (t, phase) would be the next to pop:
  // nothing queued is at an earlier time, or at t in a phase not after it.
  bool would_pop_first(SimTime t, Phase phase) const {
    if (empty()) return true;
    const QueuedEvent& q = top();
    return q.t > t || (q.t == t && (q.order >> 56) > static_cast<uint64_t>(phase));
  }
  // Removes the least event into *out. REQUIRES: !empty().
  void pop(Event* out);
  Event pop() {
    Event e;
    pop(&e);
    return e;
  }

 private:
  // A FIFO ring of events sorted by the queue's order (invariant 1).
  class Lane {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const QueuedEvent& front() const { return ring_[head_]; }
    const QueuedEvent& back() const { return ring_[(head_ + size_ - 1) & mask_]; }
    bool full() const { return size_ == mask_ + 1; }
    // REQUIRES: !full().
    void push_back(const QueuedEvent& q) {
      ring_[(head_ + size_) & mask_] = q;
      ++size_;
    }
    // Doubles the room (the first call makes room for 16).
    void grow();
    QueuedEvent pop_front() {
      const QueuedEvent q = ring_[head_];
      head_ = (head_ + 1) & mask_;
      --size_;
      return q;
    }
    // The delay of the run the lane holds, or held last if it is empty.
    SimTime delay() const { return delay_; }
    void set_delay(SimTime d) { delay_ = d; }

   private:
    std::unique_ptr<QueuedEvent[]> ring_;  // mask_ + 1 slots, a power of two (or none)
    size_t mask_ = SIZE_MAX;               // mask_ + 1 wraps to 0: no slots reads as full
    size_t head_ = 0, size_ = 0;
    SimTime delay_ = 0;
  };

  static constexpr int kLanes = 4;
  static constexpr int kHeap = kLanes;  // top_: the heap's top
  static constexpr int kNone = -1;      // top_: nothing queued

  static bool before(const QueuedEvent& a, const QueuedEvent& b) { return a.t != b.t ? a.t < b.t : a.order < b.order; }
  const QueuedEvent& top() const { return top_ == kHeap ? heap_.front() : lanes_[top_].front(); }
  // Recomputes top_ from the lane fronts and the heap top (invariant 3).
  void find_top();
  // Keeps invariant 3 after q was put at `where` (a lane or kHeap): only a
  // new least event changes the top, and a least event is at the front of
  // its lane (it went into an empty one) or at the heap's top.
  void note_pushed(const QueuedEvent& q, int where) {
    if (top_ == kNone || before(q, top())) top_ = where;
  }
  // push() into the heap, or into a lane whose ring must grow first.
  uint64_t push_slow(const QueuedEvent& q, int lane);
  // pop() from the heap.
  void pop_heap(Event* out);
  // What every pop does after taking `top` out: invariant 3, and *out.
  void popped(const QueuedEvent& top, Event* out);
  void heap_push(const QueuedEvent& q);
  QueuedEvent heap_pop();

  static constexpr size_t kArity = 4;
  Lane lanes_[kLanes];
  std::vector<QueuedEvent> heap_;
  int top_ = kNone;
  SimTime last_t_ = 0;  // time of the last pop: delays are measured from it
  uint64_t next_seq_ = 1;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_EVENT_QUEUE_H_
