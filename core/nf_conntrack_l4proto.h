// The layer-4 tracker interface and the kernel's dispatch by protocol.
//
// Mirrors: include/net/netfilter/nf_conntrack_l4proto.h,
//          net/netfilter/nf_conntrack_proto.c (nf_ct_l4proto_find),
//          nf_conntrack_core.c nf_conntrack_handle_packet() and
//          nf_conntrack_handle_icmp() (v5.10 switches on the protocol
//          number instead of calling through a pointer; so do we).
//
// Packet functions return a verdict (NF_ACCEPT, NF_DROP) or its negation:
// -NF_ACCEPT = "invalid, let it pass untracked", -NF_DROP = "invalid, drop",
// -NF_REPEAT = "the conn was killed, look the packet up again" (TCP reopen).
// A tracker that rejects a packet names why with
// Conntrack::nf_l4proto_log_invalid().
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_CONNTRACK_L4PROTO_H_
#define CTSIM_CORE_NF_CONNTRACK_L4PROTO_H_

#include <cstdint>

#include "core/nf_conn.h"
#include "core/nf_conntrack_core.h"
#include "core/packet.h"

namespace ctcore {

struct nf_conntrack_l4proto {
  uint8_t l4proto;
  const char* name;  // as /proc/net/nf_conntrack and conntrack(8) print it
  bool allow_clash;  // a confirm clash may be resolved (UDP, UDP-Lite)
  // True iff an ASSURED conn may still be dropped by GC under pressure.
  bool (*can_early_drop)(const nf_conn* ct);
  // The protocol state name for output, or null (stateless protocols).
  const char* (*state_name)(const nf_conn& ct);
  // The v5.10 packet function nf_conntrack_handle_packet() calls.
  const char* packet_fn;
};

// The tracker for `l4proto` (the generic one for unknown protocols).
const nf_conntrack_l4proto& nf_ct_l4proto_find(uint8_t l4proto);
// The tracker the kernel of `p` runs for `l4proto` (nf_ct_tracker_of): what
// the conn's behaviour and its state name follow. (conntrack(8) names a
// protocol by its number, whatever tracks it: nf_ct_l4proto_find(l4proto).)
inline const nf_conntrack_l4proto& nf_ct_l4proto_find(uint8_t l4proto, const kernel_profile& p) {
  return nf_ct_l4proto_find(nf_ct_tracker_of(l4proto, p));
}

// Runs the tracker of ct's protocol on the packet.
int nf_conntrack_handle_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                               nf_inet_hooks hooknum);

// The ICMP/ICMPv6 error handler run before the lookup. Returns <= 0 to stop
// (the negated verdict; `error` is counted), > 0 to continue; on return
// skb.ct may already be set (a RELATED conn).
int nf_conntrack_handle_icmp(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum);

// The trackers (one file each).
int nf_conntrack_tcp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo, nf_inet_hooks hooknum);
int nf_conntrack_udp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo, nf_inet_hooks hooknum);
int nf_conntrack_udplite_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                                nf_inet_hooks hooknum);
int nf_conntrack_icmp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum);
int nf_conntrack_icmpv6_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                               nf_inet_hooks hooknum);
int nf_conntrack_gre_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo, nf_inet_hooks hooknum);
int nf_conntrack_sctp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum);
int nf_conntrack_dccp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum);
int nf_conntrack_generic_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                                nf_inet_hooks hooknum);
int nf_conntrack_icmpv4_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum);
int nf_conntrack_icmpv6_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, nf_inet_hooks hooknum);

bool tcp_can_early_drop(const nf_conn* ct);
bool sctp_can_early_drop(const nf_conn* ct);
bool dccp_can_early_drop(const nf_conn* ct);
const char* tcp_state_name(const nf_conn& ct);
const char* tcp_conntrack_name(uint8_t state);
const char* sctp_state_name(const nf_conn& ct);
const char* dccp_state_name(const nf_conn& ct);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_L4PROTO_H_
