// GRE tracking: 30 s until both directions were seen, then 180 s and
// ASSURED.
//
// Mirrors: net/netfilter/nf_conntrack_proto_gre.c nf_conntrack_gre_packet()
//          (v5.10). Simplified: no PPTP keymap (see nf_ct_get_tuple).
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

int nf_conntrack_gre_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info,
                            nf_inet_hooks) {
  if (skb.l3num != NFPROTO_IPV4) return -static_cast<int>(NF_ACCEPT);
  if (!nf_ct_is_confirmed(ct)) {
    const net& n = core.nf_ct_net(ct);
    ct->proto.gre.stream_timeout = n.sysctl.gre.timeout_replied;
    ct->proto.gre.timeout = n.sysctl.gre.timeout_unreplied;
  }
  if (ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    core.nf_ct_refresh(ct, ct->proto.gre.stream_timeout);
    if (!ct->test_and_set_bit(IPS_ASSURED_BIT)) core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  } else {
    core.nf_ct_refresh(ct, ct->proto.gre.timeout);
  }
  return NF_ACCEPT;
}

}  // namespace ctcore
