#include "sim/event_queue.h"

#include "core/nf_conntrack_common.h"

namespace ctsim {

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

uint64_t EventQueue::push(Event ev) {
  CT_ASSERT(next_seq_ < (1ull << 56), "event sequence numbers exhausted");
  const uint64_t seq = next_seq_++;
  const QueuedEvent q{ev.t, (static_cast<uint64_t>(ev.phase) << 56) | seq, ev.ptr, ev.arg, ev.kind};
  if (ev.t == last_t_ && (now_head_ == now_.size() || (now_.back().order >> 56) <= static_cast<uint64_t>(ev.phase))) {
    if (now_head_ == now_.size()) {
      now_.clear();
      now_head_ = 0;
    }
    now_.push_back(q);
  } else {
    heap_push(q);
  }
  return seq;
}

Event EventQueue::pop() {
  QueuedEvent top;
  if (fifo_first()) {
    top = now_[now_head_++];
  } else {
    top = heap_pop();
  }
  last_t_ = top.t;
  Event out;
  out.t = top.t;
  out.phase = static_cast<Phase>(top.order >> 56);
  out.seq = top.order & ((1ull << 56) - 1);
  out.kind = top.kind;
  out.arg = top.arg;
  out.ptr = top.ptr;
  return out;
}

}  // namespace ctsim
