// Network address translation as far as conntrack sees it: a NAT binding
// is decided once, for the first packet of a conn, by rewriting the conn's
// REPLY tuple; every later packet of the conn is rewritten from its tuples.
//
// Mirrors: net/netfilter/nf_nat_core.c (v5.10): nf_nat_setup_info(),
//          get_unique_tuple(), nf_nat_used_tuple(), nf_nat_packet(),
//          nf_nat_manip_pkt(), __nf_nat_alloc_null_binding();
//          nf_conntrack_core.c nf_conntrack_tuple_taken(),
//          nf_conntrack_alter_reply(); include/net/netfilter/nf_nat.h
//          (nf_nat_initialized). The caller passes the manip type
//          (the kernel's HOOK2MANIP of the hook): DST before routing,
//          SRC after it.
// Simplified: no bysource table (an SNAT does not reuse the mapping of an
//          earlier conn from the same source), no helpers, no sequence
//          adjustment; a range is one address with an optional port range;
//          ports are searched upwards from the lowest (the kernel starts at
//          a hashed or random offset).
//
// Threading: single-threaded.
#ifndef CTSIM_CORE_NF_NAT_CORE_H_
#define CTSIM_CORE_NF_NAT_CORE_H_

#include <cstdint>

#include "core/nf_conntrack_core.h"

namespace ctcore {

enum nf_nat_manip_type : uint8_t {
  NF_NAT_MANIP_SRC = 0,
  NF_NAT_MANIP_DST = 1,
};

// Where a NAT rule sends a conn: one address and, optionally, a port range.
struct nf_nat_range {
  uint16_t l3num = NFPROTO_IPV4;
  nf_inet_addr addr;
  bool has_port = false;
  uint16_t port_lo = 0, port_hi = 0;
};

// Returns true iff the binding for `manip` was already decided for ct.
inline bool nf_nat_initialized(const nf_conn* ct, nf_nat_manip_type manip) {
  return ct->test_bit(manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT_DONE_BIT : IPS_DST_NAT_DONE_BIT);
}

// Decides ct's binding for `manip`: the REPLY tuple is changed so replies
// match, IPS_{SRC,DST}_NAT set if anything changed, and the _DONE bit set.
// `range` null is the null binding (nothing changes, but the decision is
// made: a rule added later no longer applies to this conn). REQUIRES: ct
// unconfirmed and not yet initialized for `manip`.
unsigned nf_nat_setup_info(Conntrack& core, nf_conn* ct, const nf_nat_range* range, nf_nat_manip_type manip);

// Rewrites the packet's addresses and ports for ct's binding at a hook of
// type `manip`, for a packet in direction `dir`.
void nf_nat_packet(const nf_conn* ct, ip_conntrack_dir dir, nf_nat_manip_type manip, Packet& skb);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_CORE_H_
