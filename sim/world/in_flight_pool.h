// The packets in flight: each one between its arrival and the end of its
// hook traversal (or its drop) holds a slot. Slots are reused, so the pool
// grows only to the most packets in flight at once, however long the run.
//
// Invariants:
//   (1) A slot is either live (handed out by alloc(), not yet released) or
//       on the free list, never both.
//   (2) A live slot's skb holds a reference to skb.ct when that is set
//       (the core's rule: every skb that points at a conn holds one).
//
// Ownership: slot numbers stay valid until release(); references into the
// pool are invalidated by alloc() (the vector may grow).
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_IN_FLIGHT_POOL_H_
#define CTSIM_SIM_WORLD_IN_FLIGHT_POOL_H_

#include <cstdint>
#include <vector>

#include "core/packet.h"
#include "sim/scenario/path_kind.h"

namespace ctsim {

// A flow connection slot of "none": the packet came from `packets[]`.
constexpr uint32_t kNoFlowSlot = UINT32_MAX;

struct InFlight {
  ctcore::Packet skb;
  uint64_t id = 0;
  uint16_t net = 0;
  uint16_t cpu = 0;
  PathKind path = PathKind::kForward;
  uint8_t step = 0;       // index of the hook in the path
  uint16_t rule_pos = 0;  // resume point after a queue verdict
  bool resumed = false;
  bool live = false;
  bool dead = false;                 // its namespace exited: dropped at its next step
  bool from_client = false;          // a flow packet the client sent
  uint32_t flow_slot = kNoFlowSlot;  // the flow connection that sent it
  uint32_t flow_gen = 0;
};

class InFlightPool {
 public:
  InFlightPool() = default;
  InFlightPool(const InFlightPool&) = delete;
  InFlightPool& operator=(const InFlightPool&) = delete;

  // A free slot, marked live; every field but `live` is left as it was.
  uint32_t alloc() {
    uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = grow();
    }
    slots_[s].live = true;
    return s;
  }
  // REQUIRES: `slot` is live. Its skb no longer holds a conn reference.
  void release(uint32_t slot) {
    slots_[slot].live = false;
    free_.push_back(slot);
  }
  InFlight& operator[](uint32_t slot) { return slots_[slot]; }
  const InFlight& operator[](uint32_t slot) const { return slots_[slot]; }
  // Slots ever made (live or free): bounded by the most packets in flight.
  size_t size() const { return slots_.size(); }
  // Calls fn(InFlight&) for every live slot, in slot order.
  template <typename Fn>
  void for_each_live(Fn&& fn) {
    for (InFlight& f : slots_)
      if (f.live) fn(f);
  }
  template <typename Fn>
  void for_each_live(Fn&& fn) const {
    for (const InFlight& f : slots_)
      if (f.live) fn(f);
  }

 private:
  // Out of line: the pool grows only until it holds the most packets in
  // flight at once; inlined, the growth would cost every alloc its stack.
  [[gnu::noinline]] uint32_t grow() {
    slots_.emplace_back();
    return static_cast<uint32_t>(slots_.size() - 1);
  }

  std::vector<InFlight> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_IN_FLIGHT_POOL_H_
