// Connection events: cached per conn during packet processing, delivered at
// confirm; DESTROY reported at once; failed DESTROYs redelivered by work.
//
// Mirrors: include/net/netfilter/nf_conntrack_ecache.h,
//          net/netfilter/nf_conntrack_ecache.c (v5.10).
//
// The notifier is ctnetlink: one per namespace (net->event_cb). It returns
// < 0 iff a listener that asked for reliable delivery could not take the
// message; only then does the core keep the conn for redelivery.
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_CONNTRACK_ECACHE_H_
#define CTSIM_CORE_NF_CONNTRACK_ECACHE_H_

#include <cstdint>

#include "core/nf_conn.h"

namespace ctcore {

struct net;

// ctnetlink_conntrack_event(): turns an event mask into a netlink message
// and broadcasts it to the namespace's listeners.
class EventNotifier {
 public:
  virtual ~EventNotifier() = default;
  // REQUIRES: ct is confirmed. `events` is a mask of 1 << IPCT_*. Returns 0
  // when delivered (or when nobody listens), < 0 (-ENOBUFS) when a reliable
  // listener could not take it.
  virtual int ctnetlink_conntrack_event(unsigned events, const nf_conn& ct, const net& net, uint32_t portid,
                                        int report) = 0;
};

// The kernel's ECACHE_STACK_ALLOC: DESTROYs resent per batch on 64-bit.
constexpr unsigned ECACHE_STACK_ALLOC = 256 / sizeof(void*);

// 5.19+ (row L2): ECACHE_MAX_JIFFIES and ECACHE_RETRY_JIFFIES, both
// msecs_to_jiffies(10): a run's time budget and the retry after congestion.
constexpr uint32_t ecache_10ms_jiffies(uint32_t hz) { return (10 * hz + 999) / 1000; }

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_ECACHE_H_
