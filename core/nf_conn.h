// struct nf_conn: one tracked connection, and its life cycle.
//
// Mirrors: include/net/netfilter/nf_conntrack.h (struct nf_conn, nf_ct_is_*,
//          nf_ct_expires, nf_ct_should_gc, nf_ct_tuplehash_to_ctrack),
//          include/net/netfilter/nf_conntrack_ecache.h (the ecache extension).
// Simplified: no zones, marks, helpers, NAT bindings, accounting or
//          timestamps; the event-cache extension is embedded; `status` is 16
//          bits (v5.10 uses bits 0..15 only); the namespace is an index.
//
// Life cycle (every conn is in exactly one of these places):
//  (1) unconfirmed: made by init_conntrack for the packet that found no conn;
//      on the unconfirmed list of (its net, the CPU that made it) through
//      tuplehash[ORIGINAL].hnnode; not in the hash table; `timeout` is
//      RELATIVE (jiffies to live from confirmation); use >= 1 (the skb's).
//  (2) confirmed: IPS_CONFIRMED set; tuplehash[ORIGINAL] and tuplehash[REPLY]
//      linked into the chains their tuples hash to (a reply-only clash entry
//      links REPLY alone); `timeout` is ABSOLUTE (32-bit jiffies); the table
//      holds one reference, every skb attached one more.
//  (3) dying: IPS_DYING set (exactly once, by nf_ct_delete) and off the hash;
//      on the dying list of (its net, the CPU that killed it). It stays there
//      while skbs hold it, or while the table's reference is kept because a
//      reliable listener has not yet taken its DESTROY event.
//  (4) freed: use reached 0; destroyed, off every list, back in the slab;
//      net->count decremented only now.
//  An unconfirmed conn whose packet is dropped goes (1) -> (4) directly.
//  The loser of a confirm clash goes (1) -> the dying list of the confirming
//  CPU WITHOUT IPS_DYING (v5.10 nf_ct_resolve_clash() only moves it), and
//  on to (4) when its packet is freed.
//  Bits never cleared once set: DYING, SEEN_REPLY, EXPECTED, CONFIRMED.
//
// Threading: single-threaded; no internal synchronisation.
#ifndef CTSIM_CORE_NF_CONN_H_
#define CTSIM_CORE_NF_CONN_H_

#include <cstddef>
#include <cstdint>

#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_proto_state.h"
#include "core/nf_conntrack_tuple.h"

namespace ctcore {

// Where a DESTROY event stands (nf_conntrack_ecache.state).
enum nf_ct_ecache_state : uint8_t {
  NFCT_ECACHE_UNKNOWN = 0,       // no DESTROY attempted yet
  NFCT_ECACHE_DESTROY_FAIL = 1,  // DESTROY undelivered; redelivery pending
  NFCT_ECACHE_DESTROY_SENT = 2,  // DESTROY delivered by the redelivery work
};

// The event-cache extension, embedded. ctmask/expmask are all-ones whenever
// the extension exists (no templates in ctsim), so they are not stored.
struct nf_conntrack_ecache {
  uint16_t cache;   // IPCT_* bits cached, not yet delivered
  uint16_t missed;  // IPCT_* bits whose delivery failed
  uint8_t state;    // nf_ct_ecache_state
  uint8_t present;  // the extension was added at init_conntrack
};

// Layout (184 bytes, 8-byte aligned): a chain walk (nf_conntrack_find,
// gc_worker, early_drop_list) reads, per node, the node's link and tuple
// and, where it must (an expiry check, or a key match), the conn's
// `timeout`, `status` and `net`; those three come first, right before the
// ORIGINAL node. The rest is read only once a conn is found.
// The nodes have no back link (hlist_nulls.h): the ORIGINAL node's, needed
// only on the per-CPU lists, is `list_pprev`; while the conn is in the
// table instead, the same 8 bytes say which chains hold its nodes.
struct nf_ct_hashed_at {
  static constexpr uint32_t kNone = UINT32_MAX;  // `orig` of a NAT_CLASH entry
  uint32_t orig;                                 // bucket of the ORIGINAL node, or kNone
  uint32_t reply;                                // bucket of the REPLY node
};
struct nf_conn {
  uint32_t timeout;  // relative while unconfirmed, absolute J32 after
  uint16_t status;   // IPS_* bits
  uint16_t net;      // index of the owning namespace (Conntrack::net_at)
  nf_conntrack_tuple_hash tuplehash[IP_CT_DIR_MAX];
  union {
    // On an unconfirmed or dying list: where the pointer to the ORIGINAL
    // node sits (the kernel's hnnode.pprev there). Null on no list.
    hlist_nulls_node** list_pprev;
    // In the table (CONFIRMED, not DYING): its chains, so that unlinking
    // and the bucket hints need no hashing (the kernel rehashes).
    nf_ct_hashed_at hashed_at;
  };
  uint32_t use;  // ct_general.use: the table's ref + one per skb
  uint32_t id;   // allocation order from 1 (ctsim's, for traces)
  uint16_t cpu;  // CPU whose unconfirmed/dying list holds it
  nf_conntrack_ecache ecache;
  nf_conntrack_proto proto;

  uint8_t protonum() const { return tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.protonum; }
  uint16_t l3num() const { return tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.l3num; }
  bool test_bit(unsigned bit) const { return (status >> bit) & 1u; }
  void set_bit(unsigned bit) { status = static_cast<uint16_t>(status | (1u << bit)); }
  bool test_and_set_bit(unsigned bit) {
    bool was = test_bit(bit);
    set_bit(bit);
    return was;
  }
};
static_assert(sizeof(nf_conn) == 184, "nf_conn is 184 bytes (W6: <= 192 per conn in all)");
static_assert(offsetof(nf_conn, tuplehash) == 8 && sizeof(nf_conntrack_tuple_hash) == 48,
              "the ORIGINAL node follows timeout, status and net");

// The conn a tuplehash is embedded in (the kernel's container_of by dst.dir).
inline nf_conn* nf_ct_tuplehash_to_ctrack(const nf_conntrack_tuple_hash* h) {
  const char* node0 = reinterpret_cast<const char*>(h - h->tuple.dst.dir);
  return reinterpret_cast<nf_conn*>(const_cast<char*>(node0) - offsetof(nf_conn, tuplehash));
}

// The conn whose ORIGINAL node is n (every node on a per-CPU list is one).
inline nf_conn* nf_ct_orig_node_to_ctrack(hlist_nulls_node* n) {
  return reinterpret_cast<nf_conn*>(reinterpret_cast<char*>(n) - offsetof(nf_conn, tuplehash));
}

inline nf_conntrack_tuple_hash* hnnode_to_tuplehash(hlist_nulls_node* n) {
  return reinterpret_cast<nf_conntrack_tuple_hash*>(n);
}

inline bool nf_ct_is_confirmed(const nf_conn* ct) { return ct->test_bit(IPS_CONFIRMED_BIT); }
inline bool nf_ct_is_dying(const nf_conn* ct) { return ct->test_bit(IPS_DYING_BIT); }

// Wrap-safe: a deadline within 2^31 jiffies before now counts as passed.
inline bool nf_ct_is_expired(const nf_conn* ct, uint32_t now32) {
  return static_cast<int32_t>(ct->timeout - now32) <= 0;
}

// Jiffies left before the deadline, 0 when passed.
inline uint32_t nf_ct_expires(const nf_conn* ct, uint32_t now32) {
  int32_t left = static_cast<int32_t>(ct->timeout - now32);
  return left > 0 ? static_cast<uint32_t>(left) : 0;
}

// Returns true iff the GC (or a walker) should kill ct now.
inline bool nf_ct_should_gc(const nf_conn* ct, uint32_t now32) {
  return nf_ct_is_expired(ct, now32) && nf_ct_is_confirmed(ct) && !nf_ct_is_dying(ct);
}

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONN_H_
