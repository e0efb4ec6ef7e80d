// The conntrack subsystem: the central hash table, the packet path
// (nf_conntrack_in / nf_conntrack_confirm), deletion and destruction, the GC
// worker and the event cache, for every namespace at once.
//
// Mirrors: net/netfilter/nf_conntrack_core.c, nf_conntrack_ecache.c,
//          include/net/netfilter/nf_conntrack_core.h (v5.10.13).
// Simplified: one thread (no locks, no RCU; deletion keeps RCU's list
//          semantics, see hlist_nulls.h); no zones, expectations, helpers,
//          accounting or timestamps; NAT is nf_nat_core.h's binding and
//          rewrite only (the hooks that call it are the simulator's);
//          Packet instead of sk_buff; the kernel's globals
//          (nf_conntrack_hash, nf_conntrack_htable_size, nf_conntrack_max,
//          nf_conntrack_hash_rnd, conntrack_gc_work) are members of one
//          Conntrack object. core/README.md lists every
//          difference.
//
// Invariants (checked by check_invariants(), nf_conntrack_invariants.cc):
//  (1) Every allocated conn is in exactly one place: an unconfirmed list, the
//      table (CONFIRMED, not DYING), or a dying list (DYING, or a confirm-clash
//      loser that was never CONFIRMED). Under a profile without those lists
//      (5.19+, row L1): the table, the namespace's ecache dying list (DYING,
//      its DESTROY failed), or on no list and held by packets only.
//  (2) A confirmed conn's ORIGINAL node is in chain hash(orig) and its REPLY
//      node in chain hash(reply) (a NAT_CLASH entry: REPLY only).
//  (3) Each chain ends in the nulls marker of its own bucket; each per-CPU
//      list in its own special nulls value.
//  (4) use == (1 if in the table, or dying and held for DESTROY redelivery)
//      + (skbs holding it); the caller reports the skbs it holds.
//  (5) net.count == conns of that net allocated and not freed.
//
// Ownership: Conntrack owns the table, the slab of conns and the namespaces;
// a Packet with `ct` set owns one reference (see packet.h). The Clock,
// Workqueue, Observer and EventNotifiers must outlive it.
// Threading: single-threaded; no internal synchronisation.
#ifndef CTSIM_CORE_NF_CONNTRACK_CORE_H_
#define CTSIM_CORE_NF_CONNTRACK_CORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/hlist_nulls.h"
#include "core/huge_pages.h"
#include "core/nf_conn.h"
#include "core/nf_conntrack_bucket_hint.h"
#include "core/nf_conntrack_ecache.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "core/nf_conntrack_netns.h"
#include "core/nf_conntrack_slab.h"
#include "core/nf_nat_bysource.h"
#include "core/observer.h"
#include "core/packet.h"
#include "core/prandom.h"
#include "core/siphash.h"
#include "core/workqueue.h"

namespace ctcore {

// enum nf_inet_hooks is in nf_conntrack_common.h, with its names.

// v5.10 gc_worker and early_drop constants.
constexpr uint32_t GC_MAX_BUCKETS_DIV = 128;
constexpr uint32_t GC_EVICT_RATIO = 50;  // percent expired that means "hurry"
constexpr uint32_t NF_CT_EVICTION_RANGE = 8;
// 5.14+ gc_worker (rows G1-G3), in seconds / milliseconds; the core scales
// them by its clock's HZ.
constexpr uint32_t GC_SCAN_INTERVAL_S = 120;        // G1: sleep after a cycle
constexpr uint32_t GC_SCAN_INTERVAL_MAX_S = 60;     // G2/G3: longest sleep
constexpr uint32_t GC_SCAN_INTERVAL_MIN_S = 1;      // G2/G3: shortest sleep
constexpr uint32_t GC_SCAN_INTERVAL_CLAMP_S = 300;  // G2/G3: timeouts clamped to this
constexpr uint32_t GC_SCAN_INITIAL_COUNT = 100;     // G3: the bias's weight
constexpr uint32_t GC_SCAN_MAX_DURATION_MS = 10;    // G1-G3: one run's budget

// How one 5.14+ gc_worker run ended (for the outputs; not a kernel type).
enum class GcRunEnd : uint8_t {
  kCycleDone,   // the cycle reached the last bucket; sleep follows
  kBudget,      // GC_SCAN_MAX_DURATION passed: requeued at delay 0
  kExpiredMax,  // more than GC_SCAN_EXPIRED_MAX reaps/kills: requeued at 1 (0 past 60 s)
};
const char* gc_run_end_name(GcRunEnd e);

// ctsim's model of how long a gc_worker run takes on the kernel, which the
// 5.14+ budget (GC_SCAN_MAX_DURATION) is checked against: the simulated
// clock does not move while work runs. Estimates, not measurements: a
// bucket visit (RCU section, head load, cond_resched) and one node of a
// chain on a table larger than the caches (a dependent cache miss).
constexpr uint32_t kGcModelNsPerBucket = 10;
constexpr uint32_t kGcModelNsPerNode = 50;

struct ConntrackConfig {
  uint32_t htable_size = 16384;  // nf_conntrack_buckets
  uint32_t max = 65536;          // nf_conntrack_max (0 = no limit)
  uint32_t hash_rnd = 0;         // nf_conntrack_hash_rnd
  uint16_t cpus = 1;             // possible CPUs (per-CPU lists and stats)
  // ctsim's, not a kernel knob: every walk exactly as v5.10 does it, none
  // of the bucket hints' shortcuts (nf_conntrack_bucket_hint.h). Outputs
  // are the same either way (CI replays every scenario both ways); this is
  // the reference the shortcuts are checked against, and what to run when
  // one is in doubt.
  bool exact_walks = false;
  // The kernel release the core behaves as (nf_conntrack_kernel_profile.h).
  // Last, so that the tests' aggregate initialisers of the fields above
  // stay valid.
  kernel_profile profile = {};
  // nf_conntrack_hash_rnd of the siphash kernels (profile.hash != kJhash2);
  // hash_rnd above is v5.10's u32 jhash seed.
  siphash_key_t siphash_rnd = {};
  // Jiffies from the core's creation to gc_worker's first run. The kernel
  // queues it HZ after nf_conntrack_init_start() (the default); on a machine
  // that has been up for a while the GC is somewhere in its cycle, which no
  // scenario can know (table.gc_phase places it).
  std::optional<uint32_t> gc_first_run = std::nullopt;
};

// The default bucket count for a machine with `ram_bytes` of memory
// (nf_conntrack_init_start with 4 KiB pages, 64-bit) under the profile's
// sizing rule (row S1), already rounded up as nf_ct_alloc_hashtable() does.
uint32_t nf_conntrack_default_buckets(uint64_t ram_bytes, ct_sizing sizing = ct_sizing::kV510);
// nf_conntrack_max's default is this times the bucket count.
uint32_t nf_conntrack_default_max_factor(ct_sizing sizing, bool buckets_given);
// nf_ct_alloc_hashtable() rounds the bucket count up to a whole page of heads.
uint32_t nf_ct_round_buckets(uint32_t buckets);

class Conntrack {
 public:
  Conntrack(const ConntrackConfig& config, Clock& clock, Workqueue& wq);
  ~Conntrack();
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  // ---- Namespaces ----
  // nf_conntrack_pernet_init(): a new namespace with default sysctls.
  net& net_add(const std::string& name, uint32_t hash_mix);
  // nf_conntrack_cleanup_net(): kills every conn of `n` and frees what no
  // packet holds. REQUIRES: no Packet of `n` still holds a conn.
  void net_exit(net& n);
  net& net_at(uint16_t index) { return *nets_[index]; }
  const net& net_at(uint16_t index) const { return *nets_[index]; }
  size_t net_count() const { return nets_.size(); }
  net& nf_ct_net(const nf_conn* ct) { return *nets_[ct->net]; }
  const net& nf_ct_net(const nf_conn* ct) const { return *nets_[ct->net]; }

  // ---- Packet path ----
  // The conntrack hook at PRE_ROUTING / LOCAL_OUT (priority -200). On
  // return skb.ct is set (with one reference) unless the packet is
  // untracked or invalid. Returns NF_ACCEPT or NF_DROP.
  unsigned nf_conntrack_in(net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum);
  // The confirm hook at POST_ROUTING / LOCAL_IN (last priority): inserts an
  // unconfirmed conn into the table and delivers cached events. Returns
  // NF_ACCEPT or NF_DROP (a clash that could not be resolved).
  unsigned nf_conntrack_confirm(uint16_t cpu, Packet& skb);
  // The skb is gone (freed, or its conn reset): puts its reference.
  void nf_reset_ct(Packet& skb);

  // ---- Conn life cycle ----
  // Kills ct: DYING, DESTROY event, off the table, onto the dying list of
  // the CPU doing it, table reference put. Returns true iff this call
  // killed it and the DESTROY was delivered (false: already dying, or
  // DESTROY deferred).
  bool nf_ct_delete(nf_conn* ct, uint32_t portid, int report, DeathReason why);
  bool nf_ct_kill(nf_conn* ct, DeathReason why) { return nf_ct_delete(ct, 0, 0, why); }
  // The CPU the core is running on now: the packet's CPU inside the hooks,
  // CPU 0 for deferred work and user commands (the kernel's
  // smp_processor_id(); it picks whose dying list a killed conn joins).
  uint16_t smp_processor_id() const { return this_cpu_; }
  void set_this_cpu(uint16_t cpu) { this_cpu_ = cpu; }
  void nf_conntrack_get(nf_conn* ct) { ++ct->use; }
  void nf_ct_put(nf_conn* ct);
  // Sets ct's timeout to `extra` jiffies from now (kept relative while
  // unconfirmed); does nothing for IPS_FIXED_TIMEOUT.
  void nf_ct_refresh(nf_conn* ct, uint32_t extra);
  void nf_conntrack_event_cache(ip_conntrack_events event, nf_conn* ct);
  // Records why the current packet is invalid (the kernel logs it when
  // nf_conntrack_log_invalid is set; ctsim puts it in the trace).
  // REQUIRES: `reason` has static storage (a string literal).
  void nf_l4proto_log_invalid(const char* reason) { invalid_reason_ = reason; }
  // Records why a tracker accepted a packet it would otherwise refuse (the
  // explain narrative's tracker step; cleared per packet).
  // REQUIRES: `note` has static storage (a string literal).
  void nf_l4proto_note(const char* note) { tracker_note_ = note; }

  // ---- Lookups and user operations ----
  // The kernel's u32 hash of `tuple` in `n` (the profile's form, H1-H3).
  uint32_t hash_conntrack_raw(const nf_conntrack_tuple& tuple, const net& n) const;
  uint32_t scale_hash(uint32_t hash) const;
  // nf_conntrack_find_get(): the confirmed conn with `tuple` in `n`, with a
  // reference the caller must put; null if none.
  nf_conntrack_tuple_hash* nf_conntrack_find_get(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple);
  // Returns true iff another conn of ignored's namespace already uses
  // `tuple` in the table (counting `found`), so NAT must pick another one.
  // A conn with the same ORIGINAL tuple as `ignored` does not count (the
  // clash resolution at confirm deals with it).
  bool nf_conntrack_tuple_taken(const nf_conntrack_tuple& tuple, const nf_conn* ignored);
  // nf_conntrack_alter_reply(): NAT changed what replies will look like.
  // REQUIRES: ct unconfirmed.
  void nf_conntrack_alter_reply(nf_conn* ct, const nf_conntrack_tuple& newreply) {
    CT_ASSERT(!nf_ct_is_confirmed(ct), "reply tuple of a confirmed conn changed");
    ct->tuplehash[IP_CT_DIR_REPLY].tuple = newreply;
    ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.dir = IP_CT_DIR_REPLY;
    uint32_t raw = 0, stale = 0;
    stashed_raw_hashes(ct, &raw, &stale);
    stash_raw_hashes(ct, raw, hash_conntrack_raw(newreply, nf_ct_net(ct)));
    if (obs_ != nullptr) [[unlikely]]
      obs_->on_alter_reply(*ct, ct->tuplehash[IP_CT_DIR_REPLY].tuple);
  }
  // conntrack -F: kills every confirmed conn of `n` (all nets if null).
  // Returns how many it killed.
  uint32_t nf_conntrack_flush(net* n, DeathReason why = DeathReason::kFlush);
  // nf_ct_iterate_cleanup_net(): kills every confirmed conn of `n` (all nets
  // if null) for which `iter(ct, data)` is true, in bucket order. Returns
  // how many it killed.
  uint32_t nf_ct_iterate_cleanup_net(net* n, bool (*iter)(const nf_conn* ct, const void* data), const void* data,
                                     DeathReason why);
  // Visits every live conn in the table through its ORIGINAL node, in bucket
  // and chain order (a `conntrack -L` dump), reaping expired ones as
  // ctnetlink_dump_table() does. `fn(const nf_conn&)`.
  void for_each_conn_in_table(net* only, const std::function<void(const nf_conn&)>& fn);
  // Visits the conns of one per-CPU list (unconfirmed or dying).
  static uint32_t list_length(const hlist_nulls_head& h) { return hlist_nulls_count(&h); }
  // conntrack -L unconfirmed / -L dying (ctnetlink_dump_unconfirmed,
  // ctnetlink_dump_dying): the conns on `n`'s (all nets' if null)
  // unconfirmed or dying lists, CPU by CPU, each from its head. 5.19+
  // (row L1): no unconfirmed list, and the dying dump reads the namespace's
  // ecache dying list. Reaps nothing.
  void for_each_conn_on_list(const net* only, bool dying, const std::function<void(const nf_conn&)>& fn) const;

  // ---- Deferred work ----
  // One run of the GC work; the profile's `gc` picks v5.10's slices
  // (gc_worker_slices) or 5.14+'s whole-table cycles (gc_worker_cycle).
  void gc_worker();
  void ecache_work(net& n);
  // A ctnetlink event socket of `n` bound (true) or its last one closed
  // (false): the listener flag nf_conntrack_events=2 consults (row L3).
  void nf_ctnetlink_set_listener(net& n, bool has_listener);
  void nf_ct_deliver_cached_events(nf_conn* ct);
  // Its delivery proper, out of line: every confirmed packet passes the
  // checks above it, few have events to send.
  void nf_ct_deliver_events_now(net& n, nf_conn* ct, uint16_t events, uint16_t missed);

  // ---- Configuration and state ----
  uint32_t nf_conntrack_htable_size() const { return htable_size_; }
  uint32_t nf_conntrack_max() const { return max_; }
  void set_nf_conntrack_max(uint32_t max) { max_ = max; }
  uint16_t cpus() const { return cpus_; }
  const hlist_nulls_head& bucket(uint32_t i) const { return hash_[i].head; }
  Clock& clock() { return clock_; }
  uint32_t now32() const { return clock_.nfct_time_stamp(); }
  uint32_t hz() const { return clock_.hz(); }
  void set_observer(Observer* obs) { obs_ = obs; }
  // The observer, or null (the trackers' and the ICMP error path's reports).
  Observer* observer() const { return obs_; }
  // Conns allocated and not freed, over all namespaces.
  uint64_t conns_allocated() const { return slab_.in_use(); }
  uint64_t conns_created() const { return next_id_ - 1; }
  // Conns in the table (confirmed, not dying), over all namespaces.
  uint64_t conns_in_table() const { return table_conns_; }
  // The conns on `n`'s dying lists: every CPU's (v5.10) or the ecache
  // dying list (5.19+, row L1); and on its unconfirmed lists (none 5.19+).
  uint32_t dying_list_length(const net& n) const;
  uint32_t unconfirmed_list_length(const net& n) const;
  uint64_t slab_bytes() const { return slab_.bytes_reserved(); }
  // gc_worker state: next interval (jiffies), cursor, early-drop request.
  uint32_t gc_next_run() const { return gc_.next_gc_run; }
  uint32_t gc_last_bucket() const { return gc_.last_bucket; }
  bool gc_early_drop_pending() const { return gc_.early_drop; }
  // The 5.14+ cycle (G1-G3): the next bucket to visit (0: a new cycle
  // starts), the running average of the timeouts (jiffies) and its weight
  // as the last run left them, how that run ended and how long ctsim's
  // model says it took (jiffies).
  uint32_t gc_next_bucket() const { return gc_.next_bucket; }
  uint64_t gc_avg_timeout() const { return gc_.avg_timeout; }
  int64_t gc_count() const { return gc_.count; }
  GcRunEnd gc_run_end() const { return gc_.run_end; }
  uint32_t gc_run_jiffies() const { return gc_.run_jiffies; }
  // Jiffies from the last 5.14+ run's start to the next run: its modelled
  // length, then next_run as the timer wheel rounds it up.
  uint64_t gc_fires_in() const { return gc_.fires_in; }

  ip_conntrack_stat& stat(net& n, uint16_t cpu) { return n.pcpu[cpu].stat; }

  // ---- NAT's share (nf_nat_core.h) ----
  // The bysource table and the conns' NAT extensions; cleaned up as each
  // conn is freed (the kernel's NAT extension destructor).
  NfNatBysource& nat_bysource() { return nat_bysource_; }
  const NfNatBysource& nat_bysource() const { return nat_bysource_; }
  // prandom_u32() for NAT's port choice. The simulator sets one seeded from
  // the scenario; until then a fixed-seed generator of the core's own.
  PrandomSource& prandom() { return *prandom_; }
  void set_prandom(PrandomSource* source) { prandom_ = source != nullptr ? source : &default_prandom_; }

  // The kernel release the core behaves as. The core reads its switches
  // where the releases differ, and nowhere else asks which kernel it is.
  const kernel_profile& profile() const { return profile_; }
  const siphash_key_t& siphash_rnd() const { return siphash_rnd_; }

  // ConntrackConfig::exact_walks, as configured.
  bool exact_walks() const { return exact_walks_; }

  // Checks the invariants listed above. `skb_refs` lists, for every conn
  // some live packet holds, how many packets hold it. Returns an empty
  // string when they hold, else the first violation found.
  std::string check_invariants(const std::vector<std::pair<const nf_conn*, uint32_t>>& skb_refs) const;

 private:
  struct GcWork {
    delayed_work dwork;
    uint32_t last_bucket = 0;
    uint32_t next_gc_run = 0;
    bool early_drop = false;
    bool exiting = false;
    // ctsim's, for the bucket hints: when the last run started, and how
    // many buckets the GC must still walk exactly before the hints' time
    // bounds are trusted again (after the GC did not run for a long time).
    uint32_t last_run = 0;
    uint32_t resync_left = 0;
    // 5.14+ (G1-G3): the cycle's cursor; G2/G3: the running average of the
    // timeouts met (jiffies; the kernel's unsigned long), G3 its weight,
    // and the cycle's first run's nfct_time_stamp.
    uint32_t next_bucket = 0;
    uint64_t avg_timeout = 0;
    int64_t count = 0;
    uint32_t start_time = 0;
    // ctsim's, for the outputs: how the last run ended, its modelled length.
    GcRunEnd run_end = GcRunEnd::kCycleDone;
    uint32_t run_jiffies = 0;
    uint64_t fires_in = 0;  // jiffies from the run's start to the next run
  };
  // The bucket hints' deadline bounds are 16-bit (nf_conntrack_bucket_hint.h)
  // and only valid while the GC keeps revisiting every bucket (every 16 s
  // when it runs as scheduled; once per cycle, at most ~2 minutes apart,
  // under the 5.14+ profiles). A GC that has not run for this long, or is
  // still walking its first full cycle since, is not relied upon.
  static constexpr uint32_t kHintGcGap = uint32_t{1} << 21;  // jiffies
  // One compare on the lookup path: gc_worker moves hint_trust_until_ to
  // kHintGcGap after each run that ends with no resync pending (and to
  // "now" otherwise); a GC that stops running lets it pass.
  bool hint_bounds_trusted(uint32_t now) const { return static_cast<int32_t>(hint_trust_until_ - now) > 0; }
  enum class RetryState { kDone, kCongested, kRestart };

  // hash_conntrack_raw's siphash forms, out of the jhash2 path.
  [[gnu::noinline]] uint32_t hash_conntrack_raw_siphash(const nf_conntrack_tuple& t, const net& n) const;
  bool nf_ct_key_equal(const nf_conntrack_tuple_hash* h, const nf_conntrack_tuple& tuple, const net& n) const;
  nf_conntrack_tuple_hash* nf_conntrack_find(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple, uint32_t hash,
                                             uint32_t* walked);
  // Defined (and only called) in nf_conntrack_core.cc, inlined there.
  inline nf_conntrack_tuple_hash* nf_conntrack_find_get_hashed(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple,
                                                               uint32_t hash, bool observe);
  int resolve_normal_ct(net& n, uint16_t cpu, Packet& skb);
  nf_conntrack_tuple_hash* init_conntrack(net& n, uint16_t cpu, const nf_conntrack_tuple& tuple, uint32_t hash,
                                          bool* table_full);
  nf_conn* nf_conntrack_alloc(net& n, uint16_t cpu, const nf_conntrack_tuple& orig, const nf_conntrack_tuple& repl,
                              uint32_t hash, uint32_t repl_raw);
  // An unconfirmed conn keeps the raw hashes of its two tuples for confirm
  // in its REPLY node's `next`, which no list uses until then (v5.10 keeps
  // the ORIGINAL one in that node's pprev, which ctsim's node lacks).
  static void stash_raw_hashes(nf_conn* ct, uint32_t orig_raw, uint32_t repl_raw) {
    static_assert(sizeof(uintptr_t) == 8, "two 32-bit hashes in one pointer");
    ct->tuplehash[IP_CT_DIR_REPLY].hnnode.next =
        reinterpret_cast<hlist_nulls_node*>((static_cast<uintptr_t>(orig_raw) << 32) | repl_raw);
  }
  static void stashed_raw_hashes(const nf_conn* ct, uint32_t* orig_raw, uint32_t* repl_raw) {
    const uintptr_t v = reinterpret_cast<uintptr_t>(ct->tuplehash[IP_CT_DIR_REPLY].hnnode.next);
    *orig_raw = static_cast<uint32_t>(v >> 32);
    *repl_raw = static_cast<uint32_t>(v);
  }
  void nf_conntrack_free(nf_conn* ct);
  void destroy_conntrack(nf_conn* ct);
  bool early_drop(net& n, uint16_t cpu, uint32_t hash);
  uint32_t early_drop_list(net& n, hlist_nulls_head* head);
  void nf_ct_gc_expired(nf_conn* ct, DeathReason why);
  void gc_worker_slices();
  void gc_worker_cycle();
  void nf_ct_delete_from_lists(nf_conn* ct);
  // Links `node` (of ct, whose deadline is final) at the head of the chain
  // of its raw hash `raw`, keeping that chain's hint.
  void hash_link(nf_conntrack_tuple_hash* node, const nf_conn* ct, uint32_t raw);
  // Walks chain `bucket` to make its hint exact (count, deadline bound).
  void hint_recount(uint32_t bucket);
  void nf_ct_add_to_dying_list(nf_conn* ct);
  void nf_ct_add_to_unconfirmed_list(nf_conn* ct);
  void nf_ct_del_from_dying_or_unconfirmed_list(nf_conn* ct);
  void pcpu_list_add(nf_conn* ct, hlist_nulls_head* h);
  void pcpu_list_del(nf_conn* ct);
  // Tells the observer (REQUIRES: set) which per-CPU list ct leaves.
  void report_list_exit(const nf_conn* ct, const char* fn) const;
  unsigned nf_conntrack_confirm_detail(uint16_t cpu, Packet& skb);
  unsigned nf_conntrack_confirm_chainlimit(uint16_t cpu, Packet& skb, uint32_t hash, uint32_t reply_hash, uint32_t raw,
                                           uint32_t reply_raw);
  inline unsigned nf_conntrack_confirm_insert(nf_conn* ct, uint32_t raw, uint32_t reply_raw, uint32_t hash,
                                              uint32_t reply_hash);
  unsigned nf_ct_chaintoolong(uint16_t cpu, Packet& skb);
  uint32_t prandom_u32_max(uint32_t ep_ro);
  // Whether ct's protocol may resolve a confirm clash (allow_clash; K2 adds
  // GRE and the generic tracker on the kernels that have them).
  bool nf_ct_allow_clash(uint8_t protonum) const;
  // __nf_ct_resolve_clash()'s merge test: v5.10's (winner without NAT, or
  // nf_ct_match) or, with row K1, nf_ct_can_merge().
  bool nf_ct_can_merge(const nf_conn* winner, const nf_conn* loser) const;
  unsigned nf_ct_resolve_clash(Packet& skb, nf_conntrack_tuple_hash* h, uint32_t repl_idx, uint16_t cpu);
  unsigned nf_ct_resolve_clash_detail(Packet& skb, nf_conntrack_tuple_hash* h);
  // `winner` (the conn the ORIGINAL tuple clashed with) is for the observer.
  unsigned nf_ct_resolve_clash_harder(Packet& skb, uint32_t repl_idx, const nf_conn* winner);
  int nf_conntrack_eventmask_report(unsigned eventmask, nf_conn* ct, uint32_t portid, int report);
  void nf_conntrack_ecache_delayed_work(net& n);
  void nf_conntrack_ecache_work(net& n);
  RetryState ecache_work_evict_list(ct_pcpu& pcpu, uint32_t* sent);
  // 5.19+ (rows L1, L2): the namespace's ecache dying list and its worker.
  void nf_ct_add_to_ecache_list(nf_conn* ct);
  RetryState ecache_work_evict_list(net& n, uint32_t* sent);
  // nf_ct_ecache_ext_add(): whether a new conn of `n` gets the event cache
  // (nf_conntrack_events 0, 1, or 2 = only while a listener exists).
  bool nf_ct_ecache_ext_add(const net& n) const;

  Clock& clock_;
  Workqueue& wq_;
  Observer* obs_ = nullptr;
  uint32_t htable_size_;
  uint32_t max_;
  uint32_t hash_rnd_;
  uint16_t cpus_;
  const kernel_profile profile_;
  const siphash_key_t siphash_rnd_;
  // nf_conntrack_hash: the chains, each with its hint in the same quarter
  // cache line (a lookup that the hint settles reads nothing else).
  struct alignas(16) HashBucket {
    hlist_nulls_head head;
    BucketHint hint;
  };
  static_assert(sizeof(HashBucket) == 16, "four buckets per cache line");
  std::vector<HashBucket, HugePageAllocator<HashBucket>> hash_;
  // ConntrackConfig::exact_walks: when set, no fast path consults a hint
  // (the hints are still kept, and checked by check_invariants).
  const bool exact_walks_;
  uint32_t hint_trust_until_ = 0;  // see hint_bounds_trusted()
  std::vector<std::unique_ptr<net>> nets_;
  NfConnSlab slab_;
  uint32_t next_id_ = 1;
  uint64_t table_conns_ = 0;  // see conns_in_table()
  // Namespaces whose ctnetlink_has_listener is set: 6.3+'s global
  // nf_ctnetlink_has_listener is "this is not 0" (row L3).
  uint32_t nets_with_listener_ = 0;
  GcWork gc_;
  const char* invalid_reason_ = nullptr;
  const char* tracker_note_ = nullptr;
  uint16_t this_cpu_ = 0;
  // NAT's share, last: nothing on the packet path without NAT reads it.
  NfNatBysource nat_bysource_;
  // The default random source: xorshift32 from a fixed seed (tests of the
  // core alone; a run always sets the scenario's).
  struct FixedPrandom final : PrandomSource {
    uint32_t x = 0x2545f491u;
    uint32_t prandom_u32() override {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      return x;
    }
  };
  FixedPrandom default_prandom_;
  PrandomSource* prandom_ = &default_prandom_;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_CORE_H_
