// The slab nf_conns come from: fixed-size blocks, never moved, reused LIFO.
//
// Mirrors: the nf_conntrack_cachep kmem_cache (SLAB_TYPESAFE_BY_RCU).
// Like that cache, a freed object's memory is left as it was until the
// object is handed out again (its stale `next` pointers are what RCU walkers
// follow). The free list is kept outside the objects for that reason.
//
// Invariants: in_use() == allocations - frees; an object is never handed out
// twice without a free in between.
// Ownership: the slab owns all memory; pointers stay valid for its lifetime.
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_CONNTRACK_SLAB_H_
#define CTSIM_CORE_NF_CONNTRACK_SLAB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/nf_conn.h"

namespace ctcore {

class NfConnSlab {
 public:
  NfConnSlab() = default;
  NfConnSlab(const NfConnSlab&) = delete;
  NfConnSlab& operator=(const NfConnSlab&) = delete;

  // An object with unspecified contents.
  nf_conn* alloc() {
    if (free_.empty()) grow();
    nf_conn* ct = free_.back();
    free_.pop_back();
    ++in_use_;
    return ct;
  }
  // REQUIRES: ct came from alloc() and was not freed since.
  void free(nf_conn* ct) {
    free_.push_back(ct);
    --in_use_;
  }
  uint64_t in_use() const { return in_use_; }
  // Bytes held for objects (blocks), for memory figures.
  uint64_t bytes_reserved() const { return blocks_.size() * kBlockObjects * sizeof(nf_conn); }

 private:
  static constexpr size_t kBlockObjects = 4096;
  void grow() {
    blocks_.push_back(std::make_unique<nf_conn[]>(kBlockObjects));
    nf_conn* base = blocks_.back().get();
    // Hand out low addresses first (reverse push), which keeps a fresh
    // table's conns in allocation order in memory.
    for (size_t i = kBlockObjects; i-- > 0;) free_.push_back(base + i);
  }
  std::vector<std::unique_ptr<nf_conn[]>> blocks_;
  std::vector<nf_conn*> free_;
  uint64_t in_use_ = 0;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_SLAB_H_
