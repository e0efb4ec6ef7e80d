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

namespace ctcore {

struct net;
struct Packet;

// Why a conn was killed (the trace's `dying.reason`). The kernel's
// nf_ct_delete() has no such argument; ctsim threads it through to explain.
enum class DeathReason : uint8_t {
  kTimeout,    // expired, met by a lookup walk (nf_ct_gc_expired)
  kGc,         // expired, met by gc_worker
  kFlush,      // conntrack -F
  kDelete,     // conntrack -D
  kEarlyDrop,  // early_drop() or the GC's 95% early drop
  kNetns,      // namespace exit
  kTracker,    // the protocol tracker killed it (TCP RST, reopen)
  kClash,      // the loser of a confirm race
  kMasquerade,  // its masquerade address went away (masq_inet_event)
};
const char* death_reason_name(DeathReason r);

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
  virtual void on_free(const nf_conn& /*ct*/) {}
  // One gc_worker run.
  virtual void on_gc(uint32_t /*scanned*/, uint32_t /*expired*/, uint32_t /*buckets*/, uint32_t /*early_dropped*/,
                     uint32_t /*next_run*/) {}
  // One run of a namespace's event redelivery work: DESTROY events resent,
  // and whether it stopped congested.
  virtual void on_ecache_work(const net& /*net*/, uint32_t /*sent*/, bool /*congested*/, int /*next_delay*/) {}
};

}  // namespace ctcore

#endif  // CTSIM_CORE_OBSERVER_H_
