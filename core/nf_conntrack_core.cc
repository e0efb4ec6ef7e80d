// The conntrack core: hash, lookup, allocation, confirm, clash resolution,
// deletion and destruction.
//
// Mirrors: net/netfilter/nf_conntrack_core.c (v5.10.13). Each function below
// names the kernel function it mirrors; the code is ours, written from the
// behaviour of v5.10 (docs/KERNEL.md summarises it).
#include "core/nf_conntrack_core.h"

#include <algorithm>
#include <new>

#include "core/jhash.h"
#include "core/nf_conntrack_hash_forms.h"
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

// nf_conntrack_init_start(): buckets from RAM, then page rounding. Row S1
// (5.15, "sanitize table size default settings") raised the caps and the
// floor; the division is unchanged.
uint32_t nf_conntrack_default_buckets(uint64_t ram_bytes, ct_sizing sizing) {
  constexpr uint64_t kGiB = 1ull << 30;
  const bool v515 = sizing == ct_sizing::kV515;
  uint64_t buckets = (ram_bytes / 16384) / sizeof(void*);
  if (ram_bytes > 4 * kGiB) {  // 5.15: only with BITS_PER_LONG >= 64, as ctsim is
    buckets = v515 ? 262144 : 65536;
  } else if (ram_bytes > 1 * kGiB) {
    buckets = v515 ? 65536 : 16384;
  }
  const uint64_t floor = v515 ? 1024 : 32;
  if (buckets < floor) buckets = floor;
  return nf_ct_round_buckets(static_cast<uint32_t>(buckets));
}

// nf_conntrack_init_start()'s max_factor: 8 when the hash size was given,
// else 4 (v5.10) or 1 (5.15+: "keep the average chain length at 2").
uint32_t nf_conntrack_default_max_factor(ct_sizing sizing, bool buckets_given) {
  if (buckets_given) return 8;
  return sizing == ct_sizing::kV515 ? 1 : 4;
}

uint32_t nf_ct_round_buckets(uint32_t buckets) {
  constexpr uint32_t kHeadsPerPage = 4096 / sizeof(void*);  // 512
  return (buckets + kHeadsPerPage - 1) / kHeadsPerPage * kHeadsPerPage;
}

Conntrack::Conntrack(const ConntrackConfig& config, Clock& clock, Workqueue& wq)
    : clock_(clock),
      wq_(wq),
      htable_size_(config.htable_size),
      max_(config.max),
      hash_rnd_(config.hash_rnd),
      cpus_(config.cpus),
      profile_(config.profile),
      siphash_rnd_(config.siphash_rnd),
      exact_walks_(config.exact_walks),
      nat_bysource_(slab_, config.htable_size, config.profile.hash != ct_hash_form::kJhash2) {
  CT_ASSERT(htable_size_ > 0, "the table needs at least one bucket");
  CT_ASSERT(cpus_ > 0, "at least one CPU");
  hash_.resize(htable_size_);
  for (uint32_t i = 0; i < htable_size_; ++i) INIT_HLIST_NULLS_HEAD(&hash_[i].head, i);
  // conntrack_gc_work_init() + the first queue_delayed_work(.., HZ) of
  // nf_conntrack_init_start().
  // ConntrackConfig::gc_first_run moves that first run (table.gc_phase).
  const uint32_t first_run = config.gc_first_run.value_or(clock_.hz());
  gc_.next_gc_run = clock_.hz();
  gc_.last_run = now32();
  hint_trust_until_ = gc_.last_run + kHintGcGap;  // an empty table's hints hold
  gc_.dwork.func = [this] { gc_worker(); };
  wq_.queue_delayed_work(&gc_.dwork, first_run);
}

Conntrack::~Conntrack() {
  gc_.exiting = true;
  wq_.cancel_delayed_work(&gc_.dwork);
  for (auto& n : nets_) wq_.cancel_delayed_work(&n->ecache_dwork);
}

net& Conntrack::net_add(const std::string& name, uint32_t hash_mix) {
  CT_ASSERT(nets_.size() < 65535, "too many namespaces");
  auto n = std::make_unique<net>();
  n->name = name;
  n->index = static_cast<uint16_t>(nets_.size());
  n->hash_mix = hash_mix;
  n->sysctl = nf_conntrack_sysctl::defaults(clock_.hz(), profile_);
  n->pcpu.resize(cpus_);
  for (ct_pcpu& p : n->pcpu) {
    INIT_HLIST_NULLS_HEAD(&p.unconfirmed, UNCONFIRMED_NULLS_VAL);
    INIT_HLIST_NULLS_HEAD(&p.dying, DYING_NULLS_VAL);
  }
  INIT_HLIST_NULLS_HEAD(&n->ecache_dying_list, DYING_NULLS_VAL);
  // 5.19+ (row L3): the sysctl's default is the profile's (2: auto).
  n->sysctl.events = profile_.events_default;
  net* raw = n.get();
  n->ecache_dwork.func = [this, raw] { ecache_work(*raw); };
  nets_.push_back(std::move(n));
  return *raw;
}

// ---------------------------------------------------------------- hashing

// hash_conntrack_raw(): v5.10 hashes with jhash2 over the tuple's first 9
// words (src address, src port + l3num, dst address), seeded with the
// global and namespace seeds mixed with the destination port and protocol.
// The siphash kernels (rows H1-H3, kernel_profile::hash) use one of the
// forms of nf_conntrack_hash_forms.h with the 128-bit key. The zone id they
// take (nf_ct_zone_id) is always 0: ctsim has no zones (row Z1,
// core/README.md), so resolve_normal_ct's retry with the reply-direction
// zone never happens either.
uint32_t Conntrack::hash_conntrack_raw(const nf_conntrack_tuple& t, const net& n) const {
  if (profile_.hash != ct_hash_form::kJhash2) [[unlikely]]
    return hash_conntrack_raw_siphash(t, n);
  const uint32_t seed = hash_rnd_ ^ n.hash_mix;
  const uint32_t words[9] = {
      t.src.u3.all[0],
      t.src.u3.all[1],
      t.src.u3.all[2],
      t.src.u3.all[3],
      static_cast<uint32_t>(t.src.u_all) | (static_cast<uint32_t>(t.src.l3num) << 16),
      t.dst.u3.all[0],
      t.dst.u3.all[1],
      t.dst.u3.all[2],
      t.dst.u3.all[3],
  };
  const uint32_t initval = seed ^ ((static_cast<uint32_t>(t.dst.u_all) << 16) | t.dst.protonum);
  return jhash2(words, 9, initval);
}

uint32_t Conntrack::hash_conntrack_raw_siphash(const nf_conntrack_tuple& t, const net& n) const {
  constexpr uint32_t kZoneId = 0;  // nf_ct_zone_id(): no zones in ctsim
  switch (profile_.hash) {
    case ct_hash_form::kSiphashStruct: return hash_conntrack_raw_siphash_struct(t, kZoneId, n.hash_mix, siphash_rnd_);
    case ct_hash_form::kSiphash4u64: return hash_conntrack_raw_siphash_4u64(t, kZoneId, n.hash_mix, siphash_rnd_);
    case ct_hash_form::kSiphashTuple: return hash_conntrack_raw_siphash_tuple(t, kZoneId, n.hash_mix, siphash_rnd_);
    case ct_hash_form::kJhash2: break;
  }
  CT_ASSERT(false, "hash_conntrack_raw_siphash called for the jhash2 form");
  return 0;
}

uint32_t Conntrack::scale_hash(uint32_t hash) const { return reciprocal_scale(hash, htable_size_); }

// nf_ct_key_equal(): same tuple, confirmed, same namespace (zones are not
// modelled).
bool Conntrack::nf_ct_key_equal(const nf_conntrack_tuple_hash* h, const nf_conntrack_tuple& tuple, const net& n) const {
  const nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
  return nf_ct_tuple_equal(tuple, h->tuple) && nf_ct_is_confirmed(ct) && ct->net == n.index;
}

namespace {

// The observer's reports on the packet path, out of line and cold: with
// tracing off each costs one predictable branch, no call set-up.
[[gnu::cold, gnu::noinline]] void report_call(Observer* obs, const char* fn) { obs->on_call(fn); }
[[gnu::cold, gnu::noinline]] void report_branch(Observer* obs, const nf_conn* ct, CtBranch b, const char* fn) {
  obs->on_branch(ct, b, fn);
}
[[gnu::cold, gnu::noinline]] void report_stat(Observer* obs, const net& n, uint16_t cpu, const char* counter,
                                              const char* fn) {
  obs->on_stat(n, cpu, counter, 1, fn);
}
// The reference __nf_conntrack_find_get() took (if it matched), then the
// lookup itself.
[[gnu::cold, gnu::noinline]] void report_lookup(Observer* obs, const net& n, uint16_t cpu,
                                                const nf_conntrack_tuple& tuple, uint32_t hash, uint32_t bucket,
                                                uint32_t walked, const nf_conntrack_tuple_hash* h) {
  if (h != nullptr) {
    const nf_conn& ct = *nf_ct_tuplehash_to_ctrack(h);
    obs->on_ref(ct, +1, ct.use, "__nf_conntrack_find_get");
  }
  obs->on_lookup(n, cpu, tuple, hash, bucket, walked, h);
}
[[gnu::cold, gnu::noinline]] void report_ref(Observer* obs, const nf_conn& ct, int delta, uint32_t use,
                                             const char* fn) {
  obs->on_ref(ct, delta, use, fn);
}

}  // namespace

// ----------------------------------------------------------------- lookup

// ____nf_conntrack_find(): walks the bucket, reaping expired conns met on
// the way; restarts when the walk ended in another list's nulls marker
// (it was led off the chain by a node that moved, see hlist_nulls.h).
nf_conntrack_tuple_hash* Conntrack::nf_conntrack_find(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple,
                                                      uint32_t hash, uint32_t* walked) {
  const bool detail = obs_ != nullptr && obs_->wants_chain_detail();
  const uint32_t now = now32();  // the clock does not move during a walk
  const HashBucket& b = hash_[scale_hash(hash)];
  // Not in v5.10 (bucket hint): nothing here has expired, so a walk reaps none, cannot restart.
  if (!exact_walks_ && !detail && hint_bounds_trusted(now) && b.hint.none_expired(now)) {
    // Nothing in this chain has expired (nf_conntrack_bucket_hint.h), so
    // the walk reaps nothing, cannot be led off the chain and ends in its
    // nulls: it only counts nodes and compares keys. A chain that cannot
    // hold the tuple is only counted; in another, the tuple is compared
    // before the conn's other fields are read.
    // Not in v5.10 (bucket hint): no node here has this hash: a walk would only count nodes.
    if (!b.hint.may_hold(hash)) {
      *walked += b.hint.nodes();
      // A miss is usually a new conn: its confirm will link a node in
      // front of this chain's first one and write that node's back link.
      if (!is_a_nulls(b.head.first)) __builtin_prefetch(b.head.first, 1);
      return nullptr;
    }
    for (hlist_nulls_node* node : hlist_nulls_walk(b.head.first)) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      ++*walked;
      if (nf_ct_key_equal(h, tuple, n)) return h;
    }
    return nullptr;
  }
  for (;;) {
    const uint32_t bucket = scale_hash(hash);
    hlist_nulls_walk chain(hash_[bucket].head.first);
    for (hlist_nulls_node* node : chain) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
      ++*walked;
      if (nf_ct_is_expired(ct, now)) {
        if (detail) obs_->on_chain_entry(*h, true, false);
        nf_ct_gc_expired(ct, DeathReason::kTimeout);
        continue;
      }
      const bool equal = nf_ct_key_equal(h, tuple, n);
      if (detail) obs_->on_chain_entry(*h, false, equal);
      if (equal) return h;
    }
    if (chain.nulls() == bucket) return nullptr;
    ++stat(n, cpu).search_restart;
    if (obs_ != nullptr) [[unlikely]]
      report_stat(obs_, n, cpu, "search_restart", "____nf_conntrack_find");
  }
}

// __nf_conntrack_find_get(): the lookup plus a reference. v5.10 checks the
// key again once the reference is held, because under RCU its slab may
// recycle the conn between the walk and the increment
// (SLAB_TYPESAFE_BY_RCU); it then puts the reference and reports no match.
// Nothing runs in between here, so that check always passes, and ctsim
// leaves it out: it costs 23 instructions a packet (callgrind, bench W1
// --smoke: +1.9%) and about 2 ns of W1's 65 (core/README.md, differences).
// Inlined into its two callers: out of line, its prologue costs more than
// the lookup's hit path saves.
[[gnu::always_inline]] inline nf_conntrack_tuple_hash* Conntrack::nf_conntrack_find_get_hashed(
    net& n, uint16_t cpu, const nf_conntrack_tuple& tuple, uint32_t hash, bool observe) {
  uint32_t walked = 0;
  nf_conntrack_tuple_hash* h = nf_conntrack_find(n, cpu, tuple, hash, &walked);
  if (h != nullptr) {
    nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
    if (ct->use != 0) {  // atomic_inc_not_zero()
      nf_conntrack_get(ct);
    } else {
      h = nullptr;
    }
  }
  if (observe && obs_ != nullptr) [[unlikely]]
    report_lookup(obs_, n, cpu, tuple, hash, scale_hash(hash), walked, h);
  return h;
}

nf_conntrack_tuple_hash* Conntrack::nf_conntrack_find_get(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple) {
  this_cpu_ = cpu;  // the caller runs on `cpu`: a reaped conn joins its dying list
  return nf_conntrack_find_get_hashed(n, cpu, tuple, hash_conntrack_raw(tuple, n), false);
}

// nf_conntrack_tuple_taken(): the lookup NAT uses to keep tuples unique.
bool Conntrack::nf_conntrack_tuple_taken(const nf_conntrack_tuple& tuple, const nf_conn* ignored) {
  net& n = nf_ct_net(ignored);
  const uint32_t hash = hash_conntrack_raw(tuple, n);
  for (;;) {
    const uint32_t bucket = scale_hash(hash);
    hlist_nulls_walk chain(hash_[bucket].head.first);
    for (hlist_nulls_node* node : chain) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
      if (ct == ignored) continue;
      if (nf_ct_is_expired(ct, now32())) {
        nf_ct_gc_expired(ct, DeathReason::kTimeout);
        continue;
      }
      if (nf_ct_key_equal(h, tuple, n)) {
        // The same flow seen twice (two packets of one new UDP flow on two
        // CPUs) is left to the clash resolution at confirm.
        if (nf_ct_tuple_equal(ignored->tuplehash[IP_CT_DIR_ORIGINAL].tuple, ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple))
          continue;
        ++stat(n, this_cpu_).found;
        if (obs_ != nullptr) [[unlikely]]
          report_stat(obs_, n, this_cpu_, "found", "nf_conntrack_tuple_taken");
        return true;
      }
    }
    if (chain.nulls() == bucket) return false;
    ++stat(n, this_cpu_).search_restart;
    if (obs_ != nullptr) [[unlikely]]
      report_stat(obs_, n, this_cpu_, "search_restart", "nf_conntrack_tuple_taken");
  }
}

// ------------------------------------------------------------- allocation

// __nf_conntrack_alloc(): counts the conn against nf_conntrack_max first,
// early-dropping to make room; "table full, dropping packet" otherwise.
nf_conn* Conntrack::nf_conntrack_alloc(net& n, uint16_t cpu, const nf_conntrack_tuple& orig,
                                       const nf_conntrack_tuple& repl, uint32_t hash, uint32_t repl_raw) {
  ++n.count;
  if (max_ != 0 && n.count > max_) {
    if (obs_ != nullptr) obs_->on_table_full(n, n.count, max_);
    if (!early_drop(n, cpu, hash)) {
      gc_.early_drop = true;
      --n.count;
      return nullptr;
    }
  }
  // The kernel zeroes the fields from `master` up to `proto` and leaves
  // `proto` to the tracker; ctsim zeroes the whole object so that nothing
  // stale from the slab can leak into a trace.
  nf_conn* ct = new (slab_.alloc()) nf_conn{};
  ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple = orig;
  ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.dir = IP_CT_DIR_ORIGINAL;
  ct->tuplehash[IP_CT_DIR_REPLY].tuple = repl;
  ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.dir = IP_CT_DIR_REPLY;
  // Both raw hashes wait for confirm in the unused REPLY node (see
  // stash_raw_hashes); confirm's link overwrites them.
  stash_raw_hashes(ct, hash, repl_raw);
  ct->net = n.index;
  ct->cpu = cpu;
  ct->id = next_id_++;
  ct->use = 0;
  return ct;
}

// nf_conntrack_free(): back to the slab; the namespace count drops only now.
void Conntrack::nf_conntrack_free(nf_conn* ct) {
  net& n = nf_ct_net(ct);
  // nf_ct_ext_destroy(): the NAT extension's destructor takes it off the
  // bysource table before the conn goes back to the slab.
  if (ct->status & IPS_SRC_NAT_DONE) {
    nat_bysource_.nf_nat_cleanup_conntrack(ct);
    if (obs_ != nullptr) obs_->on_list(*ct, CtList::kNatBysource, false, 0, "nf_nat_cleanup_conntrack");
  }
  CT_ASSERT(n.count > 0, "namespace count underflow");
  --n.count;
  if (obs_ != nullptr) obs_->on_free(*ct);
  slab_.free(ct);
}

// init_conntrack(): the inverted tuple, a new conn with its event-cache
// extension, onto this CPU's unconfirmed list with the skb's reference.
nf_conntrack_tuple_hash* Conntrack::init_conntrack(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple, uint32_t hash,
                                                   bool* table_full) {
  nf_conntrack_tuple repl;
  if (!nf_ct_invert_tuple(&repl, tuple)) {
    nf_l4proto_log_invalid("tuple cannot be inverted");
    return nullptr;
  }
  // Confirm will read the reply tuple's bucket: start that miss now, so
  // that it overlaps the tracker's work (a hint only, no effect).
  const uint32_t repl_raw = hash_conntrack_raw(repl, n);
  __builtin_prefetch(&hash_[scale_hash(repl_raw)]);
  nf_conn* ct = nf_conntrack_alloc(n, cpu, tuple, repl, hash, repl_raw);
  if (ct == nullptr) {
    *table_full = true;
    return nullptr;
  }
  ct->ecache.present = nf_ct_ecache_ext_add(n) ? 1 : 0;
  nf_conntrack_get(ct);
  if (obs_ != nullptr) obs_->on_ref(*ct, +1, ct->use, "init_conntrack");
  nf_ct_add_to_unconfirmed_list(ct);
  return &ct->tuplehash[IP_CT_DIR_ORIGINAL];
}

// nf_ct_add_to_unconfirmed_list(). 5.19+ (row L1, "remove unconfirmed
// list") has none: the conn is on no list until confirm (list_pprev stays
// null: the allocation zeroed it).
void Conntrack::nf_ct_add_to_unconfirmed_list(nf_conn* ct) {
  if (!profile_.unconfirmed_list) return;
  pcpu_list_add(ct, &nf_ct_net(ct).pcpu[ct->cpu].unconfirmed);
  if (obs_ != nullptr) obs_->on_list(*ct, CtList::kUnconfirmed, true, ct->cpu, "nf_ct_add_to_unconfirmed_list");
}

// nf_ct_add_to_dying_list(): the conn now belongs to the killing CPU.
// 5.19+ (row L1, "remove the percpu dying list"): a killed conn goes on no
// list (only one whose DESTROY failed goes on the ecache dying list, see
// nf_ct_add_to_ecache_list); the bytes that held its buckets now say so.
void Conntrack::nf_ct_add_to_dying_list(nf_conn* ct) {
  if (profile_.redelivery != ct_redelivery::kPcpuDying) {
    ct->list_pprev = nullptr;
    return;
  }
  const uint16_t cpu = smp_processor_id();
  ct->cpu = cpu;
  pcpu_list_add(ct, &nf_ct_net(ct).pcpu[cpu].dying);
  if (obs_ != nullptr) obs_->on_list(*ct, CtList::kDying, true, cpu, "nf_ct_add_to_dying_list");
}

// nf_ct_add_to_ecache_list() (5.19+): a conn whose DESTROY failed waits on
// its namespace's ecache dying list for the redelivery work.
void Conntrack::nf_ct_add_to_ecache_list(nf_conn* ct) {
  pcpu_list_add(ct, &nf_ct_net(ct).ecache_dying_list);
  if (obs_ != nullptr) obs_->on_list(*ct, CtList::kEcacheDying, true, 0, "nf_ct_add_to_ecache_list");
}

void Conntrack::nf_ct_del_from_dying_or_unconfirmed_list(nf_conn* ct) {
  // v5.10 keeps every conn on a list until it is freed; 5.19+ only
  // unconfirmed conns (when that list exists) and failed DESTROYs, which
  // the redelivery work unlinks before its put.
  if (ct->list_pprev == nullptr) {
    CT_ASSERT(!profile_.unconfirmed_list || profile_.redelivery != ct_redelivery::kPcpuDying,
              "conn on no per-CPU list");
    return;
  }
  if (obs_ != nullptr) report_list_exit(ct, "nf_ct_del_from_dying_or_unconfirmed_list");
  pcpu_list_del(ct);
}

// Which per-CPU list ct's ORIGINAL node is on, told to the observer as
// it leaves. Walks the lists: only runs with an observer pay for it.
void Conntrack::report_list_exit(const nf_conn* ct, const char* fn) const {
  const net& n = nf_ct_net(ct);
  auto on = [ct](const hlist_nulls_head& h) {
    for (const hlist_nulls_node* node : hlist_nulls_walk(h.first))
      if (node == &ct->tuplehash[IP_CT_DIR_ORIGINAL].hnnode) return true;
    return false;
  };
  for (uint16_t c = 0; c < n.pcpu.size(); ++c) {
    if (on(n.pcpu[c].unconfirmed)) return obs_->on_list(*ct, CtList::kUnconfirmed, false, c, fn);
    if (on(n.pcpu[c].dying)) return obs_->on_list(*ct, CtList::kDying, false, c, fn);
  }
  obs_->on_list(*ct, CtList::kEcacheDying, false, 0, fn);
}

// hlist_nulls_add_head_rcu() on a per-CPU list: every node there is an
// ORIGINAL node, whose back link is its conn's list_pprev.
void Conntrack::pcpu_list_add(nf_conn* ct, hlist_nulls_head* h) {
  hlist_nulls_node* n = &ct->tuplehash[IP_CT_DIR_ORIGINAL].hnnode;
  hlist_nulls_node* first = h->first;
  n->next = first;
  ct->list_pprev = &h->first;
  h->first = n;
  if (!is_a_nulls(first)) nf_ct_orig_node_to_ctrack(first)->list_pprev = &n->next;
}

// hlist_nulls_del_rcu() on a per-CPU list: the node keeps its `next`.
void Conntrack::pcpu_list_del(nf_conn* ct) {
  hlist_nulls_node* next = ct->tuplehash[IP_CT_DIR_ORIGINAL].hnnode.next;
  *ct->list_pprev = next;
  if (!is_a_nulls(next)) nf_ct_orig_node_to_ctrack(next)->list_pprev = ct->list_pprev;
  ct->list_pprev = nullptr;
}

// ------------------------------------------------------------- early drop

// early_drop_list(): kills every non-ASSURED confirmed conn of `n` met in
// the chain (expired ones are only reaped, not counted). A kill through an
// ORIGINAL node moves that node to the dying list, so the walk ends there
// (no nulls check, no restart); a kill through a REPLY node does not stop
// it. tests/nf_conntrack_core_test.cc pins both.
uint32_t Conntrack::early_drop_list(net& n, hlist_nulls_head* head) {
  uint32_t drops = 0;
  for (hlist_nulls_node* node : hlist_nulls_walk(head->first)) {
    nf_conn* tmp = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
    if (tmp->test_bit(IPS_OFFLOAD_BIT)) continue;
    if (nf_ct_is_expired(tmp, now32())) {
      nf_ct_gc_expired(tmp, DeathReason::kTimeout);
      continue;
    }
    if (tmp->test_bit(IPS_ASSURED_BIT) || tmp->net != n.index || nf_ct_is_dying(tmp)) continue;
    if (tmp->use == 0) continue;
    nf_conntrack_get(tmp);
    if (obs_ != nullptr) {
      obs_->on_branch(tmp, CtBranch::kEarlyDropList, "early_drop_list");
      obs_->on_ref(*tmp, +1, tmp->use, "early_drop_list");
    }
    if (tmp->net == n.index && nf_ct_is_confirmed(tmp) && nf_ct_delete(tmp, 0, 0, DeathReason::kEarlyDrop)) {
      ++drops;
    }
    if (obs_ != nullptr) obs_->on_ref(*tmp, -1, tmp->use - 1, "early_drop_list");
    nf_ct_put(tmp);
  }
  return drops;
}

// early_drop(): up to NF_CT_EVICTION_RANGE buckets from the new conn's;
// stops at the first bucket that gave up any conn.
bool Conntrack::early_drop(net& n, uint16_t cpu, uint32_t hash) {
  uint32_t bucket = 0;
  for (uint32_t i = 0; i < NF_CT_EVICTION_RANGE; ++i) {
    bucket = i == 0 ? scale_hash(hash) : (bucket + 1) % htable_size_;
    uint32_t drops = early_drop_list(n, &hash_[bucket].head);
    if (drops != 0) {
      stat(n, cpu).early_drop += drops;
      if (obs_ != nullptr) obs_->on_stat(n, cpu, "early_drop", drops, "early_drop");
      return true;
    }
  }
  return false;
}

// -------------------------------------------------------------- packet in

namespace {

// The packet path's reports, out of line: with an observer set (explain,
// trace) they cost a call; without, the caller's branch skips them and the
// hot functions stay as small as before (callgrind W1/W4, docs/PERFORMANCE.md).

[[gnu::cold, gnu::noinline]] void report_ctinfo(Observer* obs, const nf_conn* ct, ip_conntrack_info ctinfo,
                                                const char* fn) {
  obs->on_ctinfo(ct, ctinfo, fn);
}
[[gnu::cold, gnu::noinline]] void report_tracker(Observer* obs, const nf_conn& ct, const kernel_profile& profile,
                                                 int ret, const char* note) {
  obs->on_tracker(ct, nf_ct_l4proto_find(ct.protonum(), profile).packet_fn, ret, note);
}

}  // namespace

// resolve_normal_ct(): tuple, lookup, else a new conn; then ctinfo.
// Returns < 0 on "too stressed" (table full), else 0 (skb.ct set or not).
int Conntrack::resolve_normal_ct(net& n, uint16_t cpu, Packet& skb) {
  if (obs_ != nullptr) [[unlikely]]
    report_call(obs_, "resolve_normal_ct");
  nf_conntrack_tuple tuple;
  if (!nf_ct_get_tuple(skb, &tuple, profile_)) {
    nf_l4proto_log_invalid("no tuple: truncated or malformed header");
    return 0;
  }
  const uint32_t hash = hash_conntrack_raw(tuple, n);
  nf_conntrack_tuple_hash* h = nf_conntrack_find_get_hashed(n, cpu, tuple, hash, true);
  if (h == nullptr) {
    if (obs_ != nullptr) [[unlikely]]
      report_branch(obs_, nullptr, CtBranch::kInitConntrack, "resolve_normal_ct");
    bool table_full = false;
    h = init_conntrack(n, cpu, tuple, hash, &table_full);
    if (h == nullptr) return table_full ? -1 : 0;
    if (obs_ != nullptr) obs_->on_new(*nf_ct_tuplehash_to_ctrack(h));
  }
  nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
  ip_conntrack_info ctinfo;
  if (h->tuple.dst.dir == IP_CT_DIR_REPLY) {
    ctinfo = IP_CT_ESTABLISHED_REPLY;
  } else if (ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    ctinfo = IP_CT_ESTABLISHED;
  } else if (ct->test_bit(IPS_EXPECTED_BIT)) {
    ctinfo = IP_CT_RELATED;
  } else {
    ctinfo = IP_CT_NEW;
  }
  skb.ct = ct;
  skb.ctinfo = ctinfo;
  if (obs_ != nullptr) [[unlikely]]
    report_ctinfo(obs_, ct, ctinfo, "resolve_normal_ct");
  return 0;
}

namespace {

// What the trace's `update` record compares before and after a packet.
struct ConnView {
  uint16_t status;
  uint32_t timeout;
  uint8_t state;
};

ConnView view_of(const nf_conn* ct, const kernel_profile& profile) {
  uint8_t state = 0;
  switch (nf_ct_tracker_of(ct->protonum(), profile)) {
    case IPPROTO_TCP_: state = ct->proto.tcp.state; break;
    case IPPROTO_SCTP_: state = ct->proto.sctp.state; break;
    case IPPROTO_DCCP_: state = ct->proto.dccp.state; break;
    default: break;
  }
  return {ct->status, ct->timeout, state};
}

}  // namespace

// nf_conntrack_in(): the conntrack hook.
unsigned Conntrack::nf_conntrack_in(net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum) {
  invalid_reason_ = nullptr;
  this_cpu_ = cpu;
  if (skb.ct != nullptr || skb.untracked) return NF_ACCEPT;  // seen before
  ip_conntrack_stat& st = stat(n, cpu);

  if (skb.truncated && skb.protonum != IPPROTO_TCP_ && skb.protonum != IPPROTO_UDP_ &&
      skb.protonum != IPPROTO_UDPLITE_ && skb.protonum != IPPROTO_ICMP_ && skb.protonum != IPPROTO_ICMPV6_ &&
      nf_ct_tracker_of(skb.protonum, profile_) != 0) {
    // get_l4proto() found no layer-4 header. (The generic tracker reads
    // none: a short DCCP header under D1 is tracked.)
    ++st.invalid;
    if (obs_ != nullptr) {
      obs_->on_invalid(n, cpu, skb, "no layer-4 header");
      obs_->on_stat(n, cpu, "invalid", 1, "nf_conntrack_in");
    }
    return NF_ACCEPT;
  }

  if (skb.protonum == IPPROTO_ICMP_ || skb.protonum == IPPROTO_ICMPV6_) {
    int ret = nf_conntrack_handle_icmp(*this, n, cpu, skb, hooknum);
    if (ret <= 0) {
      // v5.10 counts it in nf_conntrack_handle_icmp(), the one caller.
      ++st.error;
      if (obs_ != nullptr) {
        if (invalid_reason_ != nullptr) obs_->on_invalid(n, cpu, skb, invalid_reason_);
        obs_->on_stat(n, cpu, "error", 1, "nf_conntrack_handle_icmp");
      }
      return static_cast<unsigned>(-ret);
    }
    if (skb.ct != nullptr || skb.untracked) {  // RELATED or untracked
      if (obs_ != nullptr) obs_->on_branch(skb.ct, CtBranch::kReturnEarly, "nf_conntrack_in");
      return NF_ACCEPT;
    }
  }

  for (;;) {  // `repeat:` in the kernel
    int err = resolve_normal_ct(n, cpu, skb);
    if (err < 0) {
      ++st.drop;
      if (obs_ != nullptr) {
        obs_->on_stat(n, cpu, "drop", 1, "nf_conntrack_in");
        obs_->on_drop(n, cpu, nullptr, "table full, dropping packet");
      }
      return NF_DROP;
    }
    nf_conn* ct = skb.ct;
    if (ct == nullptr) {
      ++st.invalid;
      if (obs_ != nullptr) {
        obs_->on_invalid(n, cpu, skb, invalid_reason_ ? invalid_reason_ : "no conntrack");
        obs_->on_stat(n, cpu, "invalid", 1, "nf_conntrack_in");
      }
      return NF_ACCEPT;
    }
    // Only the trace compares the conn before and after the tracker.
    const ConnView before = obs_ != nullptr ? view_of(ct, profile_) : ConnView{};
    int ret = nf_conntrack_handle_packet(*this, ct, skb, skb.ctinfo, hooknum);
    if (obs_ != nullptr) [[unlikely]] {
      report_tracker(obs_, *ct, profile_, ret, tracker_note_);
      tracker_note_ = nullptr;  // set by the tracker for this packet only
    }
    if (ret <= 0) {
      if (obs_ != nullptr) {
        obs_->on_invalid(n, cpu, skb, invalid_reason_ ? invalid_reason_ : "rejected by tracker");
        obs_->on_ref(*ct, -1, ct->use - 1, "nf_conntrack_in");
      }
      // nf_conntrack_put() and skb->_nfct = 0, as v5.10 writes it here
      // (not nf_reset_ct(), which reports its own put).
      skb.ct = nullptr;
      nf_ct_put(ct);
      // C3: from 5.17 (5.10.96) a reopen's -NF_REPEAT is not counted invalid.
      if (ret != -static_cast<int>(NF_REPEAT) || profile_.repeat_counts_invalid) {
        ++st.invalid;
        if (obs_ != nullptr) obs_->on_stat(n, cpu, "invalid", 1, "nf_conntrack_in");
      }
      if (ret == -static_cast<int>(NF_DROP)) {
        ++st.drop;
        if (obs_ != nullptr) obs_->on_stat(n, cpu, "drop", 1, "nf_conntrack_in");
      }
      if (ret == -static_cast<int>(NF_REPEAT)) {
        if (obs_ != nullptr) obs_->on_branch(nullptr, CtBranch::kRepeat, "nf_conntrack_in");
        invalid_reason_ = nullptr;
        continue;
      }
      return static_cast<unsigned>(-ret);
    }
    if (skb.ctinfo == IP_CT_ESTABLISHED_REPLY && !ct->test_and_set_bit(IPS_SEEN_REPLY_BIT)) {
      if (obs_ != nullptr) obs_->on_status_set(*ct, IPS_SEEN_REPLY_BIT, "nf_conntrack_in");
      nf_conntrack_event_cache(IPCT_REPLY, ct);
    }
    if (obs_ != nullptr) {
      const ConnView after = view_of(ct, profile_);
      if (after.status != before.status || after.timeout != before.timeout || after.state != before.state) {
        obs_->on_update(*ct);
      }
    }
    return static_cast<unsigned>(ret);
  }
}

void Conntrack::nf_reset_ct(Packet& skb) {
  nf_conn* ct = skb.ct;
  skb.ct = nullptr;
  if (ct == nullptr) return;
  if (obs_ != nullptr) [[unlikely]]
    report_ref(obs_, *ct, -1, ct->use - 1, "nf_reset_ct");
  nf_ct_put(ct);
}

// __nf_ct_refresh_acct(): absolute deadline once confirmed, relative before.
void Conntrack::nf_ct_refresh(nf_conn* ct, uint32_t extra) {
  if (ct->test_bit(IPS_FIXED_TIMEOUT_BIT)) return;
  if (!nf_ct_is_confirmed(ct)) {
    ct->timeout = extra;
    return;
  }
  const uint32_t deadline = now32() + extra;
  // A deadline moved earlier must lower the hints of the chains the conn
  // is linked in (see nf_conntrack_bucket_hint.h); a later one need not.
  if (jiffies32_before(deadline, ct->timeout) && !nf_ct_is_dying(ct)) {  // in the table
    const nf_ct_hashed_at at = ct->hashed_at;
    if (at.orig != nf_ct_hashed_at::kNone) hash_[at.orig].hint.lower(deadline, now32());
    hash_[at.reply].hint.lower(deadline, now32());
  }
  ct->timeout = deadline;
}

// ---------------------------------------------------------------- confirm

// nf_conntrack_confirm(): only unconfirmed conns need the table; every
// packet that gets here delivers the conn's cached events.
unsigned Conntrack::nf_conntrack_confirm(uint16_t cpu, Packet& skb) {
  this_cpu_ = cpu;
  nf_conn* ct = skb.ct;
  if (ct == nullptr) return NF_ACCEPT;
  unsigned ret = NF_ACCEPT;
  if (!nf_ct_is_confirmed(ct)) ret = nf_conntrack_confirm_detail(cpu, skb);
  // v5.10 delivers for the conn the skb had before a clash merge (the
  // local `ct` is not re-read), see core/README.md.
  if (ret == NF_ACCEPT) nf_ct_deliver_cached_events(ct);
  return ret;
}

// The insertion proper, once no clash was found (raw hashes and their
// buckets). Inlined into its two callers: v5.10's confirm stays one
// function, as it was before the chain-limited walk existed.
[[gnu::always_inline]] inline unsigned Conntrack::nf_conntrack_confirm_insert(nf_conn* ct, uint32_t raw,
                                                                              uint32_t reply_raw, uint32_t hash,
                                                                              uint32_t reply_hash) {
  // The timeout counts from confirmation, not from allocation.
  ct->timeout += now32();
  nf_conntrack_get(ct);
  ct->hashed_at = {hash, reply_hash};  // off the unconfirmed list above
  ct->set_bit(IPS_CONFIRMED_BIT);
  ++table_conns_;
  // __nf_conntrack_hash_insert(): ORIGINAL first, REPLY second, both at
  // the head, so a conn whose directions share a bucket has REPLY first.
  hash_link(&ct->tuplehash[IP_CT_DIR_ORIGINAL], ct, raw);
  hash_link(&ct->tuplehash[IP_CT_DIR_REPLY], ct, reply_raw);
  if (obs_ != nullptr) {
    obs_->on_status_set(*ct, IPS_CONFIRMED_BIT, "__nf_conntrack_confirm");
    obs_->on_list(*ct, CtList::kHashOriginal, true, hash, "__nf_conntrack_hash_insert");
    obs_->on_list(*ct, CtList::kHashReply, true, reply_hash, "__nf_conntrack_hash_insert");
    obs_->on_ref(*ct, +1, ct->use, "__nf_conntrack_confirm");
  }
  if (obs_ != nullptr) obs_->on_confirm(*ct, hash, reply_hash);
  nf_conntrack_event_cache(ct->test_bit(IPS_EXPECTED_BIT) ? IPCT_RELATED : IPCT_NEW, ct);
  return NF_ACCEPT;
}

// __nf_conntrack_confirm().
unsigned Conntrack::nf_conntrack_confirm_detail(uint16_t cpu, Packet& skb) {
  nf_conn* ct = skb.ct;
  net& n = nf_ct_net(ct);
  // A conn attached in the reply direction (REJECT) is not ours to confirm.
  if (CTINFO2DIR(skb.ctinfo) != IP_CT_DIR_ORIGINAL) return NF_ACCEPT;

  uint32_t raw = 0, reply_raw = 0;
  stashed_raw_hashes(ct, &raw, &reply_raw);
  const uint32_t hash = scale_hash(raw);
  const uint32_t reply_hash = scale_hash(reply_raw);

  nf_ct_del_from_dying_or_unconfirmed_list(ct);
  if (nf_ct_is_dying(ct)) {
    // Killed while unconfirmed (namespace exit): never inserted. Its dying
    // record was written when it was marked.
    nf_ct_add_to_dying_list(ct);
    ++stat(n, cpu).insert_failed;
    if (obs_ != nullptr) {
      obs_->on_stat(n, cpu, "insert_failed", 1, "__nf_conntrack_confirm");
      obs_->on_drop(n, cpu, ct, "conn died before confirm");
    }
    return NF_DROP;
  }

  // C1 (5.15+): the chains may not have grown too long.
  if (profile_.chain_max_base != 0) [[unlikely]]
    return nf_conntrack_confirm_chainlimit(cpu, skb, hash, reply_hash, raw, reply_raw);

  // Not in v5.10 (bucket hint): no node here has the ORIGINAL hash: a walk finds no clash.
  if (exact_walks_ || hash_[hash].hint.may_hold(raw)) {
    for (hlist_nulls_node* node : hlist_nulls_walk(hash_[hash].head.first)) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      if (nf_ct_key_equal(h, ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, n))
        return nf_ct_resolve_clash(skb, h, reply_hash, cpu);
    }
  }
  // Not in v5.10 (bucket hint): no node here has the REPLY hash: a walk finds no clash.
  if (exact_walks_ || hash_[reply_hash].hint.may_hold(reply_raw)) {
    for (hlist_nulls_node* node : hlist_nulls_walk(hash_[reply_hash].head.first)) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      if (nf_ct_key_equal(h, ct->tuplehash[IP_CT_DIR_REPLY].tuple, n))
        return nf_ct_resolve_clash(skb, h, reply_hash, cpu);
    }
  }

  return nf_conntrack_confirm_insert(ct, raw, reply_raw, hash, reply_hash);
}

// __nf_conntrack_confirm() of 5.15+ (row C1), after the dying check: both
// chains are walked in full (no hint shortcut: their lengths matter), and
// a chain with more than max_chainlen + 1 entries ahead of a match (or of
// its end) refuses the insertion: chaintoolong and insert_failed, NF_DROP.
// max_chainlen is drawn per insertion: chain_max_base +
// prandom_u32_max(chain_max_rand) (8 + [0,24) up to 6.2, 50 + [0,30) from
// 6.3; 6.2+ draw with get_random_u32_below, whose rejection step changes
// the draw with probability < 30 / 2^32, see core/README.md).
unsigned Conntrack::nf_conntrack_confirm_chainlimit(uint16_t cpu, Packet& skb, uint32_t hash, uint32_t reply_hash,
                                                    uint32_t raw, uint32_t reply_raw) {
  nf_conn* ct = skb.ct;
  net& n = nf_ct_net(ct);
  const uint32_t max_chainlen = profile_.chain_max_base + prandom_u32_max(profile_.chain_max_rand);
  uint32_t chainlen = 0;
  for (hlist_nulls_node* node : hlist_nulls_walk(hash_[hash].head.first)) {
    nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
    if (nf_ct_key_equal(h, ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, n))
      return nf_ct_resolve_clash(skb, h, reply_hash, cpu);
    if (chainlen++ > max_chainlen) return nf_ct_chaintoolong(cpu, skb);
  }
  chainlen = 0;
  for (hlist_nulls_node* node : hlist_nulls_walk(hash_[reply_hash].head.first)) {
    nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
    if (nf_ct_key_equal(h, ct->tuplehash[IP_CT_DIR_REPLY].tuple, n))
      return nf_ct_resolve_clash(skb, h, reply_hash, cpu);
    if (chainlen++ > max_chainlen) return nf_ct_chaintoolong(cpu, skb);
  }
  return nf_conntrack_confirm_insert(ct, raw, reply_raw, hash, reply_hash);
}

// The `chaintoolong:` exit: the conn never reaches the table and leaves as
// a clash loser does (through the dying list, freed with the skb).
unsigned Conntrack::nf_ct_chaintoolong(uint16_t cpu, Packet& skb) {
  nf_conn* ct = skb.ct;
  net& n = nf_ct_net(ct);
  if (obs_ != nullptr) {
    obs_->on_branch(ct, CtBranch::kNotInserted, "__nf_conntrack_confirm");
    obs_->on_dying(*ct, DeathReason::kClash);
  }
  nf_ct_add_to_dying_list(ct);
  ++stat(n, cpu).chaintoolong;
  ++stat(n, cpu).insert_failed;
  if (obs_ != nullptr) {
    obs_->on_stat(n, cpu, "chaintoolong", 1, "__nf_conntrack_confirm");
    obs_->on_stat(n, cpu, "insert_failed", 1, "__nf_conntrack_confirm");
    obs_->on_drop(n, cpu, ct, "insert_failed: chaintoolong at confirm");
  }
  return NF_DROP;
}

// prandom_u32_max(): a value in [0, ep_ro) from one prandom_u32().
uint32_t Conntrack::prandom_u32_max(uint32_t ep_ro) {
  return static_cast<uint32_t>((static_cast<uint64_t>(prandom_->prandom_u32()) * ep_ro) >> 32);
}

// nf_ct_resolve_clash(): only trackers that allow it (UDP, UDP-Lite) get a
// second chance; the loser otherwise goes to the dying list and the packet
// is dropped (insert_failed + drop).
unsigned Conntrack::nf_ct_resolve_clash(Packet& skb, nf_conntrack_tuple_hash* h, uint32_t repl_idx, uint16_t cpu) {
  nf_conn* winner = nf_ct_tuplehash_to_ctrack(h);
  nf_conn* loser = skb.ct;
  net& n = nf_ct_net(loser);
  if (nf_ct_allow_clash(winner->protonum())) {
    if (nf_ct_resolve_clash_detail(skb, h) == NF_ACCEPT ||
        nf_ct_resolve_clash_harder(skb, repl_idx, winner) == NF_ACCEPT) {
      ++stat(n, cpu).clash_resolve;
      if (obs_ != nullptr) obs_->on_stat(n, cpu, "clash_resolve", 1, "nf_ct_resolve_clash");
      return NF_ACCEPT;
    }
  }
  if (obs_ != nullptr) {
    obs_->on_clash(*loser, *winner, "drop");
    obs_->on_branch(loser, CtBranch::kNotInserted, "nf_ct_resolve_clash");
    obs_->on_dying(*loser, DeathReason::kClash);
  }
  nf_ct_add_to_dying_list(loser);
  ++stat(n, cpu).drop;
  ++stat(n, cpu).insert_failed;
  if (obs_ != nullptr) {
    obs_->on_stat(n, cpu, "drop", 1, "nf_ct_resolve_clash");
    obs_->on_stat(n, cpu, "insert_failed", 1, "nf_ct_resolve_clash");
    obs_->on_drop(n, cpu, loser, "insert_failed: clash at confirm");
  }
  return NF_DROP;
}

bool Conntrack::nf_ct_allow_clash(uint8_t protonum) const {
  const nf_conntrack_l4proto& l4 = nf_ct_l4proto_find(protonum, profile_);
  if (l4.allow_clash) return true;
  // K2: GRE from 6.5; the generic tracker (protocols without their own)
  // after 6.18 (late stables).
  if (protonum == IPPROTO_GRE_) return profile_.gre_allow_clash;
  if (l4.l4proto == 0) return profile_.generic_allow_clash;
  return false;
}

bool Conntrack::nf_ct_can_merge(const nf_conn* winner, const nf_conn* loser) const {
  // nf_ct_match(): identical in both directions, same namespace (zones:
  // none in ctsim, so they are always equal).
  const bool same =
      nf_ct_tuple_equal(winner->tuplehash[IP_CT_DIR_ORIGINAL].tuple, loser->tuplehash[IP_CT_DIR_ORIGINAL].tuple) &&
      nf_ct_tuple_equal(winner->tuplehash[IP_CT_DIR_REPLY].tuple, loser->tuplehash[IP_CT_DIR_REPLY].tuple) &&
      winner->net == loser->net;
  if (!profile_.clash_reverse) return (winner->status & IPS_NAT_DONE_MASK) == 0 || same;
  // K1 (6.12): nf_ct_match_reverse(): the same flow seen from its other
  // end first (the zone ids, swapped, are all 0 here).
  const bool reverse =
      nf_ct_tuple_equal(winner->tuplehash[IP_CT_DIR_ORIGINAL].tuple, loser->tuplehash[IP_CT_DIR_REPLY].tuple) &&
      nf_ct_tuple_equal(winner->tuplehash[IP_CT_DIR_REPLY].tuple, loser->tuplehash[IP_CT_DIR_ORIGINAL].tuple);
  return same || reverse;
}

// __nf_ct_resolve_clash(): when nf_ct_can_merge (v5.10: no NAT on the
// winner, or identical tuples), the packet joins the winner and the loser
// is freed. v5.10 refuses a dying winner first; 6.12 (K1) dropped that
// check, as its caller has made it.
unsigned Conntrack::nf_ct_resolve_clash_detail(Packet& skb, nf_conntrack_tuple_hash* h) {
  nf_conn* winner = nf_ct_tuplehash_to_ctrack(h);
  nf_conn* loser = skb.ct;
  if (!profile_.clash_reverse && nf_ct_is_dying(winner)) return NF_DROP;
  if (nf_ct_can_merge(winner, loser)) {
    if (obs_ != nullptr) {
      obs_->on_clash(*loser, *winner, "merged into winner");
      obs_->on_branch(loser, CtBranch::kNotInserted, "__nf_ct_resolve_clash");
      obs_->on_dying(*loser, DeathReason::kClash);
    }
    nf_conntrack_get(winner);
    if (obs_ != nullptr) obs_->on_ref(*winner, +1, winner->use, "__nf_ct_resolve_clash");
    // The loser never reached the table: it goes out through the dying
    // list and is freed by the put of the skb's reference below.
    nf_ct_add_to_dying_list(loser);
    skb.ct = winner;  // same ctinfo
    if (obs_ != nullptr) obs_->on_ref(*loser, -1, loser->use - 1, "__nf_ct_resolve_clash");
    nf_ct_put(loser);
    return NF_ACCEPT;
  }
  return NF_DROP;
}

// nf_ct_resolve_clash_harder(): the loser stays as a reply-only entry that
// lives one second (two DNAT'ed conns of one flow that chose different
// backends).
unsigned Conntrack::nf_ct_resolve_clash_harder(Packet& skb, uint32_t repl_idx, const nf_conn* winner) {
  nf_conn* loser = skb.ct;
  const net& n = nf_ct_net(loser);
  for (hlist_nulls_node* node : hlist_nulls_walk(hash_[repl_idx].head.first)) {
    nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
    if (nf_ct_key_equal(h, loser->tuplehash[IP_CT_DIR_REPLY].tuple, n)) return nf_ct_resolve_clash_detail(skb, h);
  }
  loser->timeout = now32() + hz();
  loser->status |= IPS_FIXED_TIMEOUT | IPS_NAT_CLASH;
  if (obs_ != nullptr) obs_->on_status_set(*loser, IPS_FIXED_TIMEOUT_BIT, "nf_ct_resolve_clash_harder");
  nf_conntrack_get(loser);
  const uint32_t repl_raw = hash_conntrack_raw(loser->tuplehash[IP_CT_DIR_REPLY].tuple, n);
  loser->hashed_at = {nf_ct_hashed_at::kNone, scale_hash(repl_raw)};  // off the unconfirmed list
  loser->set_bit(IPS_CONFIRMED_BIT);
  ++table_conns_;
  // hlist_nulls_add_fake(): the ORIGINAL node is on no list, so lookups
  // only ever find the winner for that direction.
  loser->tuplehash[IP_CT_DIR_ORIGINAL].hnnode.next = make_nulls(0);
  hash_link(&loser->tuplehash[IP_CT_DIR_REPLY], loser, repl_raw);
  if (obs_ != nullptr) {
    obs_->on_status_set(*loser, IPS_NAT_CLASH_BIT, "nf_ct_resolve_clash_harder");
    obs_->on_status_set(*loser, IPS_CONFIRMED_BIT, "nf_ct_resolve_clash_harder");
    obs_->on_list(*loser, CtList::kHashReply, true, loser->hashed_at.reply, "nf_ct_resolve_clash_harder");
    obs_->on_ref(*loser, +1, loser->use, "nf_ct_resolve_clash_harder");
  }
  if (obs_ != nullptr) obs_->on_clash(*loser, *winner, "inserted reply-only");
  return NF_ACCEPT;
}

// ------------------------------------------------------ delete and destroy

// nf_ct_gc_expired(): kill an expired conn met by a walker.
void Conntrack::nf_ct_gc_expired(nf_conn* ct, DeathReason why) {
  if (ct->use == 0) return;  // being freed (atomic_inc_not_zero failed)
  nf_conntrack_get(ct);
  if (obs_ != nullptr) obs_->on_ref(*ct, +1, ct->use, "nf_ct_gc_expired");
  if (nf_ct_should_gc(ct, now32())) nf_ct_kill(ct, why);
  if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "nf_ct_gc_expired");
  nf_ct_put(ct);
}

// nf_ct_delete(): the one way out of the table. DYING is set once; the
// DESTROY event goes out before the conn leaves the lists; if a reliable
// listener could not take it, the table's reference is kept for the
// redelivery work to put.
bool Conntrack::nf_ct_delete(nf_conn* ct, uint32_t portid, int report, DeathReason why) {
  if (ct->test_and_set_bit(IPS_DYING_BIT)) return false;
  net& n = nf_ct_net(ct);
  if (obs_ != nullptr) {
    obs_->on_status_set(*ct, IPS_DYING_BIT, "nf_ct_delete");
    obs_->on_dying(*ct, why);
  }
  int r = 0;
  if (ct->ecache.present) r = nf_conntrack_eventmask_report(1u << IPCT_DESTROY, ct, portid, report);
  if (r < 0) {
    nf_ct_delete_from_lists(ct);
    if (profile_.redelivery != ct_redelivery::kPcpuDying) nf_ct_add_to_ecache_list(ct);
    nf_conntrack_ecache_delayed_work(n);
    return false;
  }
  nf_conntrack_ecache_work(n);
  nf_ct_delete_from_lists(ct);
  if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "nf_ct_delete");
  nf_ct_put(ct);
  return true;
}

// nf_ct_delete_from_lists() + clean_from_lists(): off both chains, onto the
// dying list of the CPU doing it.
void Conntrack::nf_ct_delete_from_lists(nf_conn* ct) {
  // v5.10 hashes both tuples here (for the bucket locks); ctsim kept the
  // buckets (hashed_at, read before the dying list reuses those bytes).
  const nf_ct_hashed_at at = ct->hashed_at;
  // ORIGINAL first, then REPLY, as clean_from_lists(); each unlinked from
  // its chain by a walk to its predecessor (hlist_nulls.h).
  if (at.orig != nf_ct_hashed_at::kNone) {
    hash_[at.orig].hint.unlink();
    const bool found = hlist_nulls_del_from(&ct->tuplehash[IP_CT_DIR_ORIGINAL].hnnode, &hash_[at.orig].head);
    CT_ASSERT(found, "ORIGINAL node not in its chain");
    if (obs_ != nullptr) obs_->on_list(*ct, CtList::kHashOriginal, false, at.orig, "nf_ct_delete_from_lists");
  }
  hash_[at.reply].hint.unlink();
  const bool found = hlist_nulls_del_from(&ct->tuplehash[IP_CT_DIR_REPLY].hnnode, &hash_[at.reply].head);
  CT_ASSERT(found, "REPLY node not in its chain");
  if (obs_ != nullptr) obs_->on_list(*ct, CtList::kHashReply, false, at.reply, "nf_ct_delete_from_lists");
  --table_conns_;
  nf_ct_add_to_dying_list(ct);
}

void Conntrack::for_each_conn_on_list(const net* only, bool dying,
                                      const std::function<void(const nf_conn&)>& fn) const {
  auto walk = [&](const hlist_nulls_head& h) {
    for (hlist_nulls_node* node : hlist_nulls_walk(h.first)) fn(*nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node)));
  };
  for (const auto& np : nets_) {
    if (only != nullptr && np.get() != only) continue;
    for (const ct_pcpu& p : np->pcpu) walk(dying ? p.dying : p.unconfirmed);
    if (dying) walk(np->ecache_dying_list);
  }
}

uint32_t Conntrack::dying_list_length(const net& n) const {
  uint32_t len = list_length(n.ecache_dying_list);
  for (const ct_pcpu& p : n.pcpu) len += list_length(p.dying);
  return len;
}

uint32_t Conntrack::unconfirmed_list_length(const net& n) const {
  uint32_t len = 0;
  for (const ct_pcpu& p : n.pcpu) len += list_length(p.unconfirmed);
  return len;
}

void Conntrack::hash_link(nf_conntrack_tuple_hash* node, const nf_conn* ct, uint32_t raw) {
  HashBucket& b = hash_[scale_hash(raw)];
  hlist_nulls_add_head(&node->hnnode, &b.head);
  b.hint.link(ct->timeout, raw, now32());
}

void Conntrack::hint_recount(uint32_t bucket) {
  const uint32_t now = now32();
  BucketHint& hint = hash_[bucket].hint;
  BucketHint fresh;
  for (hlist_nulls_node* node : hlist_nulls_walk(hash_[bucket].head.first))
    fresh.link(nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node))->timeout, 0, now);
  // The hash bits cost a jhash per node to redo: only once stale bits (of
  // unlinked nodes) are more than the live nodes can have set.
  if (fresh.knows_nodes() && hint.bits_set() > 3 * fresh.nodes()) {
    fresh.reset_bits();
    for (hlist_nulls_node* node : hlist_nulls_walk(hash_[bucket].head.first)) {
      const nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      fresh.add_bits(hash_conntrack_raw(h->tuple, nf_ct_net(nf_ct_tuplehash_to_ctrack(h))));
    }
  } else {
    fresh.keep_bits_of(hint);
  }
  hint = fresh;
}

void Conntrack::nf_ct_put(nf_conn* ct) {
  CT_ASSERT(ct->use > 0, "nf_ct_put on a conn with no references");
  if (--ct->use == 0) destroy_conntrack(ct);
}

// destroy_conntrack(): the last reference is gone.
void Conntrack::destroy_conntrack(nf_conn* ct) {
  // The list it leaves is reported first (on_list): the narrative says it.
  nf_ct_del_from_dying_or_unconfirmed_list(ct);
  if (obs_ != nullptr) obs_->on_destroy(*ct);
  nf_conntrack_free(ct);
}

// nf_ct_iterate_cleanup() + get_next_corpse(): conntrack -F walks the
// table bucket by bucket, meeting each conn once through its REPLY node
// (a NAT_CLASH entry has no other), and kills each conn of the net. After
// every kill the walk resumes at the same bucket from its head.
uint32_t Conntrack::nf_conntrack_flush(net* only, DeathReason why) {
  return nf_ct_iterate_cleanup_net(
      only, [](const nf_conn*, const void*) { return true; }, nullptr, why);
}

uint32_t Conntrack::nf_ct_iterate_cleanup_net(net* only, bool (*iter)(const nf_conn* ct, const void* data),
                                              const void* data, DeathReason why) {
  this_cpu_ = 0;  // user context
  if (only != nullptr && only->count == 0) return 0;
  uint32_t killed = 0;
  for (uint32_t i = 0; i < htable_size_; ++i) {
    for (;;) {
      nf_conn* victim = nullptr;
      for (hlist_nulls_node* node : hlist_nulls_walk(hash_[i].head.first)) {
        nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
        if (h->tuple.dst.dir != IP_CT_DIR_REPLY) continue;
        nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
        if (only != nullptr && ct->net != only->index) continue;
        if (!iter(ct, data)) continue;
        victim = ct;
        break;
      }
      if (victim == nullptr) break;
      nf_conntrack_get(victim);
      if (obs_ != nullptr) obs_->on_ref(*victim, +1, victim->use, "nf_ct_iterate_cleanup");
      nf_ct_delete(victim, 0, 0, why);
      ++killed;
      if (obs_ != nullptr) obs_->on_ref(*victim, -1, victim->use - 1, "nf_ct_iterate_cleanup");
      nf_ct_put(victim);
    }
  }
  return killed;
}

// nf_conntrack_cleanup_net(): kill all, mark unconfirmed ones dying (they
// are freed when their packets finish), drop deferred DESTROYs.
void Conntrack::net_exit(net& n) {
  // A namespace with an open event socket cannot exit, so its listeners are
  // gone first: no events, no deferral.
  n.event_cb = nullptr;
  nf_conntrack_flush(&n, DeathReason::kNetns);
  for (ct_pcpu& p : n.pcpu) {
    for (hlist_nulls_node* node : hlist_nulls_walk(p.unconfirmed.first)) {
      nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
      if (!ct->test_and_set_bit(IPS_DYING_BIT) && obs_ != nullptr) {
        obs_->on_status_set(*ct, IPS_DYING_BIT, "nf_ct_unconfirmed_destroy");
        obs_->on_dying(*ct, DeathReason::kNetns);
      }
    }
  }
  // The namespace is going: nobody will read undelivered DESTROYs. The
  // kernel's nf_conntrack_ecache_pernet_fini cancels the work and the
  // cleanup loop waits for the dying lists to drain; ctsim puts the held
  // table references directly.
  wq_.cancel_delayed_work(&n.ecache_dwork);
  n.ecache_dwork_pending = false;
  for (ct_pcpu& p : n.pcpu) {
    std::vector<nf_conn*> held;
    for (hlist_nulls_node* node : hlist_nulls_walk(p.dying.first)) {
      nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
      if (ct->ecache.state == NFCT_ECACHE_DESTROY_FAIL) held.push_back(ct);
    }
    for (nf_conn* ct : held) {
      ct->ecache.state = NFCT_ECACHE_DESTROY_SENT;
      if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "nf_conntrack_cleanup_net");
      nf_ct_put(ct);
    }
  }
  // 5.19+: the undelivered DESTROYs wait on the ecache dying list instead.
  while (!is_a_nulls(n.ecache_dying_list.first)) {
    nf_conn* ct = nf_ct_orig_node_to_ctrack(n.ecache_dying_list.first);
    if (obs_ != nullptr) {
      obs_->on_list(*ct, CtList::kEcacheDying, false, 0, "nf_conntrack_cleanup_net");
      obs_->on_ref(*ct, -1, ct->use - 1, "nf_conntrack_cleanup_net");
    }
    pcpu_list_del(ct);
    ct->ecache.state = NFCT_ECACHE_DESTROY_SENT;
    nf_ct_put(ct);
  }
  n.alive = false;
}

void Conntrack::for_each_conn_in_table(net* only, const std::function<void(const nf_conn&)>& fn) {
  // As ctnetlink_dump_table(): ORIGINAL nodes only; expired conns (of any
  // net) are collected, up to 8 per bucket, and killed after the bucket,
  // last collected first (the kernel counts its array down).
  constexpr unsigned kEvictMax = 8;
  const uint32_t now = now32();
  for (uint32_t i = 0; i < htable_size_; ++i) {
    nf_conn* evict[kEvictMax];
    unsigned n_evict = 0;
    for (hlist_nulls_node* node : hlist_nulls_walk(hash_[i].head.first)) {
      nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      if (h->tuple.dst.dir != IP_CT_DIR_ORIGINAL) continue;
      nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
      if (nf_ct_is_expired(ct, now)) {
        if (n_evict < kEvictMax && ct->use != 0) {
          nf_conntrack_get(ct);
          if (obs_ != nullptr) obs_->on_ref(*ct, +1, ct->use, "ctnetlink_dump_table");
          evict[n_evict++] = ct;
        }
        continue;
      }
      if (only != nullptr && ct->net != only->index) continue;
      fn(*ct);
    }
    while (n_evict != 0) {
      nf_conn* ct = evict[--n_evict];
      if (nf_ct_should_gc(ct, now)) nf_ct_kill(ct, DeathReason::kTimeout);
      if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "ctnetlink_dump_table");
      nf_ct_put(ct);
    }
  }
}

}  // namespace ctcore
