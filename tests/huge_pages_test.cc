// core/huge_pages.h: from kHugeFromBytes (1 MiB) up a request is whole,
// 2 MiB-aligned huge pages (a 65536-bucket table is one page fault); below
// it, cache-line aligned memory. Only speed depends on it, so the test
// pins the alignment that makes the advice possible.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>

#include "core/huge_pages.h"

using namespace ctcore;

TEST_CASE("a 1 MiB request is huge-page aligned and usable in full; a smaller one is cache-line aligned") {
  static_assert(kHugeFromBytes == 1u << 20);
  void* table = huge_alloc(kHugeFromBytes);
  CHECK(reinterpret_cast<uintptr_t>(table) % kHugePageBytes == 0);
  std::memset(table, 0xab, kHugeFromBytes);
  huge_free(table, kHugeFromBytes);

  void* small = huge_alloc(kHugeFromBytes - kCacheLineBytes);
  CHECK(reinterpret_cast<uintptr_t>(small) % kCacheLineBytes == 0);
  std::memset(small, 0xcd, kHugeFromBytes - kCacheLineBytes);
  huge_free(small, kHugeFromBytes - kCacheLineBytes);
}
