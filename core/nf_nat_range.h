// A NAT rule's target: the address range and the per-protocol range (ports,
// ICMP ids) a conn may be mapped into, and the flags that say how.
//
// Mirrors: include/uapi/linux/netfilter/nf_nat.h (NF_NAT_RANGE_* flags,
//          struct nf_nat_range2).
// Representation: addresses as in nf_inet_addr (tuple.h: the bytes read
//          little-endian); the protocol range in host order (the kernel
//          keeps network order and converts with ntohs at every use).
//
// Threading: value type.
#ifndef CTSIM_CORE_NF_NAT_RANGE_H_
#define CTSIM_CORE_NF_NAT_RANGE_H_

#include <cstdint>

#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_tuple.h"

namespace ctcore {

constexpr uint32_t NF_NAT_RANGE_MAP_IPS = 1u << 0;           // the address is mapped
constexpr uint32_t NF_NAT_RANGE_PROTO_SPECIFIED = 1u << 1;   // so is the port/id, into [min_proto, max_proto]
constexpr uint32_t NF_NAT_RANGE_PROTO_RANDOM = 1u << 2;      // nft "random"
constexpr uint32_t NF_NAT_RANGE_PERSISTENT = 1u << 3;        // nft "persistent": the address ignores the destination
constexpr uint32_t NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1u << 4;  // nft "fully-random"
constexpr uint32_t NF_NAT_RANGE_PROTO_OFFSET = 1u << 5;      // port = min + (port - base): a shifted range
constexpr uint32_t NF_NAT_RANGE_PROTO_RANDOM_ALL = NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY;

struct nf_nat_range2 {
  uint32_t flags = 0;
  nf_inet_addr min_addr, max_addr;
  uint16_t min_proto = 0, max_proto = 0;  // ports, ICMP ids or GRE keys, host order
  uint16_t base_proto = 0;                // with NF_NAT_RANGE_PROTO_OFFSET
  uint16_t l3num = NFPROTO_IPV4;          // the family min_addr/max_addr belong to
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_RANGE_H_
