// Intrusive singly-headed doubly-linked lists whose end marker is a "nulls"
// value instead of NULL.
//
// Mirrors: include/linux/list_nulls.h (hlist_nulls_head, hlist_nulls_node,
//          INIT_HLIST_NULLS_HEAD, hlist_nulls_add_head, hlist_nulls_del,
//          is_a_nulls, get_nulls_value).
// Simplified: single-threaded, but deletion keeps RCU semantics on purpose:
//          hlist_nulls_del_rcu() leaves n->next as it was, so a walker that
//          stands on a node being deleted goes on from its old successor, and
//          a node moved to another list (the dying list) leads a walker into
//          that list and to its nulls marker. The kernel's lookup restarts on
//          that (search_restart) and its gc_worker silently ends the bucket;
//          ctsim reproduces both.
//
// Invariants:
//  (1) A chain ends in a pointer with bit 0 set; the rest of its bits are the
//      list's nulls value (a hash bucket number, or a special list id).
//  (2) For a linked node n: *n->pprev == n.
//  (3) An unlinked node has pprev == nullptr (hlist_nulls_unhashed()); its
//      next pointer is stale but still leads to a nulls marker.
//
// Threading: single-threaded; no internal synchronisation.
#ifndef CTSIM_CORE_HLIST_NULLS_H_
#define CTSIM_CORE_HLIST_NULLS_H_

#include <cstdint>

namespace ctcore {

struct hlist_nulls_node {
  hlist_nulls_node* next = nullptr;
  hlist_nulls_node** pprev = nullptr;
};

struct hlist_nulls_head {
  hlist_nulls_node* first = nullptr;
};

inline hlist_nulls_node* make_nulls(uint32_t nulls) {
  return reinterpret_cast<hlist_nulls_node*>((static_cast<uintptr_t>(nulls) << 1) | 1u);
}

inline bool is_a_nulls(const hlist_nulls_node* ptr) {
  return (reinterpret_cast<uintptr_t>(ptr) & 1u) != 0;
}

inline uint32_t get_nulls_value(const hlist_nulls_node* ptr) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ptr) >> 1);
}

inline void INIT_HLIST_NULLS_HEAD(hlist_nulls_head* h, uint32_t nulls) {
  h->first = make_nulls(nulls);
}

inline bool hlist_nulls_unhashed(const hlist_nulls_node* n) { return n->pprev == nullptr; }

inline bool hlist_nulls_empty(const hlist_nulls_head* h) { return is_a_nulls(h->first); }

inline void hlist_nulls_add_head(hlist_nulls_node* n, hlist_nulls_head* h) {
  hlist_nulls_node* first = h->first;
  n->next = first;
  n->pprev = &h->first;
  h->first = n;
  if (!is_a_nulls(first)) first->pprev = &n->next;
}

// Unlinks n and marks it unhashed, leaving n->next intact for walkers that
// stand on n (RCU semantics). REQUIRES: n is linked.
inline void hlist_nulls_del_rcu(hlist_nulls_node* n) {
  hlist_nulls_node* next = n->next;
  *n->pprev = next;
  if (!is_a_nulls(next)) next->pprev = n->pprev;
  n->pprev = nullptr;
}

// Number of nodes on the list (walks it; for checks and snapshots only).
inline uint32_t hlist_nulls_count(const hlist_nulls_head* h) {
  uint32_t n = 0;
  for (const hlist_nulls_node* p = h->first; !is_a_nulls(p); p = p->next) ++n;
  return n;
}

}  // namespace ctcore

#endif  // CTSIM_CORE_HLIST_NULLS_H_
