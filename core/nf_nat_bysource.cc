// The NAT extension and the bysource table (see nf_nat_bysource.h).
#include "core/nf_nat_bysource.h"

#include <cstring>

#include "core/jhash.h"
#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_hash_forms.h"
#include "core/prandom.h"

namespace ctcore {

namespace {
constexpr uint32_t CONNTRACK_LOCKS = 1024;
}

NfNatBysource::NfNatBysource(const NfConnSlab& slab, uint32_t conntrack_buckets, bool siphash)
    : slab_(slab),
      htable_size_(conntrack_buckets < CONNTRACK_LOCKS ? CONNTRACK_LOCKS : conntrack_buckets),
      siphash_(siphash) {}

nf_conn_nat* NfNatBysource::slot(const nf_conn* ct) const {
  const size_t s = slab_.slot_of(ct);
  const size_t block = s / NfConnSlab::kBlockObjects;
  if (block >= blocks_.size() || !blocks_[block]) return nullptr;
  return &blocks_[block][s % NfConnSlab::kBlockObjects];
}

nf_conn_nat* NfNatBysource::nf_ct_nat_ext_add(const nf_conn* ct) {
  const size_t s = slab_.slot_of(ct);
  const size_t block = s / NfConnSlab::kBlockObjects;
  if (block >= blocks_.size()) blocks_.resize(block + 1);
  if (!blocks_[block]) blocks_[block] = std::make_unique<nf_conn_nat[]>(NfConnSlab::kBlockObjects);
  nf_conn_nat* e = &blocks_[block][s % NfConnSlab::kBlockObjects];
  if (e->ct == nullptr) *e = nf_conn_nat{nullptr, nullptr, const_cast<nf_conn*>(ct), 0};
  return e;
}

const nf_conn_nat* NfNatBysource::nfct_nat(const nf_conn* ct) const {
  const nf_conn_nat* e = slot(ct);
  return e != nullptr && e->ct == ct ? e : nullptr;
}

uint32_t NfNatBysource::hash_by_src(const nf_conntrack_tuple& tuple, uint32_t hash_mix, PrandomSource& rnd) {
  if (siphash_) {
    // 5.15+: get_random_once() of a 128-bit key, low word first.
    if (!rnd_drawn_) {
      uint64_t w[4];
      for (uint64_t& x : w) x = rnd.prandom_u32();
      nf_nat_siphash_rnd_.key[0] = w[0] | w[1] << 32;
      nf_nat_siphash_rnd_.key[1] = w[2] | w[3] << 32;
      rnd_drawn_ = true;
    }
    // ctsim has no zones: zone id 0 (core/README.md).
    const uint32_t hash = hash_by_src_siphash(tuple, 0, hash_mix, nf_nat_siphash_rnd_);
    return static_cast<uint32_t>((static_cast<uint64_t>(hash) * htable_size_) >> 32);  // reciprocal_scale
  }
  if (!rnd_drawn_) {
    nf_nat_hash_rnd_ = rnd.prandom_u32();
    rnd_drawn_ = true;
  }
  // The source part of the tuple: address, port/id and l3num, 5 words.
  static_assert(sizeof(tuple.src) == 20, "the kernel hashes the 20-byte source part");
  uint32_t words[5];
  std::memcpy(words, &tuple.src, sizeof(words));
  const uint32_t hash = jhash2(words, 5, tuple.dst.protonum ^ nf_nat_hash_rnd_ ^ hash_mix);
  return static_cast<uint32_t>((static_cast<uint64_t>(hash) * htable_size_) >> 32);  // reciprocal_scale
}

void NfNatBysource::add(nf_conn* ct, uint32_t bucket) {
  if (heads_.empty()) heads_.assign(htable_size_, nullptr);
  nf_conn_nat* e = nf_ct_nat_ext_add(ct);
  CT_ASSERT(e->pprev == nullptr, "conn added to bysource twice");
  e->next = heads_[bucket];
  if (e->next != nullptr) e->next->pprev = &e->next;
  e->pprev = &heads_[bucket];
  heads_[bucket] = e;
}

void NfNatBysource::nf_nat_cleanup_conntrack(const nf_conn* ct) {
  nf_conn_nat* e = slot(ct);
  if (e == nullptr || e->ct != ct) return;
  if (e->pprev != nullptr) {
    *e->pprev = e->next;
    if (e->next != nullptr) e->next->pprev = e->pprev;
  }
  *e = nf_conn_nat{nullptr, nullptr, nullptr, 0};
}

}  // namespace ctcore
