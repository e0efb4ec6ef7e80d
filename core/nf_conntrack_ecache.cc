// Event cache, immediate reports and DESTROY redelivery.
//
// Mirrors: net/netfilter/nf_conntrack_ecache.c and the inline helpers of
//          include/net/netfilter/nf_conntrack_ecache.h (v5.10).
#include "core/nf_conntrack_ecache.h"

#include <vector>

#include "core/nf_conntrack_core.h"

namespace ctcore {

namespace {

constexpr uint16_t kAllEvents = 0xffff;  // ctmask: every event

// The narrative's reports (core/observer.h), out of line: an event is cached
// on a state change, delivered at most once a packet; with no observer each
// costs one branch.
[[gnu::cold, gnu::noinline]] void report_event_cache(Observer* obs, const nf_conn& ct, ip_conntrack_events event) {
  obs->on_event_cache(ct, event);
}
[[gnu::cold, gnu::noinline]] void report_event_deliver(Observer* obs, const nf_conn& ct, unsigned events,
                                                       unsigned missed, const char* fn) {
  obs->on_event_deliver(ct, events, missed, fn);
}
[[gnu::cold, gnu::noinline]] void report_event_result(Observer* obs, const nf_conn& ct, int ret, bool destroy_fail,
                                                      const char* fn) {
  obs->on_event_result(ct, ret, ct.ecache.missed, destroy_fail, fn);
}

}  // namespace

// nf_conntrack_event_cache(): remember the event; nothing is sent yet.
void Conntrack::nf_conntrack_event_cache(ip_conntrack_events event, nf_conn* ct) {
  if (nf_ct_net(ct).event_cb == nullptr || !ct->ecache.present) return;
  ct->ecache.cache = static_cast<uint16_t>(ct->ecache.cache | (1u << event));
  if (obs_ != nullptr) [[unlikely]]
    report_event_cache(obs_, *ct, event);
}

// nf_ct_deliver_cached_events(): at the confirm hook, for every packet of a
// confirmed, live conn: cached and missed events go out as one message.
void Conntrack::nf_ct_deliver_cached_events(nf_conn* ct) {
  net& n = nf_ct_net(ct);
  if (n.event_cb == nullptr) return;
  if (!nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct)) return;
  if (!ct->ecache.present) return;
  const uint16_t events = ct->ecache.cache;
  ct->ecache.cache = 0;
  const uint16_t missed = ct->ecache.missed;
  if (((events | missed) & kAllEvents) == 0) return;
  nf_ct_deliver_events_now(n, ct, events, missed);
}

[[gnu::noinline]] void Conntrack::nf_ct_deliver_events_now(net& n, nf_conn* ct, uint16_t events, uint16_t missed) {
  if (obs_ != nullptr) [[unlikely]]
    report_event_deliver(obs_, *ct, events | missed, missed, "nf_ct_deliver_cached_events");
  int ret = n.event_cb->ctnetlink_conntrack_event(events | missed, *ct, n, 0, 0);
  if (ret == 0 && missed == 0) return;
  if (ret < 0) {
    ct->ecache.missed = static_cast<uint16_t>(ct->ecache.missed | events);
  } else {
    ct->ecache.missed = static_cast<uint16_t>(ct->ecache.missed & ~missed);
  }
  if (obs_ != nullptr) [[unlikely]]
    report_event_result(obs_, *ct, ret, false, "nf_ct_deliver_cached_events");
}

// nf_conntrack_eventmask_report(): send now (DESTROY). A failed DESTROY
// marks the conn DESTROY_FAIL for the redelivery work; a failed other event
// joins `missed`.
int Conntrack::nf_conntrack_eventmask_report(unsigned eventmask, nf_conn* ct, uint32_t portid, int report) {
  net& n = nf_ct_net(ct);
  if (n.event_cb == nullptr || !ct->ecache.present) return 0;
  if (!nf_ct_is_confirmed(ct)) return 0;
  // A resent DESTROY (portid stored) carries no missed events; ctsim stores
  // no portid, so missed events always ride along.
  const uint16_t missed = ct->ecache.missed;
  if (((eventmask | missed) & kAllEvents) == 0) return 0;
  if (obs_ != nullptr) [[unlikely]]
    report_event_deliver(obs_, *ct, eventmask | missed, missed, "nf_conntrack_eventmask_report");
  int ret = n.event_cb->ctnetlink_conntrack_event(eventmask | missed, *ct, n, portid, report);
  if (ret < 0 || missed != 0) {
    bool destroy_fail = false;
    if (ret < 0) {
      if (eventmask & (1u << IPCT_DESTROY)) {
        ct->ecache.state = NFCT_ECACHE_DESTROY_FAIL;
        destroy_fail = true;
      } else {
        ct->ecache.missed = static_cast<uint16_t>(ct->ecache.missed | eventmask);
      }
    } else {
      ct->ecache.missed = static_cast<uint16_t>(ct->ecache.missed & ~missed);
    }
    if (obs_ != nullptr) [[unlikely]]
      report_event_result(obs_, *ct, ret, destroy_fail, "nf_conntrack_eventmask_report");
  }
  return ret;
}

// nf_ct_ecache_ext_add(): 0 gives no conn the extension, 1 every conn; 2
// (5.19+, row L3: "autodetect", the default there) only conns made while a
// ctnetlink event listener exists, in the conn's namespace (5.19 .. 6.2) or
// in any (6.3+, "make event listener tracking global"). A conn made without
// it never reports anything, its DESTROY included, even once a listener
// has come.
bool Conntrack::nf_ct_ecache_ext_add(const net& n) const {
  switch (n.sysctl.events) {
    case 0: return false;
    case 2:
      return profile_.listener_scope == ct_listener_scope::kGlobal ? nets_with_listener_ != 0
                                                                   : n.ctnetlink_has_listener;
    default: return true;
  }
}

void Conntrack::nf_ctnetlink_set_listener(net& n, bool has_listener) {
  if (n.ctnetlink_has_listener == has_listener) return;
  n.ctnetlink_has_listener = has_listener;
  if (has_listener)
    ++nets_with_listener_;
  else
    --nets_with_listener_;
}

// nf_conntrack_ecache_delayed_work(): first failure: retry in one second.
void Conntrack::nf_conntrack_ecache_delayed_work(net& n) {
  if (!n.ecache_dwork.pending) {
    wq_.queue_delayed_work(&n.ecache_dwork, hz());
    n.ecache_dwork_pending = true;
  }
}

// nf_conntrack_ecache_work(): a DESTROY got through, so the listener has
// room again: run the redelivery work now. 5.19+: only if the ecache dying
// list holds something; else nothing is pending any more.
void Conntrack::nf_conntrack_ecache_work(net& n) {
  if (!n.ecache_dwork_pending) return;
  if (profile_.redelivery != ct_redelivery::kPcpuDying) {
    if (!is_a_nulls(n.ecache_dying_list.first))
      wq_.mod_delayed_work(&n.ecache_dwork, 0);
    else
      n.ecache_dwork_pending = false;
    return;
  }
  n.ecache_dwork_pending = false;
  wq_.mod_delayed_work(&n.ecache_dwork, 0);
}

// ecache_work_evict_list(): resend DESTROY for the DESTROY_FAIL conns of
// one CPU's dying list, up to ECACHE_STACK_ALLOC, then put their table
// references (after the walk: the kernel cannot put under the list lock).
Conntrack::RetryState Conntrack::ecache_work_evict_list(ct_pcpu& pcpu, uint32_t* sent) {
  nf_conn* refs[ECACHE_STACK_ALLOC];
  unsigned evicted = 0;
  RetryState ret = RetryState::kDone;
  for (hlist_nulls_node* node : hlist_nulls_walk(pcpu.dying.first)) {
    nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
    if (!nf_ct_is_confirmed(ct)) continue;
    if (!ct->ecache.present || ct->ecache.state != NFCT_ECACHE_DESTROY_FAIL) continue;
    if (nf_conntrack_eventmask_report(1u << IPCT_DESTROY, ct, 0, 0) != 0) {
      ret = RetryState::kCongested;
      break;
    }
    ct->ecache.state = NFCT_ECACHE_DESTROY_SENT;
    refs[evicted] = ct;
    if (++evicted >= ECACHE_STACK_ALLOC) {
      ret = RetryState::kRestart;
      break;
    }
  }
  *sent += evicted;
  while (evicted != 0) {
    nf_conn* ct = refs[--evicted];
    if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "ecache_work_evict_list");
    nf_ct_put(ct);
  }
  return ret;
}

// ecache_work_evict_list() of 5.19+ (row L2): resend DESTROY for the
// namespace's ecache dying list, newest first; each sent entry leaves the
// list; congestion stops the run. The 5.19 .. 6.18.x code meant to stop
// after ECACHE_MAX_JIFFIES (10 ms) but tests time_after(stop, jiffies),
// true from the start, so it restarts the work after each sent entry
// (kListOnePerRun). The fix ("ecache: fix inverted time_after() check",
// kList10ms) runs for 10 ms; ctsim's work takes no simulated time, so that
// is the whole list in one run. The puts come after the walk, last sent
// first (the kernel's evicted list is built at its head).
Conntrack::RetryState Conntrack::ecache_work_evict_list(net& n, uint32_t* sent) {
  const uint32_t stop = now32() + ecache_10ms_jiffies(hz());
  std::vector<nf_conn*> evicted;
  RetryState ret = RetryState::kDone;
  for (hlist_nulls_node* node : hlist_nulls_walk(n.ecache_dying_list.first)) {
    nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
    if (nf_conntrack_eventmask_report(1u << IPCT_DESTROY, ct, 0, 0) != 0) {
      ret = RetryState::kCongested;
      break;
    }
    if (obs_ != nullptr) obs_->on_list(*ct, CtList::kEcacheDying, false, 0, "ecache_work_evict_list");
    pcpu_list_del(ct);  // the node keeps its `next`: the walk goes on
    ct->ecache.state = NFCT_ECACHE_DESTROY_SENT;
    evicted.push_back(ct);
    const bool over_budget = profile_.redelivery == ct_redelivery::kListOnePerRun
                                 ? static_cast<int32_t>(now32() - stop) < 0   // time_after(stop, jiffies)
                                 : static_cast<int32_t>(stop - now32()) < 0;  // time_after(jiffies, stop)
    if (over_budget) {
      ret = RetryState::kRestart;
      break;
    }
  }
  *sent += static_cast<uint32_t>(evicted.size());
  while (!evicted.empty()) {
    nf_conn* ct = evicted.back();
    if (obs_ != nullptr) obs_->on_ref(*ct, -1, ct->use - 1, "ecache_work_evict_list");
    nf_ct_put(ct);
    evicted.pop_back();
  }
  return ret;
}

// ecache_work(): every CPU's dying list in turn; congestion stops the round
// and retries after HZ/10; a full batch runs again at once. 5.19+: the one
// ecache dying list; congestion retries after 10 ms, a restart at once.
void Conntrack::ecache_work(net& n) {
  set_this_cpu(0);  // work items run on CPU 0 in ctsim
  int delay = -1;
  uint32_t sent = 0;
  if (profile_.redelivery != ct_redelivery::kPcpuDying) {
    const RetryState r = ecache_work_evict_list(n, &sent);
    if (r == RetryState::kCongested) delay = static_cast<int>(ecache_10ms_jiffies(hz()));
    if (r == RetryState::kRestart) delay = 0;
    if (obs_ != nullptr) obs_->on_ecache_work(n, sent, r == RetryState::kCongested, delay);
    if (delay >= 0) wq_.queue_delayed_work(&n.ecache_dwork, static_cast<uint64_t>(delay));
    return;
  }
  for (ct_pcpu& pcpu : n.pcpu) {
    RetryState r = ecache_work_evict_list(pcpu, &sent);
    if (r == RetryState::kCongested) {
      delay = static_cast<int>(hz() / 10);
      break;
    }
    if (r == RetryState::kRestart) delay = 0;
  }
  n.ecache_dwork_pending = delay > 0;
  if (obs_ != nullptr) obs_->on_ecache_work(n, sent, delay > 0, delay);
  if (delay >= 0) wq_.queue_delayed_work(&n.ecache_dwork, static_cast<uint64_t>(delay));
}

}  // namespace ctcore
