// Intrusive singly linked lists whose end marker is a "nulls" value instead
// of NULL.
//
// Mirrors: include/linux/list_nulls.h (hlist_nulls_head, hlist_nulls_node,
//          INIT_HLIST_NULLS_HEAD, is_a_nulls, get_nulls_value,
//          hlist_nulls_for_each_entry{,_rcu} as hlist_nulls_walk).
// Simplified: single-threaded. The kernel's node also has a back link
//          (`pprev`) for O(1) unlinking; ctsim's node is the forward link
//          alone, which saves 8 bytes in each of a conn's two nodes. Its two
//          kinds of list unlink differently:
//          - hash chains (short, and mostly just walked) unlink by walking
//            from the head to the predecessor: hlist_nulls_del_from();
//          - the per-CPU unconfirmed and dying lists (long, unlinked in any
//            order) keep their back link in the conn (nf_conn::list_pprev,
//            see Conntrack::nf_ct_add_to_*_list).
//          Deletion keeps RCU semantics on purpose either way: the unlinked
//          node's `next` is left as it was, so a walker that stands on it
//          goes on from its old successor, and a node moved to another list
//          (the dying list) leads a walker into that list and to its nulls
//          marker. The kernel's lookup restarts on that (search_restart)
//          and its gc_worker silently ends the bucket; ctsim reproduces both.
//
// Invariants:
//  (1) A list ends in a pointer with bit 0 set; the rest of its bits are the
//      list's nulls value (a hash bucket number, or a special list id).
//  (2) An unlinked node's next pointer is stale (or, for a conn's unused
//      REPLY node before confirm, not a pointer at all: see
//      Conntrack::stash_raw_hashes); no list leads to it.
//
// Threading: single-threaded; no internal synchronisation.
#ifndef CTSIM_CORE_HLIST_NULLS_H_
#define CTSIM_CORE_HLIST_NULLS_H_

#include <cstdint>

namespace ctcore {

struct hlist_nulls_node {
  hlist_nulls_node* next = nullptr;
};

struct hlist_nulls_head {
  hlist_nulls_node* first = nullptr;
};

inline hlist_nulls_node* make_nulls(uint32_t nulls) {
  return reinterpret_cast<hlist_nulls_node*>((static_cast<uintptr_t>(nulls) << 1) | 1u);
}

inline bool is_a_nulls(const hlist_nulls_node* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 1u) != 0; }

inline uint32_t get_nulls_value(const hlist_nulls_node* ptr) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(ptr) >> 1);
}

inline void INIT_HLIST_NULLS_HEAD(hlist_nulls_head* h, uint32_t nulls) { h->first = make_nulls(nulls); }

// A walk along a list from `first` to the nulls marker that ends it, as a
// range of nodes: the kernel's hlist_nulls_for_each_entry{,_rcu} loop.
//
//   auto walk = hlist_nulls_walk(head.first);
//   for (hlist_nulls_node* node : walk) { ... }
//   if (walk.nulls() != bucket) /* led off the chain: restart */;
//
// Each node's `next` is read only after the loop body for that node has
// run, as the hand-written loop does: a body that unlinks the node (RCU
// semantics, above) or moves it onto another list leads the walk on from
// the node's `next` as it is then, into that other list if need be.
// After a walk that ran to its end (no break or return), nulls() is the
// nulls value of the marker it ended on: the list it was on when it ended.
//
// The walk keeps one cursor, in itself; the iterator only points to it, so
// once inlined the loop is the same single pointer chase as the hand-written
// `for (n = first; !is_a_nulls(n); n = n->next)` (no copy of the position
// to read back after the loop). Node is hlist_nulls_node, const or not.
template <typename Node>
class hlist_nulls_walk {
 public:
  explicit hlist_nulls_walk(Node* first) : pos_(first) {}
  hlist_nulls_walk(const hlist_nulls_walk&) = delete;
  hlist_nulls_walk& operator=(const hlist_nulls_walk&) = delete;

  struct sentinel {};
  class iterator {
   public:
    explicit iterator(Node** pos) : pos_(pos) {}
    Node* operator*() const { return *pos_; }
    iterator& operator++() {
      *pos_ = (*pos_)->next;
      return *this;
    }
    bool operator!=(sentinel) const { return !is_a_nulls(*pos_); }

   private:
    Node** pos_;
  };

  iterator begin() { return iterator(&pos_); }
  sentinel end() const { return {}; }
  // REQUIRES: the walk ran to its end (the range-for loop was not left
  // early). The nulls value the walk ended on.
  uint32_t nulls() const { return get_nulls_value(pos_); }

 private:
  Node* pos_;  // the node the walk stands on, then its nulls marker
};
template <typename Node>
hlist_nulls_walk(Node*) -> hlist_nulls_walk<Node>;

// Links n at the head of h (no back links to keep).
inline void hlist_nulls_add_head(hlist_nulls_node* n, hlist_nulls_head* h) {
  n->next = h->first;
  h->first = n;
}

// Unlinks n from h, found by walking from the head; n->next is left intact
// for walkers that stand on n (RCU semantics). Returns false (and changes
// nothing) iff n is not on h.
inline bool hlist_nulls_del_from(hlist_nulls_node* n, hlist_nulls_head* h) {
  for (hlist_nulls_node** pp = &h->first; !is_a_nulls(*pp); pp = &(*pp)->next) {
    if (*pp == n) {
      *pp = n->next;
      return true;
    }
  }
  return false;
}

// Number of nodes on the list (walks it; for checks and snapshots only).
inline uint32_t hlist_nulls_count(const hlist_nulls_head* h) {
  uint32_t n = 0;
  for ([[maybe_unused]] const hlist_nulls_node* p : hlist_nulls_walk(h->first)) ++n;
  return n;
}

}  // namespace ctcore

#endif  // CTSIM_CORE_HLIST_NULLS_H_
