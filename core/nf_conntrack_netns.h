// A network namespace as the conntrack core sees it (the kernel's
// `struct net` reduced to `net->ct`).
//
// Mirrors: include/net/netns/conntrack.h (struct netns_ct, ct_pcpu),
//          include/net/netns/hash.h (net_hash_mix).
//
// Invariants:
//  (1) count == conns of this net that are allocated and not yet freed
//      (unconfirmed + in the table + dying): it drops only at free.
//  (2) pcpu[c].unconfirmed holds exactly the unconfirmed conns made on CPU c;
//      pcpu[c].dying exactly the dying conns killed on CPU c (v5.10). Under a
//      profile without those lists (5.19+, row L1) both stay empty, and
//      ecache_dying_list holds exactly the killed conns whose DESTROY
//      failed, waiting for the redelivery work.
//
// Ownership: the Conntrack owns every net; conns refer to theirs by index.
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_CONNTRACK_NETNS_H_
#define CTSIM_CORE_NF_CONNTRACK_NETNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/hlist_nulls.h"
#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_sysctl.h"
#include "core/workqueue.h"

namespace ctcore {

class EventNotifier;

// Nulls values that end the per-CPU lists (never a bucket number).
constexpr uint32_t UNCONFIRMED_NULLS_VAL = (1u << 30) + 0;
constexpr uint32_t DYING_NULLS_VAL = (1u << 30) + 1;

struct ct_pcpu {
  hlist_nulls_head unconfirmed;
  hlist_nulls_head dying;
  ip_conntrack_stat stat;  // net->ct.stat, per CPU
};

struct net {
  std::string name;
  uint16_t index = 0;     // position in Conntrack's table of nets
  uint32_t hash_mix = 0;  // net_hash_mix(net): per-namespace hash seed
  bool alive = true;      // false once the namespace has exited

  uint32_t count = 0;  // net->ct.count
  nf_conntrack_sysctl sysctl;
  std::vector<ct_pcpu> pcpu;

  // ctnetlink's event callback for this namespace, or null (no notifier).
  EventNotifier* event_cb = nullptr;
  // The DESTROY redelivery work (net->ct.ecache_dwork).
  delayed_work ecache_dwork;
  bool ecache_dwork_pending = false;
  // 5.19+ (row L1): cnet->ecache.dying_list, the conns whose DESTROY could
  // not be delivered (linked through their ORIGINAL node, newest first).
  hlist_nulls_head ecache_dying_list;
  // 5.19+ (row L3): net->ct.ctnetlink_has_listener, set while a ctnetlink
  // event socket of this namespace is bound (nf_conntrack_events=2 reads
  // it, or Conntrack's global count of such namespaces from 6.3). Set
  // through Conntrack::nf_ctnetlink_set_listener.
  bool ctnetlink_has_listener = false;

  net() = default;
  net(const net&) = delete;
  net& operator=(const net&) = delete;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_NETNS_H_
