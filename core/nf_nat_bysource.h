// The NAT extension of a conn and the bysource table: every conn that got a
// source-NAT binding (a real one or the null binding) is hashed by its
// ORIGINAL source (address, port or id, family, protocol), so that a later
// conn from the same source can reuse the same mapping (find_appropriate_src:
// a host keeps its public address and port across destinations).
//
// Mirrors: net/netfilter/nf_nat_core.c (v5.10): nf_nat_bysource,
//          nf_nat_htable_size, nf_nat_hash_rnd, hash_by_src(),
//          nf_nat_cleanup_conntrack(); struct nf_conn_nat (masq_index) and
//          nf_conn.nat_bysource.
// Layout: the kernel keeps the bysource link in struct nf_conn and the
//          masquerade interface in the NAT extension; ctsim keeps both in
//          one side table indexed by the conn's slab slot, allocated block
//          by block on first use, so that a conn without NAT costs nothing
//          and nf_conn stays 184 bytes.
//
// Invariants:
//  (1) A conn is on a bysource chain iff IPS_SRC_NAT_DONE is set and it is
//      not freed; then its extension's `ct` points back to it.
//  (2) Chains are newest first (hlist_add_head_rcu).
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_NAT_BYSOURCE_H_
#define CTSIM_CORE_NF_NAT_BYSOURCE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "core/nf_conn.h"
#include "core/nf_conntrack_slab.h"
#include "core/siphash.h"

namespace ctcore {

class PrandomSource;

struct nf_conn_nat {
  nf_conn_nat* next;    // the next conn on the bysource chain
  nf_conn_nat** pprev;  // where the pointer to this entry sits
  nf_conn* ct;          // null while the extension is absent
  int masq_index;       // the interface a masquerade mapped through (0: none)
};

class NfNatBysource {
 public:
  // `conntrack_buckets` is nf_conntrack_htable_size, which v5.10 gives the
  // bysource table too (at least CONNTRACK_LOCKS = 1024 buckets).
  // `siphash`: hash_by_src() is 5.15+'s siphash form (with the siphash
  // kernel profiles, kernel_profile::hash != kJhash2), else v5.10's jhash2.
  NfNatBysource(const NfConnSlab& slab, uint32_t conntrack_buckets, bool siphash = false);

  // nf_ct_nat_ext_add(): ct's extension, added (zeroed) if absent.
  nf_conn_nat* nf_ct_nat_ext_add(const nf_conn* ct);
  // nfct_nat(): ct's extension, or null.
  const nf_conn_nat* nfct_nat(const nf_conn* ct) const;

  // hash_by_src(): the bucket of `tuple`'s source in namespace `hash_mix`.
  // The first call draws nf_nat_hash_rnd from `rnd` (get_random_once).
  uint32_t hash_by_src(const nf_conntrack_tuple& tuple, uint32_t hash_mix, PrandomSource& rnd);
  // Links ct at the head of its chain (nf_nat_setup_info, source manip).
  void add(nf_conn* ct, uint32_t bucket);
  // nf_nat_cleanup_conntrack(): unlinks ct and drops its extension.
  void nf_nat_cleanup_conntrack(const nf_conn* ct);
  // The chain of `bucket`, newest first (null-terminated).
  const nf_conn_nat* chain(uint32_t bucket) const { return heads_.empty() ? nullptr : heads_[bucket]; }
  uint32_t size() const { return htable_size_; }

 private:
  nf_conn_nat* slot(const nf_conn* ct) const;

  const NfConnSlab& slab_;
  uint32_t htable_size_;
  bool rnd_drawn_ = false;
  uint32_t nf_nat_hash_rnd_ = 0;  // v5.10's jhash seed
  bool siphash_;
  siphash_key_t nf_nat_siphash_rnd_{};                  // 5.15+'s siphash key
  std::vector<nf_conn_nat*> heads_;                     // allocated at the first add()
  std::vector<std::unique_ptr<nf_conn_nat[]>> blocks_;  // per slab block, on first use
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_BYSOURCE_H_
