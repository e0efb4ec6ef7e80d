// GRE tracking: 30 s until both directions were seen, then 180 s and
// ASSURED.
//
// Mirrors: net/netfilter/nf_conntrack_proto_gre.c nf_conntrack_gre_packet()
//          (v5.10). The two timeouts are copied into the conn when it is
//          created (the PPTP helper may raise them per call); the sysctls
//          nf_conntrack_gre_timeout{,_stream} only affect new conns.
// The tuple (nf_ct_get_tuple, v5.10's gre_pkt_to_tuple()): GREv0 gets key 0
//          both ways, one conn per address pair; GREv1 (PPTP) takes dst key =
//          call id and src key from the keymap the PPTP helper registers,
//          which ctsim does not model: 0, as in a kernel without the helper.
//          See core/PROTO_NOTES.md.
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

int nf_conntrack_gre_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info, nf_inet_hooks) {
  if (skb.l3num != NFPROTO_IPV4) return -static_cast<int>(NF_ACCEPT);
  if (!nf_ct_is_confirmed(ct)) {
    const net& n = core.nf_ct_net(ct);
    ct->proto.gre.stream_timeout = n.sysctl.gre.timeout_replied;
    ct->proto.gre.timeout = n.sysctl.gre.timeout_unreplied;
  }
  if (ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    core.nf_ct_refresh(ct, ct->proto.gre.stream_timeout);
    // K2 (6.5): a reply-only clash entry times out soon: never ASSURED.
    if (core.profile().gre_allow_clash && ct->test_bit(IPS_NAT_CLASH_BIT)) return NF_ACCEPT;
    if (!ct->test_and_set_bit(IPS_ASSURED_BIT)) core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  } else {
    core.nf_ct_refresh(ct, ct->proto.gre.timeout);
  }
  return NF_ACCEPT;
}

}  // namespace ctcore
