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
#include <new>
#include <vector>

#include "core/huge_pages.h"
#include "core/nf_conn.h"

namespace ctcore {

class NfConnSlab {
 public:
  NfConnSlab() = default;
  ~NfConnSlab() {
    for (nf_conn* b : blocks_) huge_free(b, kBlockBytes);
  }
  NfConnSlab(const NfConnSlab&) = delete;
  NfConnSlab& operator=(const NfConnSlab&) = delete;

  // Storage for one nf_conn: unspecified contents, possibly no object yet
  // (the caller constructs one in it).
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
  // One block per 2 MiB huge page (11397 conns): the table's conns sit on
  // few TLB entries (huge_pages.h).
  static constexpr size_t kBlockBytes = kHugePageBytes;
  static constexpr size_t kBlockObjects = kBlockBytes / sizeof(nf_conn);
  void grow() {
    nf_conn* base = static_cast<nf_conn*>(huge_alloc(kBlockBytes));
    blocks_.push_back(base);
    // Not initialised here: nf_conntrack_alloc() constructs every object
    // it hands out, and no walker can reach one that was never handed out.
    // (Writing the block now would only move its page faults earlier.)
    // Hand out low addresses first (reverse push), which keeps a fresh
    // table's conns in allocation order in memory.
    for (size_t i = kBlockObjects; i-- > 0;) free_.push_back(base + i);
  }
  std::vector<nf_conn*> blocks_;
  std::vector<nf_conn*> free_;
  uint64_t in_use_ = 0;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_SLAB_H_
