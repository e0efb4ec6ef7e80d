// The slab nf_conns come from: fixed-size blocks, never moved, reused LIFO.
//
// Mirrors: the nf_conntrack_cachep kmem_cache (SLAB_TYPESAFE_BY_RCU).
// Like that cache, a freed object's memory is left as it was until the
// object is handed out again (its stale `next` pointers are what RCU walkers
// follow). The free list is kept outside the objects for that reason, as a
// stack of fixed chunks: it never moves what it holds, so its memory is
// what the frees need now (8 bytes a freed object), not the high-water
// mark of a doubling array plus the copies it left behind. Slots never
// handed out are not on it: a bump index walks the newest block.
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
  // The last freed first (LIFO), then the newest block's unused slots in
  // address order.
  nf_conn* alloc() {
    nf_conn* ct;
    if (free_.size() != 0) {
      ct = free_.pop();
    } else {
      if (fresh_ == kBlockObjects) grow();
      ct = blocks_.back() + fresh_++;
    }
    ++in_use_;
    return ct;
  }
  // REQUIRES: ct came from alloc() and was not freed since.
  void free(nf_conn* ct) {
    free_.push(ct);
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
  // Bytes the free list holds (its chunks): at most a chunk or two more
  // than 8 bytes per freed object not handed out again.
  uint64_t free_list_bytes() const { return free_.bytes(); }
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
    // Low addresses first keeps a fresh table's conns in allocation order
    // in memory.
    fresh_ = 0;
  }

  // A LIFO stack of freed objects in chunks of kChunk pointers. A chunk is
  // allocated when the stack first needs it; an empty one past a spare is
  // given back.
  class FreeStack {
   public:
    size_t size() const { return size_; }
    uint64_t bytes() const { return chunks_.size() * kChunk * sizeof(nf_conn*); }
    void push(nf_conn* ct) {
      if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<nf_conn*[]>(kChunk));
      chunks_[size_ / kChunk][size_ % kChunk] = ct;
      ++size_;
    }
    // REQUIRES: size() > 0.
    nf_conn* pop() {
      --size_;
      nf_conn* ct = chunks_[size_ / kChunk][size_ % kChunk];
      // Keep one empty chunk beyond the top so a push/pop pair at a chunk
      // boundary does not allocate each time.
      if (chunks_.size() * kChunk - size_ > 2 * kChunk) chunks_.pop_back();
      return ct;
    }

   private:
    static constexpr size_t kChunk = 8192;  // 64 KiB
    std::vector<std::unique_ptr<nf_conn*[]>> chunks_;
    size_t size_ = 0;
  };

  std::vector<nf_conn*> blocks_;
  std::vector<std::pair<uintptr_t, uint32_t>> by_base_;  // (block address, block number), sorted
  FreeStack free_;
  size_t fresh_ = kBlockObjects;  // the next never-used slot of blocks_.back()
  uint64_t in_use_ = 0;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_SLAB_H_
