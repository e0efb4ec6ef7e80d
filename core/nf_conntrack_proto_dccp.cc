// DCCP tracking. PLACEHOLDER until the DCCP state machine lands (issue 4):
// tracks like the generic protocol with the generic timeout.
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

const char* dccp_state_name(const nf_conn&) { return nullptr; }

int nf_conntrack_dccp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum) {
  return nf_conntrack_generic_packet(core, ct, skb, ctinfo, hooknum);
}

}  // namespace ctcore
