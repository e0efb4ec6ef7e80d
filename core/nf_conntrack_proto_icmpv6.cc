// ICMPv6 tracking: echo and node-information queries; errors relate to an
// existing conn; neighbour discovery and MLD are never tracked.
//
// Mirrors: net/netfilter/nf_conntrack_proto_icmpv6.c (v5.10):
//          nf_conntrack_icmpv6_packet(), nf_conntrack_icmpv6_error(); with
//          rows I1 (nf_conntrack_icmpv6_redirect(), 6.2) and I2 (multicast
//          router discovery untracked, 6.10) as profile().icmpv6_* says.
// Simplified: the notation carries no hop limit, so a redirect is taken to
//          arrive with hop limit 255 (ND's own check); its Redirected Header
//          option is the quoted packet in brackets (PROTO_NOTES.md).
#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_proto_icmp_error.h"

namespace ctcore {

namespace {

// Types that may create a conn: ECHO_REQUEST (128), NI_QUERY (139).
bool icmpv6_valid_new(uint8_t type) { return type == 128 || type == 139; }

// noct_valid_new: MLD query/report/done (130-132), router and neighbour
// solicitation/advertisement (133-136), MLDv2 report (143); row I2 (6.10,
// "fix ct-state for ICMPv6 Multicast Router Discovery") adds multicast
// router advertisement and solicitation (151, 152).
bool icmpv6_untracked(uint8_t type, bool mrd) {
  return (type >= 130 && type <= 136) || type == 143 || (mrd && (type == 151 || type == 152));
}

// NDISC_REDIRECT.
constexpr uint8_t kNdiscRedirect = 137;

// fe80::/10 (ipv6_addr_type()'s IPV6_ADDR_LINKLOCAL); addresses are stored
// in network byte order, so the first two bytes are the low ones of all[0].
bool ipv6_link_local(const nf_inet_addr& a) {
  const uint8_t b0 = static_cast<uint8_t>(a.all[0]), b1 = static_cast<uint8_t>(a.all[0] >> 8);
  return b0 == 0xfe && (b1 & 0xc0) == 0x80;
}

// Mirrors: nf_conntrack_proto_icmpv6.c nf_conntrack_icmpv6_redirect() (row
// I1, 6.2: "set icmpv6 redirects as RELATED").
// A redirect with code 0 from a link-local router, carrying the redirected
// packet's header, is RELATED to that packet's conn like an ICMP error.
// Code != 0 and an option other than the redirected header fall through
// to the ordinary path (v5.10's: not a type that can make a conn).
int nf_conntrack_icmpv6_redirect(Conntrack& core, net& n, uint16_t cpu, Packet& skb) {
  if (skb.icmp_code != 0) return NF_ACCEPT;
  if (!ipv6_link_local(skb.saddr)) {
    core.nf_l4proto_log_invalid("invalid saddr or hoplimit for redirect");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (!skb.has_inner) {
    core.nf_l4proto_log_invalid("redirect without options");
    return -static_cast<int>(NF_ACCEPT);
  }
  return nf_conntrack_inet_error(core, n, cpu, skb, IPPROTO_ICMPV6_);
}

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
  const kernel_profile& p = core.profile();
  if (icmpv6_untracked(skb.icmp_type, p.icmpv6_mrd_untracked)) {
    skb.untracked = true;
    skb.ctinfo = IP_CT_UNTRACKED;
    if (core.observer() != nullptr) core.observer()->on_ctinfo(nullptr, IP_CT_UNTRACKED, "nf_conntrack_icmpv6_error");
    return NF_ACCEPT;
  }
  if (p.icmpv6_redirect_related && skb.icmp_type == kNdiscRedirect)
    return nf_conntrack_icmpv6_redirect(core, n, cpu, skb);
  if (skb.icmp_type >= 128) return NF_ACCEPT;  // not an error message
  return nf_conntrack_inet_error(core, n, cpu, skb, IPPROTO_ICMPV6_);
}

}  // namespace ctcore
