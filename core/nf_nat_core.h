// Network address translation as far as conntrack sees it: a NAT binding
// is decided once, for the first packet of a conn, by rewriting the conn's
// REPLY tuple to a tuple no other conn uses; every later packet of the conn
// is rewritten from its tuples, and ICMP errors about it are translated.
//
// Mirrors: net/netfilter/nf_nat_core.c (v5.10): nf_nat_setup_info(),
//          get_unique_tuple(), nf_nat_used_tuple(), in_range(),
//          nf_nat_inet_in_range(), l4proto_in_range(), same_src(),
//          find_appropriate_src(), find_best_ips_proto(),
//          nf_nat_l4proto_unique_tuple(), __nf_nat_alloc_null_binding(),
//          nf_nat_packet(); nf_nat_proto.c nf_nat_manip_pkt() and
//          nf_nat_icmp_reply_translation() / nf_nat_icmpv6_reply_translation();
//          nf_conntrack_core.c nf_conntrack_tuple_taken(),
//          nf_conntrack_alter_reply(); include/net/netfilter/nf_nat.h
//          (nf_nat_initialized). The caller passes the manip type (the
//          kernel's HOOK2MANIP of the hook): DST before routing, SRC after.
// Simplified: no helpers, so no expectation (a GRE conn has no PPTP master
//          and its key is never remapped, as in the kernel without the PPTP
//          helper) and no sequence adjustment; zones are all 0. core/README.md
//          lists every difference.
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_NAT_CORE_H_
#define CTSIM_CORE_NF_NAT_CORE_H_

#include <cstdint>

#include "core/nf_conntrack_core.h"
#include "core/nf_nat_decision.h"
#include "core/nf_nat_range.h"

namespace ctcore {

// Returns true iff the binding for `manip` was already decided for ct.
inline bool nf_nat_initialized(const nf_conn* ct, nf_nat_manip_type manip) {
  return ct->test_bit(manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT_DONE_BIT : IPS_DST_NAT_DONE_BIT);
}

// nf_nat_setup_info(): decides ct's binding for `manip` within `range`:
// the REPLY tuple is changed so replies match, IPS_{SRC,DST}_NAT set if
// anything changed, the conn linked on the bysource table for a SRC manip,
// and the _DONE bit set. `why` (may be null) learns how the tuple was
// chosen. REQUIRES: ct not yet initialized for `manip`. Returns NF_ACCEPT
// (a confirmed conn is left alone, as in the kernel).
unsigned nf_nat_setup_info(Conntrack& core, nf_conn* ct, const nf_nat_range2& range, nf_nat_manip_type manip,
                           nf_nat_decision* why = nullptr);

// __nf_nat_alloc_null_binding(): no rule mapped the conn at this hook; the
// decision is made anyway with a range of the conn's own address, so the
// port/id still moves if the tuple is taken (a direct flow whose reply
// tuple a DNATed flow already uses keeps both alive).
unsigned nf_nat_alloc_null_binding(Conntrack& core, nf_conn* ct, nf_nat_manip_type manip,
                                   nf_nat_decision* why = nullptr);

// nf_nat_packet(): rewrites the packet's addresses and ports for ct's
// binding at a hook of type `manip`, for a packet in direction `dir`.
void nf_nat_packet(const nf_conn* ct, ip_conntrack_dir dir, nf_nat_manip_type manip, Packet& skb,
                   const kernel_profile& profile);

// nf_nat_icmp_reply_translation() / nf_nat_icmpv6_reply_translation(): an
// ICMP error RELATED to ct (ctinfo IP_CT_RELATED or IP_CT_RELATED_REPLY) at
// a hook of type `manip`: the quoted header gets the inverse manipulation
// and the outer header is made to look like the reply to the original.
// Returns false iff the kernel drops it (a redirect about a NATed conn).
bool nf_nat_icmp_reply_translation(const nf_conn* ct, ip_conntrack_info ctinfo, nf_nat_manip_type manip,
                                   Packet& skb, const kernel_profile& profile);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_CORE_H_
