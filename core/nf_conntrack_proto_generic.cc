// Any protocol without its own tracker: one conn per (addresses, protocol),
// refreshed to the generic timeout by every packet, never ASSURED.
//
// Mirrors: net/netfilter/nf_conntrack_proto_generic.c and generic_packet()
//          in nf_conntrack_core.c (v5.10).
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

int nf_conntrack_generic_packet(Conntrack& core, nf_conn* ct, Packet&, ip_conntrack_info, nf_inet_hooks) {
  core.nf_ct_refresh(ct, core.nf_ct_net(ct).sysctl.generic_timeout);
  return NF_ACCEPT;
}

}  // namespace ctcore
