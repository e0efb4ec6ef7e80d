// Masquerade: source NAT to the address of the interface a packet leaves
// by, and the clean-up when that address goes away (the conns mapped to it
// could never be answered again).
//
// Mirrors: net/netfilter/nf_nat_masquerade.c (v5.10):
//          nf_nat_masquerade_ipv4(), nf_nat_masquerade_ipv6(), device_cmp(),
//          inet_cmp() / inet6_cmp(), masq_inet_event() / masq_inet6_event().
// Simplified: routing is the caller's: it passes the address the outgoing
//          interface offers (inet_select_addr / ipv6_dev_get_saddr) and the
//          interface's index. An IPv6 address removal is handled at once;
//          v5.10 defers it to a work item (at most 16 queued), run soon after.
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_NAT_MASQUERADE_H_
#define CTSIM_CORE_NF_NAT_MASQUERADE_H_

#include <cstdint>

#include "core/nf_nat_core.h"

namespace ctcore {

// nf_nat_masquerade_ipv4/ipv6() for ct's first packet at POST_ROUTING:
// records the interface in ct's NAT extension and maps the source into
// `newsrc` with the rule's port range and flags. `newsrc` null: the
// interface has no address of the family ("ate my IP address"), NF_DROP.
// An IPv4 conn from 0.0.0.0 is left alone (NF_ACCEPT, no binding made).
unsigned nf_nat_masquerade(Conntrack& core, nf_conn* ct, const nf_nat_range2& rule_range,
                           const nf_inet_addr* newsrc, int out_ifindex, nf_nat_decision* why = nullptr);

// masq_inet_event(NETDEV_DOWN) / masq_inet6_event: `addr` was removed from
// interface `ifindex` of namespace `n`: kills (nf_ct_iterate_cleanup_net,
// DESTROY events) every conn masqueraded through that interface whose
// REPLY destination is that address. Returns how many.
uint32_t nf_nat_masquerade_addr_removed(Conntrack& core, net& n, int ifindex, uint16_t l3num,
                                        const nf_inet_addr& addr);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_MASQUERADE_H_
