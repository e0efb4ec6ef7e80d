// Matching an ICMP/ICMPv6 error to the conn of the packet it quotes.
//
// Mirrors: net/netfilter/nf_conntrack_proto_icmp.c nf_conntrack_inet_error()
//          (shared by ICMPv4 and ICMPv6 in v5.10).
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_CONNTRACK_PROTO_ICMP_ERROR_H_
#define CTSIM_CORE_NF_CONNTRACK_PROTO_ICMP_ERROR_H_

#include "core/nf_conntrack_core.h"

namespace ctcore {

// Looks up the inverted tuple of the quoted packet. On a match whose
// destination equals the outer destination, attaches the conn to skb as
// RELATED (RELATED_REPLY when it matched the REPLY tuple) and returns
// NF_ACCEPT; the conn's state and timeout are left alone. Otherwise returns
// -NF_ACCEPT (counted as `error` by the caller).
int nf_conntrack_inet_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, uint8_t l4proto);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_PROTO_ICMP_ERROR_H_
