#include "sim/engine/event_queue.h"

#include "core/nf_conntrack_common.h"

namespace ctsim {

void EventQueue::Lane::grow() {
  // Re-lay the ring out from its head into twice the room.
  const size_t slots = size_ == 0 ? 16 : 2 * size_;
  auto bigger = std::make_unique<QueuedEvent[]>(slots);
  for (size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & mask_];
  ring_ = std::move(bigger);
  mask_ = slots - 1;
  head_ = 0;
}

size_t EventQueue::size() const {
  size_t n = heap_.size();
  for (const Lane& l : lanes_) n += l.size();
  return n;
}

inline void EventQueue::heap_push(const QueuedEvent& q) {
  // Sift up with a hole: move parents down until q's place is found.
  size_t i = heap_.size();
  heap_.push_back(q);
  while (i > 0) {
    const size_t parent = (i - 1) / kArity;
    if (!before(q, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = q;
}

inline QueuedEvent EventQueue::heap_pop() {
  const QueuedEvent top = heap_.front();
  const QueuedEvent last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n > 0) {
    // Sift the last element down from the root with a hole.
    size_t i = 0;
    for (;;) {
      const size_t first = kArity * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = first + kArity < n ? first + kArity : n;
      for (size_t c = first + 1; c < end; ++c)
        if (before(heap_[c], heap_[best])) best = c;
      if (!before(heap_[best], last)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = last;
  }
  return top;
}

uint64_t EventQueue::push(SimTime t, Phase phase, uint16_t kind, uint32_t arg, void* ptr) {
  CT_ASSERT(next_seq_ < (1ull << 56), "event sequence numbers exhausted");
  const uint64_t seq = next_seq_++;
  const QueuedEvent q{t, (static_cast<uint64_t>(phase) << 56) | seq, ptr, arg, kind};
  // The lane of this delay's run, if q sorts after its last event (q's
  // seq is new, so no queued event equals it); else an empty lane. A lane
  // keeps its delay when it drains, so a run that often drains (one flow
  // alone, sending one packet at a time) finds its lane again at once.
  const SimTime delay = t - last_t_;
  int lane = kNone, empty = kNone;
  for (int l = 0; l < kLanes; ++l) {
    const Lane& x = lanes_[l];
    if (x.delay() == delay && (x.empty() || before(x.back(), q))) {
      lane = l;
      break;
    }
    if (empty == kNone && x.empty()) empty = l;
  }
  if (lane == kNone && empty != kNone) {
    lane = empty;
    lanes_[lane].set_delay(delay);
  }
  if (lane == kNone || lanes_[lane].full()) return push_slow(q, lane);
  lanes_[lane].push_back(q);
  note_pushed(q, lane);
  return seq;
}

// Out of line, so that the common push (into a lane with room) makes no
// call and saves no registers: the heap, and a ring that must grow (only
// until it holds its longest run).
[[gnu::noinline]] uint64_t EventQueue::push_slow(const QueuedEvent& q, int lane) {
  if (lane == kNone) {
    heap_push(q);
    lane = kHeap;
  } else {
    lanes_[lane].grow();
    lanes_[lane].push_back(q);
  }
  note_pushed(q, lane);
  return q.order & ((1ull << 56) - 1);
}

void EventQueue::find_top() {
  top_ = heap_.empty() ? kNone : kHeap;
  for (int l = 0; l < kLanes; ++l)
    if (!lanes_[l].empty() && (top_ == kNone || before(lanes_[l].front(), top()))) top_ = l;
}

inline void EventQueue::popped(const QueuedEvent& top, Event* out) {
  last_t_ = top.t;
  find_top();
  out->t = top.t;
  out->phase = static_cast<Phase>(top.order >> 56);
  out->kind = top.kind;
  out->arg = top.arg;
  out->seq = top.order & ((1ull << 56) - 1);
  out->ptr = top.ptr;
}

void EventQueue::pop(Event* out) {
  // The heap's path is a call of its own, so that a pop from a lane makes
  // none and saves no registers.
  if (top_ == kHeap) return pop_heap(out);
  popped(lanes_[top_].pop_front(), out);
}

[[gnu::noinline]] void EventQueue::pop_heap(Event* out) { popped(heap_pop(), out); }

}  // namespace ctsim
