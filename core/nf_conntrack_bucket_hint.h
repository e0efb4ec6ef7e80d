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
//    no conn has expired (v5.10 and G1; under G2/G3 every live node's
//    timeout enters the GC's average, so the GC walks every bucket);
//  - a lookup that may not find its tuple there and meets no expired conn
//    (a walk reaps those) walks `nodes` nodes for nothing;
//  - confirm's clash check does not look for a tuple that is not there.
// Each of those fast paths is marked by a comment line starting "Not in
// v5.10 (bucket hint)", and consults ConntrackConfig::exact_walks, which
// turns them all off (ctsim run --exact-walks): the reference that
// tests/exact_walks_test.cc compares every scenario's outputs against.
//
// The hint is 8 bytes, so that a bucket (head and hint) is 16: at the v5.10
// default of 4 conns per bucket that is 4 bytes per conn (issue 9's W6
// budget is 192 bytes per conn in all). Hence the coarse fields below.
//
// Invariants (for every bucket b; checked by Conntrack::check_invariants):
//  (1) count == the number of nodes linked in chain b, or kManyNodes when
//      that number is kManyNodes or more (then GC and lookups walk).
//  (2) bound() is a lower bound of the deadlines of every conn c with a
//      node in chain b: !jiffies32_before(c.timeout, bound()). The bound is
//      kept in units of 2^kShift jiffies, 16 bits wide, and a deadline more
//      than kMaxAhead after the moment it is recorded counts as that
//      moment + kMaxAhead (still a lower bound). Meaningless while the
//      chain is empty; the first link sets it again.
//  (3) For every node in chain b, with raw hash h (hash_conntrack_raw of
//      its tuple), may_hold(h). Bits of unlinked nodes may stay set.
// By (2), if the bound's unit is after now's, no conn of chain b is
// expired: every deadline is at or after the bound, which is after now.
// The 16-bit units compare wrap-safely within 2^15 units (2^23 jiffies,
// 2.3 hours at HZ=1000) of now. That holds because no bound is recorded
// more than kMaxAhead (2^22 jiffies) ahead, and a bound that has passed is
// recomputed within one GC cycle (every bucket is visited at least every
// 128 runs of at most HZ/8 each, 16 s, under v5.10; once per whole-table
// cycle under the 5.14+ profiles, rows G1-G3: at most 120 s plus the
// cycle's own length apart; a visit that finds the bound passed walks the
// chain and sets it again from the live conns).
// By (3), a tuple whose hash bits are not all set is not in chain b.
//
// Keeping (2): a link lowers the bound to the new node's deadline; a
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

class BucketHint {
 public:
  static constexpr unsigned kShift = 8;                     // bound unit: 256 jiffies
  static constexpr uint32_t kMaxAhead = uint32_t{1} << 22;  // jiffies
  static constexpr uint16_t kManyNodes = 0xffff;            // count unknown

  // A node with raw hash `hash`, whose conn's deadline is `timeout`, was
  // linked into the chain at time `now`.
  void link(uint32_t timeout, uint32_t hash, uint32_t now) {
    const uint16_t unit = unit_of(timeout, now);
    if (count_ == 0) {
      unit_ = unit;
      hash_bits_ = 0;
    } else if (static_cast<int16_t>(unit - unit_) < 0) {
      unit_ = unit;
    }
    if (count_ != kManyNodes) ++count_;
    hash_bits_ |= bits_of(hash);
  }
  // A node was unlinked. The bound and the bits stay valid (looser).
  void unlink() {
    if (count_ != kManyNodes) --count_;
  }
  // A linked conn's deadline moved to `timeout` at time `now`.
  void lower(uint32_t timeout, uint32_t now) {
    const uint16_t unit = unit_of(timeout, now);
    if (static_cast<int16_t>(unit - unit_) < 0) unit_ = unit;
  }
  // Returns true iff the chain's node count is known.
  bool knows_nodes() const { return count_ != kManyNodes; }
  // REQUIRES: knows_nodes().
  uint32_t nodes() const { return count_; }
  // Returns true iff no conn linked in the chain has expired at `now`
  // (false also when the count is unknown: then nothing is certain).
  bool none_expired(uint32_t now) const {
    if (count_ == 0) return true;
    return count_ != kManyNodes && static_cast<int16_t>(unit_ - static_cast<uint16_t>(now >> kShift)) > 0;
  }
  // Returns false only if no node with raw hash `hash` is in the chain.
  bool may_hold(uint32_t hash) const {
    const uint32_t want = bits_of(hash);
    return count_ != 0 && (hash_bits_ & want) == want;
  }
  // The bound as 32-bit jiffies, read near `now` (for checks).
  uint32_t bound(uint32_t now) const {
    const uint32_t now_unit = now >> kShift;
    const int16_t ahead = static_cast<int16_t>(unit_ - static_cast<uint16_t>(now_unit));
    return (now_unit + static_cast<uint32_t>(static_cast<int32_t>(ahead))) << kShift;
  }
  // Hash bits set, stale ones included; each node sets up to 3.
  uint32_t bits_set() const { return static_cast<uint32_t>(__builtin_popcount(hash_bits_)); }
  void keep_bits_of(const BucketHint& old) { hash_bits_ = old.hash_bits_; }
  void reset_bits() { hash_bits_ = 0; }
  void add_bits(uint32_t hash) { hash_bits_ |= bits_of(hash); }

 private:
  static uint16_t unit_of(uint32_t timeout, uint32_t now) {
    if (static_cast<int32_t>(timeout - now) > static_cast<int32_t>(kMaxAhead)) timeout = now + kMaxAhead;
    return static_cast<uint16_t>(timeout >> kShift);
  }
  // Three of 32 bits, from the hash's low 15 bits (the bucket index comes
  // from its high bits).
  static uint32_t bits_of(uint32_t hash) {
    return (uint32_t{1} << (hash & 31)) | (uint32_t{1} << ((hash >> 5) & 31)) | (uint32_t{1} << ((hash >> 10) & 31));
  }
  uint16_t unit_ = 0;       // the bound, in units of 2^kShift jiffies
  uint16_t count_ = 0;      // nodes linked, or kManyNodes
  uint32_t hash_bits_ = 0;  // bits_of() of every linked node's raw hash
};
static_assert(sizeof(BucketHint) == 8, "a bucket is a head and a hint: 16 bytes");

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_BUCKET_HINT_H_
