// What ctsim knows about each hash chain without walking it: how many nodes
// it holds, a deadline no conn linked in it expires before, and which
// tuple hashes it may hold.
//
// Not in the kernel, which walks every node of a chain for each lookup,
// confirm and gc_worker visit: a cache miss per node once the table is
// larger than the caches. ctsim skips a walk only where the hint proves the
// walk would have had no effect but to count nodes, so every output stays
// the kernel's (core/README.md, "Differences"):
//  - gc_worker (no early drop pending) counts `nodes` of a bucket in which
//    no conn has expired;
//  - a lookup that may not find its tuple there and meets no expired conn
//    (a walk reaps those) walks `nodes` nodes for nothing;
//  - confirm's clash check does not look for a tuple that is not there.
//
// Invariants (for every bucket b; checked by Conntrack::check_invariants):
//  (1) nodes == the number of nodes linked in chain b.
//  (2) For every conn c with a node in chain b:
//      (int32_t)(c.timeout - earliest) >= 0, i.e. `earliest` is a lower
//      bound of the chain's deadlines in the kernel's wrap-safe order.
//      (Meaningless while nodes == 0; the first link sets it again.)
//  (3) For every node in chain b, with raw hash h (hash_conntrack_raw of its
//      tuple), may_hold(h). Bits of unlinked nodes may stay set.
// By (2), if (int32_t)(earliest - now) > 0, no conn of chain b is expired:
// a deadline at or after `earliest` is after `now`. This holds as long as no
// conn stays expired and unvisited for 2^31 jiffies (24.8 days at HZ=1000),
// which the GC rules out: it visits every bucket at least every 128 runs,
// and every run that finds `earliest` passed walks the chain and tightens it.
// By (3), a tuple whose hash bit is clear is not in chain b.
//
// Keeping (2): a link lowers `earliest` to the new node's deadline; a
// timeout that moves earlier on a linked conn lowers both of its chains'
// (nf_ct_refresh); a timeout that moves later leaves the bound valid, only
// looser; an exact walk recomputes it (Conntrack::hint_recount), and the
// hash bits too when stale ones have piled up.
//
// Threading: single-threaded; no internal synchronisation.
#ifndef CTSIM_CORE_NF_CONNTRACK_BUCKET_HINT_H_
#define CTSIM_CORE_NF_CONNTRACK_BUCKET_HINT_H_

#include <cstdint>

namespace ctcore {

// Returns true iff deadline `a` comes before deadline `b` (32-bit jiffies,
// wrap-safe as nf_ct_is_expired compares them).
inline bool jiffies32_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

struct BucketHint {
  uint32_t earliest = 0;      // no linked conn's deadline is before this
  uint32_t nodes = 0;         // nodes linked in the chain
  uint64_t hash_bits[2] = {}; // bit (raw hash & 127) of every linked node

  // A node with raw hash `hash`, whose conn's deadline is `timeout`, was
  // linked into the chain.
  void link(uint32_t timeout, uint32_t hash) {
    if (nodes++ == 0) {
      earliest = timeout;
      hash_bits[0] = hash_bits[1] = 0;
    } else if (jiffies32_before(timeout, earliest)) {
      earliest = timeout;
    }
    hash_bits[(hash >> 6) & 1] |= uint64_t{1} << (hash & 63);
  }
  // A node was unlinked. `earliest` and the bits stay valid (looser).
  void unlink() { --nodes; }
  // A linked conn's deadline moved to `timeout`.
  void lower(uint32_t timeout) {
    if (jiffies32_before(timeout, earliest)) earliest = timeout;
  }
  // Returns true iff no conn linked in the chain has expired at `now`.
  bool none_expired(uint32_t now) const {
    return nodes == 0 || static_cast<int32_t>(earliest - now) > 0;
  }
  // Returns false only if no node with raw hash `hash` is in the chain.
  bool may_hold(uint32_t hash) const {
    return nodes != 0 && ((hash_bits[(hash >> 6) & 1] >> (hash & 63)) & 1) != 0;
  }
  // Hash bits set, stale ones included.
  uint32_t bits_set() const {
    return static_cast<uint32_t>(__builtin_popcountll(hash_bits[0]) +
                                 __builtin_popcountll(hash_bits[1]));
  }
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_BUCKET_HINT_H_
