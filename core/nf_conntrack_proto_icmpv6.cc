// ICMPv6 tracking: echo and node-information queries; errors relate to an
// existing conn; neighbour discovery and MLD are never tracked.
//
// Mirrors: net/netfilter/nf_conntrack_proto_icmpv6.c (v5.10):
//          nf_conntrack_icmpv6_packet(), nf_conntrack_icmpv6_error().
#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_proto_icmp_error.h"

namespace ctcore {

namespace {

// Types that may create a conn: ECHO_REQUEST (128), NI_QUERY (139).
bool icmpv6_valid_new(uint8_t type) { return type == 128 || type == 139; }

// noct_valid_new: MLD query/report/done (130-132), router and neighbour
// solicitation/advertisement (133-136), MLDv2 report (143).
bool icmpv6_untracked(uint8_t type) { return (type >= 130 && type <= 136) || type == 143; }

}  // namespace

int nf_conntrack_icmpv6_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info, nf_inet_hooks) {
  if (skb.l3num != NFPROTO_IPV6) return -static_cast<int>(NF_ACCEPT);
  // Unlike ICMPv4, the type is only checked while the conn is new.
  if (!nf_ct_is_confirmed(ct) && !icmpv6_valid_new(ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.icmp_type())) {
    core.nf_l4proto_log_invalid("icmpv6: type cannot create a conn");
    return -static_cast<int>(NF_ACCEPT);
  }
  core.nf_ct_refresh(ct, core.nf_ct_net(ct).sysctl.icmpv6_timeout);
  return NF_ACCEPT;
}

int nf_conntrack_icmpv6_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("short packet");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (skb.bad_checksum && hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0) {
    core.nf_l4proto_log_invalid("ICMPv6 checksum failed");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (icmpv6_untracked(skb.icmp_type)) {
    skb.untracked = true;
    skb.ctinfo = IP_CT_UNTRACKED;
    return NF_ACCEPT;
  }
  if (skb.icmp_type >= 128) return NF_ACCEPT;  // not an error message
  return nf_conntrack_inet_error(core, n, cpu, skb, IPPROTO_ICMPV6_);
}

}  // namespace ctcore
