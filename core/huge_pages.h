// Memory for the big, randomly accessed arrays of the core (the bucket
// heads, the slab's blocks): 2 MiB aligned and, on Linux, advised for
// transparent huge pages, so that a lookup in a table of millions of conns
// is not a TLB miss per node on top of the cache miss.
//
// A request under 1 MiB, or a system that declines the advice, gets
// ordinary memory; behaviour never depends on it, only speed. From 1 MiB
// up a request is rounded up to whole huge pages: a 1 MiB bucket table
// (65536 buckets, a common size) is then one page fault instead of 256,
// which on these VMs is about 0.5 ms of every `ctsim run` (perf stat,
// issue 20 item 2), for at most 1 MiB more resident memory.
//
// Threading: stateless; safe anywhere.
#ifndef CTSIM_CORE_HUGE_PAGES_H_
#define CTSIM_CORE_HUGE_PAGES_H_

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ctcore {

constexpr size_t kHugePageBytes = size_t{2} << 20;

// Returns `bytes` of uninitialised memory; release with huge_free(p, bytes).
// Requests under kHugeFromBytes are cache-line aligned (enough for any T of the
// allocator below).
constexpr size_t kCacheLineBytes = 64;
constexpr size_t kHugeFromBytes = kHugePageBytes / 2;

inline void* huge_alloc(size_t bytes) {
  if (bytes < kHugeFromBytes) return ::operator new (bytes, std::align_val_t{kCacheLineBytes});
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* p = ::operator new (rounded, std::align_val_t{kHugePageBytes});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  return p;
}

inline void huge_free(void* p, size_t bytes) {
  if (bytes < kHugeFromBytes) {
    ::operator delete (p, std::align_val_t{kCacheLineBytes});
    return;
  }
  ::operator delete (p, std::align_val_t{kHugePageBytes});
}

// A std::allocator for vectors of that kind.
template <typename T>
struct HugePageAllocator {
  static_assert(alignof(T) <= kCacheLineBytes, "huge_alloc aligns to a cache line at least");
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(huge_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { huge_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace ctcore

#endif  // CTSIM_CORE_HUGE_PAGES_H_
