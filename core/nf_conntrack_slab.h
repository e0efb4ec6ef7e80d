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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
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
  // Objects per block, and the number of object slots so far (blocks x
  // objects): slot_of() is below it.
  static constexpr size_t kBlockObjects = kHugePageBytes / sizeof(nf_conn);
  size_t slots() const { return blocks_.size() * kBlockObjects; }
  // A stable index of ct's storage, for side tables of per-conn extensions
  // (the NAT extension): block number x kBlockObjects + place in block.
  // Blocks are 2 MiB aligned (huge_pages.h), so the block is found from
  // the address by a binary search over the few block bases.
  // REQUIRES: ct came from alloc().
  size_t slot_of(const nf_conn* ct) const {
    const auto base = reinterpret_cast<uintptr_t>(ct) & ~uintptr_t{kBlockBytes - 1};
    const auto it = std::lower_bound(by_base_.begin(), by_base_.end(), std::pair<uintptr_t, uint32_t>{base, 0});
    return it->second * kBlockObjects + static_cast<size_t>(ct - reinterpret_cast<const nf_conn*>(base));
  }
  // Bytes held for objects (blocks), for memory figures.
  uint64_t bytes_reserved() const { return blocks_.size() * kBlockObjects * sizeof(nf_conn); }

 private:
  // One block per 2 MiB huge page (11397 conns): the table's conns sit on
  // few TLB entries (huge_pages.h).
  static constexpr size_t kBlockBytes = kHugePageBytes;
  void grow() {
    nf_conn* base = static_cast<nf_conn*>(huge_alloc(kBlockBytes));
    const std::pair<uintptr_t, uint32_t> key{reinterpret_cast<uintptr_t>(base), static_cast<uint32_t>(blocks_.size())};
    by_base_.insert(std::lower_bound(by_base_.begin(), by_base_.end(), key), key);
    blocks_.push_back(base);
    // Not initialised here: nf_conntrack_alloc() constructs every object
    // it hands out, and no walker can reach one that was never handed out.
    // (Writing the block now would only move its page faults earlier.)
    // Hand out low addresses first (reverse push), which keeps a fresh
    // table's conns in allocation order in memory.
    for (size_t i = kBlockObjects; i-- > 0;) free_.push_back(base + i);
  }
  std::vector<nf_conn*> blocks_;
  std::vector<std::pair<uintptr_t, uint32_t>> by_base_;  // (block address, block number), sorted
  std::vector<nf_conn*> free_;
  uint64_t in_use_ = 0;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_SLAB_H_
