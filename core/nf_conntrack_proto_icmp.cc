// ICMP tracking: echo-like request/reply pairs keyed by id, and errors that
// relate to an existing conn.
//
// Mirrors: net/netfilter/nf_conntrack_proto_icmp.c (v5.10):
//          nf_conntrack_icmp_packet(), nf_conntrack_icmpv4_error(),
//          nf_conntrack_inet_error().
#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_proto_icmp_error.h"

namespace ctcore {

namespace {

constexpr uint8_t NR_ICMP_TYPES = 18;

// Types that may create a conn: ECHO, TIMESTAMP, INFO_REQUEST, ADDRESS.
bool icmp_valid_new(uint8_t type) { return type == 8 || type == 13 || type == 15 || type == 17; }

// icmp_is_err(): DEST_UNREACH, SOURCE_QUENCH, REDIRECT, TIME_EXCEEDED,
// PARAMETERPROB.
bool icmp_is_err(uint8_t type) { return type == 3 || type == 4 || type == 5 || type == 11 || type == 12; }

}  // namespace

int nf_conntrack_icmp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info, nf_inet_hooks) {
  if (skb.l3num != NFPROTO_IPV4) return -static_cast<int>(NF_ACCEPT);
  // Checked on every packet against the ORIGINAL type: a conn made by an
  // echo reply is refused even when it is later seen again.
  if (!icmp_valid_new(ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.icmp_type())) {
    core.nf_l4proto_log_invalid("icmp: type cannot create a conn");
    return -static_cast<int>(NF_ACCEPT);
  }
  core.nf_ct_refresh(ct, core.nf_ct_net(ct).sysctl.icmp_timeout);
  return NF_ACCEPT;
}

int nf_conntrack_icmpv4_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("short packet");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (skb.bad_checksum && n.sysctl.checksum != 0 && hooknum == NF_INET_PRE_ROUTING) {
    core.nf_l4proto_log_invalid("bad hw icmp checksum");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (skb.icmp_type > NR_ICMP_TYPES) {
    core.nf_l4proto_log_invalid("invalid icmp type");
    return -static_cast<int>(NF_ACCEPT);
  }
  if (!icmp_is_err(skb.icmp_type)) return NF_ACCEPT;
  return nf_conntrack_inet_error(core, n, cpu, skb, IPPROTO_ICMP_);
}

}  // namespace ctcore
