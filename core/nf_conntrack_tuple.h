// The tuple: if two packets have the same tuple, they belong to the same
// connection (in one direction).
//
// Mirrors: include/net/netfilter/nf_conntrack_tuple.h (nf_conntrack_tuple,
//          nf_conntrack_tuple_hash, nf_ct_tuple_equal),
//          net/netfilter/nf_conntrack_core.c nf_ct_get_tuple(),
//          nf_ct_invert_tuple(); nf_conntrack_proto_icmp{,v6}.c inverters.
//
// Layout: the struct is the kernel's 40 bytes, field for field, because
// hash_conntrack_raw() hashes its first 36 bytes. Every 16/32-bit field holds
// the value a little-endian (x86) CPU reads from the kernel's bytes, so the
// hash is the x86 kernel's on any host:
//   - nf_inet_addr::all[i] = bytes 4i..4i+3 of the address (network order)
//     read little-endian; IPv4 uses all[0] and leaves all[1..3] zero;
//   - `u_all` (the kernel's src.u.all / dst.u.all, network order in memory)
//     holds the byte-swapped port: use the port()/set_port() accessors;
//     for ICMP dst.u_all = type | code << 8 (type is the first byte);
//   - src.l3num is host order (NFPROTO_IPV4 = 2, NFPROTO_IPV6 = 10).
//
// Invariants:
//  (1) Unused bytes are zero (the kernel memsets the tuple first), so equal
//      flows have equal bytes and equal hashes.
//  (2) dst.dir is IP_CT_DIR_ORIGINAL or IP_CT_DIR_REPLY and is never part of
//      equality or of the hash.
//
// Threading: value types; no shared state.
#ifndef CTSIM_CORE_NF_CONNTRACK_TUPLE_H_
#define CTSIM_CORE_NF_CONNTRACK_TUPLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/hlist_nulls.h"
#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_kernel_profile.h"

namespace ctcore {

struct Packet;

struct nf_inet_addr {
  uint32_t all[4] = {0, 0, 0, 0};

  bool operator==(const nf_inet_addr&) const = default;
};

// A 16-bit value as x86 reads it from network-order bytes (htons on x86).
constexpr uint16_t raw_be16(uint16_t host) { return static_cast<uint16_t>((host >> 8) | (host << 8)); }

struct nf_conntrack_tuple {
  struct {
    nf_inet_addr u3;
    uint16_t u_all = 0;  // sport / icmp id / gre key, network order in memory
    uint16_t l3num = 0;
  } src;
  struct {
    nf_inet_addr u3;
    uint16_t u_all = 0;  // dport / icmp {type, code}, network order in memory
    uint8_t protonum = 0;
    uint8_t dir = IP_CT_DIR_ORIGINAL;
  } dst;

  uint16_t sport() const { return raw_be16(src.u_all); }
  uint16_t dport() const { return raw_be16(dst.u_all); }
  void set_sport(uint16_t p) { src.u_all = raw_be16(p); }
  void set_dport(uint16_t p) { dst.u_all = raw_be16(p); }
  // ICMP/ICMPv6 view of the same bytes.
  uint8_t icmp_type() const { return static_cast<uint8_t>(dst.u_all & 0xff); }
  uint8_t icmp_code() const { return static_cast<uint8_t>(dst.u_all >> 8); }
  uint16_t icmp_id() const { return raw_be16(src.u_all); }
  void set_icmp(uint8_t type, uint8_t code, uint16_t id) {
    dst.u_all = static_cast<uint16_t>(type | (code << 8));
    src.u_all = raw_be16(id);
  }
};
static_assert(sizeof(nf_conntrack_tuple) == 40, "the kernel's tuple is 40 bytes");

// One direction of a conn as linked into a hash chain (or, for ORIGINAL, the
// unconfirmed or dying list).
struct nf_conntrack_tuple_hash {
  hlist_nulls_node hnnode;
  nf_conntrack_tuple tuple;
};

// Returns true iff a and b name the same flow in the same direction sense:
// addresses, ports, l3num and protocol equal; dir is not compared.
// Every field but dir is compared, as five 8-byte words: the struct has no
// padding and dir is its last byte, masked out of the last word. (Chain
// walks call this for every node: a field-by-field compare was ~90
// instructions.)
inline bool nf_ct_tuple_equal(const nf_conntrack_tuple& a, const nf_conntrack_tuple& b) {
  static_assert(offsetof(nf_conntrack_tuple, dst.dir) == 39, "dir is the last byte");
  constexpr uint64_t kNoDir = std::endian::native == std::endian::little ? 0x00ffffffffffffffull : ~uint64_t{0xff};
  const auto diff = [&](size_t word) {
    uint64_t x, y;
    std::memcpy(&x, reinterpret_cast<const unsigned char*>(&a) + 8 * word, 8);
    std::memcpy(&y, reinterpret_cast<const unsigned char*>(&b) + 8 * word, 8);
    return x ^ y;
  };
  return (diff(0) | diff(1) | diff(2) | diff(3) | (diff(4) & kNoDir)) == 0;
}

// Fills *tuple from the packet's headers as the kernel of `profile` does
// (its trackers decide which protocols have ports: row D1). Returns false
// iff the packet gives no tuple (the kernel's nf_ct_get_tuple failing, e.g.
// a truncated header or a non-first fragment); the caller then treats it
// as invalid.
bool nf_ct_get_tuple(const Packet& skb, nf_conntrack_tuple* tuple, const kernel_profile& profile);

// The tuple ctnetlink makes of one given to it (`conntrack -D`):
// ctnetlink_parse_tuple_proto() keeps the ports only of a protocol whose
// tracker reads them, so under the generic tracker (D1: DCCP in 6.18) they
// are 0 whatever was given.
nf_conntrack_tuple ctnetlink_parse_tuple(const nf_conntrack_tuple& given, const kernel_profile& profile);

// The tuple of the other direction. Returns false iff it has none: an ICMP or
// ICMPv6 type that has no reply type (then init_conntrack gives up and the
// packet is invalid).
bool nf_ct_invert_tuple(nf_conntrack_tuple* inverse, const nf_conntrack_tuple& orig);

// The ICMP/ICMPv6 request<->reply type maps; return false for types that
// are not in the table. Mirrors icmp_invert_tuple()/icmpv6_invert_tuple().
bool icmp_invert_type(uint8_t type, uint8_t* inverse);
bool icmpv6_invert_type(uint8_t type, uint8_t* inverse);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_TUPLE_H_
