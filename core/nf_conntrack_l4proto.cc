// Tracker registry and dispatch.
//
// Mirrors: net/netfilter/nf_conntrack_proto.c nf_ct_l4proto_find(),
//          nf_conntrack_core.c nf_conntrack_handle_packet(),
//          nf_conntrack_handle_icmp().
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

const nf_conntrack_l4proto kTcp = {IPPROTO_TCP_,       "tcp",          false,
                                   tcp_can_early_drop, tcp_state_name, "nf_conntrack_tcp_packet"};
const nf_conntrack_l4proto kUdp = {IPPROTO_UDP_, "udp", true, nullptr, nullptr, "nf_conntrack_udp_packet"};
const nf_conntrack_l4proto kUdplite = {IPPROTO_UDPLITE_, "udplite", true,
                                       nullptr,          nullptr,   "nf_conntrack_udplite_packet"};
const nf_conntrack_l4proto kIcmp = {IPPROTO_ICMP_, "icmp", false, nullptr, nullptr, "nf_conntrack_icmp_packet"};
const nf_conntrack_l4proto kIcmpv6 = {IPPROTO_ICMPV6_, "icmpv6", false, nullptr, nullptr, "nf_conntrack_icmpv6_packet"};
const nf_conntrack_l4proto kGre = {IPPROTO_GRE_, "gre", false, nullptr, nullptr, "nf_conntrack_gre_packet"};
const nf_conntrack_l4proto kSctp = {IPPROTO_SCTP_,       "sctp",          false,
                                    sctp_can_early_drop, sctp_state_name, "nf_conntrack_sctp_packet"};
const nf_conntrack_l4proto kDccp = {IPPROTO_DCCP_,       "dccp",          false,
                                    dccp_can_early_drop, dccp_state_name, "nf_conntrack_dccp_packet"};
const nf_conntrack_l4proto kGeneric = {0, "unknown", false, nullptr, nullptr, "generic_packet"};

}  // namespace

const nf_conntrack_l4proto& nf_ct_l4proto_find(uint8_t l4proto) {
  switch (l4proto) {
    case IPPROTO_TCP_: return kTcp;
    case IPPROTO_UDP_: return kUdp;
    case IPPROTO_UDPLITE_: return kUdplite;
    case IPPROTO_ICMP_: return kIcmp;
    case IPPROTO_ICMPV6_: return kIcmpv6;
    case IPPROTO_GRE_: return kGre;
    case IPPROTO_SCTP_: return kSctp;
    case IPPROTO_DCCP_: return kDccp;
    default: return kGeneric;
  }
}

int nf_conntrack_handle_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                               nf_inet_hooks hooknum) {
  switch (nf_ct_tracker_of(ct->protonum(), core.profile())) {
    case IPPROTO_TCP_: return nf_conntrack_tcp_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_UDP_: return nf_conntrack_udp_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_UDPLITE_: return nf_conntrack_udplite_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_ICMP_: return nf_conntrack_icmp_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_ICMPV6_: return nf_conntrack_icmpv6_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_GRE_: return nf_conntrack_gre_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_SCTP_: return nf_conntrack_sctp_packet(core, ct, skb, ctinfo, hooknum);
    case IPPROTO_DCCP_: return nf_conntrack_dccp_packet(core, ct, skb, ctinfo, hooknum);
    default: return nf_conntrack_generic_packet(core, ct, skb, ctinfo, hooknum);
  }
}

int nf_conntrack_handle_icmp(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum) {
  if (core.observer() != nullptr) core.observer()->on_call("nf_conntrack_handle_icmp");
  if (skb.l3num == NFPROTO_IPV4 && skb.protonum == IPPROTO_ICMP_)
    return nf_conntrack_icmpv4_error(core, n, cpu, skb, hooknum);
  if (skb.l3num == NFPROTO_IPV6 && skb.protonum == IPPROTO_ICMPV6_)
    return nf_conntrack_icmpv6_error(core, n, cpu, skb, hooknum);
  return NF_ACCEPT;
}

}  // namespace ctcore
