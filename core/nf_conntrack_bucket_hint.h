// What ctsim knows about each hash chain without walking it: how many nodes
// it holds and a deadline no conn linked in it expires before.
//
// Not in the kernel. v5.10's gc_worker walks every node of every bucket it
// visits; on a table of millions of conns that walk is a cache miss per node
// and would make a simulated hour of an idle table cost seconds of CPU. The
// walk only has an effect where a conn has expired (or when an early drop is
// pending, which the GC always walks exactly), so a bucket whose hint proves
// no conn in it has expired is counted (`scanned += nodes`) instead of
// walked: the GC's reports, kills and next interval stay exactly the
// kernel's. core/README.md lists this under "Differences".
//
// Invariants (for every bucket b; checked by Conntrack::check_invariants):
//  (1) nodes == the number of nodes linked in chain b.
//  (2) For every conn c with a node in chain b:
//      (int32_t)(c.timeout - earliest) >= 0, i.e. `earliest` is a lower
//      bound of the chain's deadlines in the kernel's wrap-safe order.
//      (Meaningless while nodes == 0; the first link sets it again.)
// Hence, if (int32_t)(earliest - now) > 0, no conn of chain b is expired:
// a deadline at or after `earliest` is after `now`. This holds as long as no
// conn stays expired and unvisited for 2^31 jiffies (24.8 days at HZ=1000),
// which the GC rules out: it visits every bucket at least every 128 runs,
// and every run that finds `earliest` passed walks the chain and tightens it.
//
// Keeping (2): a link lowers `earliest` to the new node's deadline; a
// timeout that moves earlier on a linked conn lowers both of its chains'
// (nf_ct_refresh); a timeout that moves later leaves the bound valid, only
// looser; an exact walk recomputes it (Conntrack::hint_recount).
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
  uint32_t earliest = 0;  // no linked conn's deadline is before this
  uint32_t nodes = 0;     // nodes linked in the chain

  // A node whose conn's deadline is `timeout` was linked into the chain.
  void link(uint32_t timeout) {
    if (nodes++ == 0 || jiffies32_before(timeout, earliest)) earliest = timeout;
  }
  // A node was unlinked. `earliest` stays a valid (looser) bound.
  void unlink() { --nodes; }
  // A linked conn's deadline moved to `timeout`.
  void lower(uint32_t timeout) {
    if (jiffies32_before(timeout, earliest)) earliest = timeout;
  }
  // Returns true iff no conn linked in the chain has expired at `now`.
  bool none_expired(uint32_t now) const {
    return nodes == 0 || static_cast<int32_t>(earliest - now) > 0;
  }
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_BUCKET_HINT_H_
