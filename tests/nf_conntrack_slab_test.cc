// The conn slab (core/nf_conntrack_slab.h): the order it hands storage out
// in, and a free list whose memory follows the frees, not their high-water
// mark (the soak's drain: a million frees at the end of a run).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "core/nf_conntrack_slab.h"

using ctcore::nf_conn;
using ctcore::NfConnSlab;

TEST_CASE("a fresh slab hands out its block in address order, then the last freed first") {
  NfConnSlab slab;
  nf_conn* a = slab.alloc();
  nf_conn* b = slab.alloc();
  nf_conn* c = slab.alloc();
  CHECK(b == a + 1);
  CHECK(c == b + 1);
  CHECK(slab.in_use() == 3);
  slab.free(b);
  slab.free(a);
  CHECK(slab.in_use() == 1);
  CHECK(slab.alloc() == a);  // LIFO: the last freed
  CHECK(slab.alloc() == b);
  CHECK(slab.alloc() == c + 1);  // then the block's next unused slot
  CHECK(slab.slot_of(a) == 0);
  CHECK(slab.slot_of(c + 1) == 3);
}

TEST_CASE("a full block is followed by a new one; slots count whole blocks") {
  NfConnSlab slab;
  std::vector<nf_conn*> got;
  for (size_t i = 0; i < NfConnSlab::kBlockObjects + 1; ++i) got.push_back(slab.alloc());
  CHECK(slab.slots() == 2 * NfConnSlab::kBlockObjects);
  CHECK(slab.slot_of(got.back()) == NfConnSlab::kBlockObjects);
  CHECK(slab.slot_of(got[NfConnSlab::kBlockObjects - 1]) == NfConnSlab::kBlockObjects - 1);
  for (nf_conn* ct : got) slab.free(ct);
  CHECK(slab.in_use() == 0);
}

TEST_CASE("the free list holds 8 bytes per freed object and gives its chunks back as they are reused") {
  NfConnSlab slab;
  const size_t n = 3 * NfConnSlab::kBlockObjects;
  std::vector<nf_conn*> got;
  for (size_t i = 0; i < n; ++i) got.push_back(slab.alloc());
  CHECK(slab.free_list_bytes() == 0);  // unused slots are not on it
  for (nf_conn* ct : got) slab.free(ct);
  const uint64_t full = slab.free_list_bytes();
  CHECK(full >= n * sizeof(nf_conn*));
  CHECK(full <= n * sizeof(nf_conn*) + 64 * 1024);  // at most one chunk of slack
  // Handing them all out again empties the list and releases its chunks
  // but a spare.
  for (size_t i = 0; i < n; ++i) CHECK(slab.alloc() == got[n - 1 - i]);
  CHECK(slab.free_list_bytes() <= 2 * 64 * 1024);
  CHECK(slab.in_use() == n);
}
