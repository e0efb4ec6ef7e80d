// What the core tells an onlooker about each step it takes: the seam the
// trace writer, the explain mode and the time series plug into.
//
// The core calls these only through its observer pointer (set by
// Conntrack::set_observer), which is null when no output wants them: with tracing off, a step costs one predictable
// branch and no formatting. Every method has an empty default, so an observer overrides only what it records.
//
// Ownership: references passed in are valid only during the call.
// Threading: single-threaded; called synchronously from inside the core.
#ifndef CTSIM_CORE_OBSERVER_H_
#define CTSIM_CORE_OBSERVER_H_

#include <cstdint>

#include "core/nf_conn.h"
#include "core/nf_conntrack_tuple.h"
#include "core/nf_nat_decision.h"

namespace ctcore {

struct net;
struct Packet;

// Why a conn was killed (the trace's `dying.reason`). The kernel's
// nf_ct_delete() has no such argument; ctsim threads it through to explain.
enum class DeathReason : uint8_t {
  kTimeout,     // expired, met by a lookup walk (nf_ct_gc_expired)
  kGc,          // expired, met by gc_worker
  kFlush,       // conntrack -F
  kDelete,      // conntrack -D
  kEarlyDrop,   // early_drop() or the GC's 95% early drop
  kNetns,       // namespace exit
  kTracker,     // the protocol tracker killed it (TCP RST, reopen)
  kClash,       // the loser of a confirm race
  kMasquerade,  // its masquerade address went away (masq_inet_event)
};
const char* death_reason_name(DeathReason r);

// The lists a conn's nodes are linked into (on_list).
enum class CtList : uint8_t {
  kHashOriginal,  // the table: its ORIGINAL node's chain
  kHashReply,     // the table: its REPLY node's chain
  kUnconfirmed,   // a CPU's unconfirmed list (v5.10 to 5.18)
  kDying,         // a CPU's dying list (v5.10 to 5.18)
  kEcacheDying,   // the namespace's ecache dying list (5.19+: a failed DESTROY)
  kNatBysource,   // the NAT bysource table (a source manip's binding; `where`: its bucket when entered)
};
const char* ct_list_name(CtList l);

// A branch of the packet path that the narrative states (on_branch): each
// reported by the core where it takes it.
enum class CtBranch : uint8_t {
  kInitConntrack,  // resolve_normal_ct(): the lookup found no conn, it calls init_conntrack()
  kReturnEarly,    // nf_conntrack_in(): the error path gave the skb its ctinfo (RELATED or
                   // UNTRACKED): it returns NF_ACCEPT without resolve_normal_ct() or a tracker
  kRepeat,         // nf_conntrack_in(): the tracker returned -NF_REPEAT: back to `repeat:`,
                   // resolve_normal_ct() looks the packet up again
  kNotInserted,    // confirm's clash or chain-too-long exit (nf_ct_resolve_clash,
                   // __nf_ct_resolve_clash, __nf_conntrack_confirm): the conn is not
                   // inserted and leaves without nf_ct_delete(), so it gets no IPS_DYING
                   // and reports no IPCT_DESTROY; the skb's put frees it
  kEarlyDropList,  // early_drop_list(): a conn of the namespace, neither ASSURED nor dying,
                   // while the table is over nf_conntrack_max: nf_ct_delete()
  kGcEarlyDrop,    // gc_worker(): the namespace holds at least 95% of nf_conntrack_max and
                   // gc_worker_can_early_drop() allows this conn: it is killed (nf_ct_kill)
};

class Observer {
 public:
  virtual ~Observer() = default;

  // A hash lookup finished: `chain` nodes walked (all restarts included),
  // `match` the tuplehash found or null.
  virtual void on_lookup(const net& /*net*/, uint16_t /*cpu*/, const nf_conntrack_tuple& /*tuple*/, uint32_t /*hash*/,
                         uint32_t /*bucket*/, uint32_t /*chain*/, const nf_conntrack_tuple_hash* /*match*/) {}
  // One node of a lookup walk compared with the tuple (explain mode only;
  // asked for through wants_chain_detail()).
  virtual bool wants_chain_detail() const { return false; }
  virtual void on_chain_entry(const nf_conntrack_tuple_hash& /*h*/, bool /*expired*/, bool /*key_equal*/) {}
  virtual void on_new(const nf_conn& /*ct*/) {}
  virtual void on_confirm(const nf_conn& /*ct*/, uint32_t /*bucket_orig*/, uint32_t /*bucket_reply*/) {}
  // The protocol state, status bits or timeout of ct changed.
  virtual void on_update(const nf_conn& /*ct*/) {}
  virtual void on_invalid(const net& /*net*/, uint16_t /*cpu*/, const Packet& /*skb*/, const char* /*reason*/) {}
  // conntrack itself dropped the packet (ct may be null).
  virtual void on_drop(const net& /*net*/, uint16_t /*cpu*/, const nf_conn* /*ct*/, const char* /*reason*/) {}
  // A confirm found the tuple taken: `winner` is the conn in the table.
  virtual void on_clash(const nf_conn& /*loser*/, const nf_conn& /*winner*/, const char* /*outcome*/) {}
  virtual void on_dying(const nf_conn& /*ct*/, DeathReason /*reason*/) {}
  virtual void on_destroy(const nf_conn& /*ct*/) {}
  // nf_conntrack_free(): ct goes back to the slab. Called after its
  // namespace's count was lowered (the count the narrative states).
  virtual void on_free(const nf_conn& /*ct*/) {}

  // ---- The narrative's facts (issue 21): each made by the core where the
  // step happens, naming the v5.10 function that takes it (`fn`, a string
  // literal). The trace ignores them; the explain narrative states nothing
  // else about these steps.
  //
  // The packet path entered `fn` (resolve_normal_ct, nf_conntrack_handle_icmp,
  // nf_conntrack_inet_error).
  virtual void on_call(const char* /*fn*/) {}
  // `fn` took the branch `b` (ct: the conn it concerns, or null).
  virtual void on_branch(const nf_conn* /*ct*/, CtBranch /*b*/, const char* /*fn*/) {}
  // `fn` set the skb's conn (null: none, or untracked) and its ctinfo.
  virtual void on_ctinfo(const nf_conn* /*ct*/, ip_conntrack_info /*ctinfo*/, const char* /*fn*/) {}
  // `fn` took (delta +1) or put (delta -1) a reference on ct; `use` is the
  // count after it (a put to 0 destroys the conn right after this call).
  virtual void on_ref(const nf_conn& /*ct*/, int /*delta*/, uint32_t /*use*/, const char* /*fn*/) {}
  // The tracker `fn` ran on ct and returned `verdict` (NF_ACCEPT, or a
  // negated verdict: invalid); `note` says why it accepted a segment it
  // would otherwise refuse (tcp_be_liberal), else null. Made on every
  // tracker run, also when it changed nothing.
  virtual void on_tracker(const nf_conn& /*ct*/, const char* /*fn*/, int /*verdict*/, const char* /*note*/) {}
  // `fn` set status bit `bit` of ct (bits set outside the trackers:
  // IPS_CONFIRMED by __nf_conntrack_confirm, IPS_DYING by nf_ct_delete or
  // nf_ct_unconfirmed_destroy, IPS_SEEN_REPLY by nf_conntrack_in, NAT bits).
  virtual void on_status_set(const nf_conn& /*ct*/, unsigned /*bit*/, const char* /*fn*/) {}
  // `fn` added `by` to the ip_conntrack_stat counter `counter` of (n, cpu).
  virtual void on_stat(const net& /*n*/, uint16_t /*cpu*/, const char* /*counter*/, uint32_t /*by*/,
                       const char* /*fn*/) {}
  // `fn` linked ct into (`enter`) or unlinked it from `list`; `where` is the
  // bucket for the table's chains, the CPU for the per-CPU lists, 0 else.
  virtual void on_list(const nf_conn& /*ct*/, CtList /*list*/, bool /*enter*/, uint32_t /*where*/, const char* /*fn*/) {
  }
  // __nf_conntrack_alloc() counted a new conn of n past nf_conntrack_max
  // (`count` after the increment) and calls early_drop().
  virtual void on_table_full(const net& /*n*/, uint32_t /*count*/, uint32_t /*max*/) {}
  // get_unique_tuple() settled ct's binding for `manip`: `why` says how;
  // `tuple` is the ORIGINAL tuple after the manipulation (equal to the
  // packet's own when nothing changes).
  virtual void on_nat_decision(const nf_conn& /*ct*/, nf_nat_manip_type /*manip*/, const nf_conntrack_tuple& /*tuple*/,
                               const nf_nat_decision& /*why*/) {}
  // nf_conntrack_alter_reply() made `reply` ct's REPLY tuple (before
  // confirm: the tuple confirm hashes).
  virtual void on_alter_reply(const nf_conn& /*ct*/, const nf_conntrack_tuple& /*reply*/) {}
  // nf_conntrack_event_cache() added event `event` (IPCT_*) to ct's cache.
  virtual void on_event_cache(const nf_conn& /*ct*/, unsigned /*event*/) {}
  // `fn` (nf_ct_deliver_cached_events, nf_conntrack_eventmask_report) hands
  // `events` (a mask of 1 << IPCT_*: what it was given or had cached, and
  // `missed`, the bits an earlier delivery failed to send) to the notifier.
  virtual void on_event_deliver(const nf_conn& /*ct*/, unsigned /*events*/, unsigned /*missed*/, const char* /*fn*/) {}
  // The notifier returned `ret` (0 or -ENOBUFS) to `fn`; `missed` is ct's
  // missed bits after `fn` recorded the failure (or cleared those that got
  // through); `destroy_fail`: a DESTROY failed and the conn is marked
  // NFCT_ECACHE_DESTROY_FAIL for the redelivery work.
  virtual void on_event_result(const nf_conn& /*ct*/, int /*ret*/, unsigned /*missed*/, bool /*destroy_fail*/,
                               const char* /*fn*/) {}

  // One gc_worker run.
  virtual void on_gc(uint32_t /*scanned*/, uint32_t /*expired*/, uint32_t /*buckets*/, uint32_t /*early_dropped*/,
                     uint32_t /*next_run*/) {}
  // One run of a namespace's event redelivery work: DESTROY events resent,
  // and whether it stopped congested.
  virtual void on_ecache_work(const net& /*net*/, uint32_t /*sent*/, bool /*congested*/, int /*next_delay*/) {}
};

}  // namespace ctcore

#endif  // CTSIM_CORE_OBSERVER_H_
