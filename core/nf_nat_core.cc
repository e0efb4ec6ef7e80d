// NAT bindings, unique tuples and packet rewriting (see nf_nat_core.h).
//
// Mirrors: net/netfilter/nf_nat_core.c and nf_nat_proto.c (v5.10).
#include "core/nf_nat_core.h"

#include <bit>
#include <utility>

#include "core/jhash.h"
#include "core/nf_nat_bysource.h"
#include "core/prandom.h"

namespace ctcore {

namespace {

// Host-order value of one 32-bit word of an address (ntohl of the kernel's
// word: nf_inet_addr holds the bytes read little-endian).
uint32_t addr_word_host(const nf_inet_addr& a, unsigned i) { return __builtin_bswap32(a.all[i]); }

// Whether NAT treats protocol `p` as one with ports under `profile`: only
// if the kernel tracks it with a tracker that reads them (D1: in 6.18 DCCP
// goes to the generic tracker, and NAT keeps its ports as they are).
bool has_ports(uint8_t p, const kernel_profile& profile) {
  p = nf_ct_tracker_of(p, profile);
  return p == IPPROTO_TCP_ || p == IPPROTO_UDP_ || p == IPPROTO_UDPLITE_ || p == IPPROTO_SCTP_ || p == IPPROTO_DCCP_;
}
bool is_icmp(uint8_t p) { return p == IPPROTO_ICMP_ || p == IPPROTO_ICMPV6_; }

// nf_nat_used_tuple(): would a conn whose ORIGINAL tuple (after NAT) is
// `tuple` clash with a conn in the table? Its reply is what the table would
// hold. Counts `found` (in nf_conntrack_tuple_taken) and, for the trace,
// how many candidates were taken.
bool nf_nat_used_tuple(Conntrack& core, const nf_conntrack_tuple& tuple, const nf_conn* ct, nf_nat_decision& why) {
  nf_conntrack_tuple reply;
  nf_ct_invert_tuple(&reply, tuple);
  const bool taken = core.nf_conntrack_tuple_taken(reply, ct);
  if (taken) ++why.taken;
  return taken;
}

// nf_nat_inet_in_range(): the source address within [min_addr, max_addr]
// (IPv6 compared as big-endian 128-bit numbers, as ipv6_addr_cmp does).
bool nf_nat_inet_in_range(const nf_conntrack_tuple& t, const nf_nat_range2& range) {
  const unsigned words = t.src.l3num == NFPROTO_IPV4 ? 1 : 4;
  auto cmp = [&](const nf_inet_addr& a, const nf_inet_addr& b) {
    for (unsigned i = 0; i < words; ++i) {
      const uint32_t x = addr_word_host(a, i), y = addr_word_host(b, i);
      if (x != y) return x < y ? -1 : 1;
    }
    return 0;
  };
  return cmp(t.src.u3, range.min_addr) >= 0 && cmp(t.src.u3, range.max_addr) <= 0;
}

// The value that NAT may change in the per-protocol part (the kernel's
// keyptr): the ICMP id, or the port of the manip's side.
uint16_t l4_key(const nf_conntrack_tuple& t, nf_nat_manip_type manip) {
  if (is_icmp(t.dst.protonum)) return t.icmp_id();
  return manip == NF_NAT_MANIP_SRC ? t.sport() : t.dport();
}
void set_l4_key(nf_conntrack_tuple& t, nf_nat_manip_type manip, uint16_t v) {
  if (is_icmp(t.dst.protonum) || manip == NF_NAT_MANIP_SRC)
    t.set_sport(v);  // the ICMP id shares the source port's bytes
  else
    t.set_dport(v);
}

// l4proto_in_range(): is the manipulable part between min and max?
bool l4proto_in_range(const nf_conntrack_tuple& t, nf_nat_manip_type manip, uint16_t min, uint16_t max,
                      const kernel_profile& profile) {
  const uint8_t p = t.dst.protonum;
  if (!is_icmp(p) && !has_ports(p, profile) && p != IPPROTO_GRE_) return true;
  const uint16_t key = l4_key(t, manip);
  return key >= min && key <= max;
}

// in_range(): would mapping the source to this tuple meet the range?
bool in_range(const nf_conntrack_tuple& t, const nf_nat_range2& range, const kernel_profile& profile) {
  if ((range.flags & NF_NAT_RANGE_MAP_IPS) && !nf_nat_inet_in_range(t, range)) return false;
  if (!(range.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) return true;
  return l4proto_in_range(t, NF_NAT_MANIP_SRC, range.min_proto, range.max_proto, profile);
}

// same_src(): ct's original source (address, port/id, protocol) is tuple's.
bool same_src(const nf_conn* ct, const nf_conntrack_tuple& tuple) {
  const nf_conntrack_tuple& t = ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
  return t.dst.protonum == tuple.dst.protonum && t.src.u3 == tuple.src.u3 && t.src.u_all == tuple.src.u_all;
}

// find_appropriate_src(): an existing conn from the same source in the same
// namespace whose mapping also fits this range: reuse its mapped source.
bool find_appropriate_src(Conntrack& core, const nf_conn* self, const nf_conntrack_tuple& tuple,
                          nf_conntrack_tuple* result, const nf_nat_range2& range) {
  NfNatBysource& bysource = core.nat_bysource();
  const uint32_t h = bysource.hash_by_src(tuple, core.nf_ct_net(self).hash_mix, core.prandom());
  for (const nf_conn_nat* e = bysource.chain(h); e != nullptr; e = e->next) {
    const nf_conn* ct = e->ct;
    if (same_src(ct, tuple) && ct->net == self->net) {
      // The source part from the other conn's reply, the rest from ours.
      nf_ct_invert_tuple(result, ct->tuplehash[IP_CT_DIR_REPLY].tuple);
      result->dst = tuple.dst;
      if (in_range(*result, range, core.profile())) return true;
    }
  }
  return false;
}

// find_best_ips_proto(): the address, from the range, by a hash of the
// source and (unless persistent) destination addresses, so a client keeps
// its address for a server even across reboots.
void find_best_ips_proto(nf_conntrack_tuple* tuple, const nf_nat_range2& range, const nf_conn* ct,
                         nf_nat_manip_type manip) {
  if (!(range.flags & NF_NAT_RANGE_MAP_IPS)) return;
  nf_inet_addr* var = manip == NF_NAT_MANIP_SRC ? &tuple->src.u3 : &tuple->dst.u3;
  if (range.min_addr == range.max_addr) {  // fast path: only one choice
    *var = range.min_addr;
    return;
  }
  const unsigned max = ct->l3num() == NFPROTO_IPV4 ? 0 : 3;
  const bool persistent = range.flags & NF_NAT_RANGE_PERSISTENT;
  uint32_t j = jhash2(tuple->src.u3.all, 4, persistent ? 0 : tuple->dst.u3.all[max] /* ^ zone id 0 */);
  bool full_range = false;
  for (unsigned i = 0; i <= max; ++i) {
    uint32_t minip, dist;
    if (!full_range) {
      minip = addr_word_host(range.min_addr, i);
      dist = addr_word_host(range.max_addr, i) - minip + 1;  // u32: a whole word wraps to 0
    } else {
      minip = 0;
      dist = ~0u;
    }
    const auto scaled = static_cast<uint32_t>((static_cast<uint64_t>(j) * dist) >> 32);  // reciprocal_scale
    var->all[i] = __builtin_bswap32(minip + scaled);
    if (var->all[i] != range.max_addr.all[i]) full_range = true;
    if (!persistent) j ^= tuple->dst.u3.all[i];
  }
}

// nf_nat_l4proto_unique_tuple(): change the port/id (of the manip's side)
// to one in range that gives a unique tuple: from an offset (random, or the
// port's distance from the range base), at most 128 tries, then rounds of
// half as many from a fresh random offset while there are 16 or more.
void nf_nat_l4proto_unique_tuple(Conntrack& core, nf_conntrack_tuple* tuple, const nf_nat_range2& range,
                                 nf_nat_manip_type manip, const nf_conn* ct, nf_nat_decision& why) {
  const uint8_t p = tuple->dst.protonum;
  uint32_t min, range_size;
  const bool specified = range.flags & NF_NAT_RANGE_PROTO_SPECIFIED;
  if (is_icmp(p)) {
    // The id is the same in both directions.
    min = specified ? range.min_proto : 0;
    range_size = specified ? uint32_t{range.max_proto} - range.min_proto + 1 : 65536;
  } else if (p == IPPROTO_GRE_) {
    why.how = "kept";  // only a PPTP conn (one with a master) has its key remapped
    return;
  } else if (has_ports(p, core.profile())) {
    if (!specified) {
      if (manip == NF_NAT_MANIP_DST) {  // no range: a destination port stays
        why.how = "kept";
        return;
      }
      const uint16_t port = l4_key(*tuple, manip);
      if (port < 1024) {
        // Loose convention: below 512 is credential passing.
        min = port < 512 ? 1 : 600;
        range_size = port < 512 ? 511 : 1023 - 600 + 1;
      } else {
        min = 1024;
        range_size = 65535 - 1024 + 1;
      }
    } else {
      uint32_t lo = range.min_proto, hi = range.max_proto;
      if (hi < lo) std::swap(lo, hi);
      min = lo;
      range_size = hi - lo + 1;
    }
  } else {
    why.how = "kept";
    return;
  }
  // The kernel's offset is a u16: it wraps at 65536 as it counts up.
  uint16_t off = (range.flags & NF_NAT_RANGE_PROTO_OFFSET)
                     ? static_cast<uint16_t>(l4_key(*tuple, manip) - range.base_proto)
                     : static_cast<uint16_t>(core.prandom().prandom_u32());
  constexpr uint32_t max_attempts = 128;
  uint32_t attempts = range_size < max_attempts ? range_size : max_attempts;
  for (;;) {
    ++why.rounds;
    for (uint32_t i = 0; i < attempts; ++i, ++off) {
      set_l4_key(*tuple, manip, static_cast<uint16_t>(min + off % range_size));
      ++why.attempts;
      if (!nf_nat_used_tuple(core, *tuple, ct, why)) {
        why.how = "unique";
        return;
      }
    }
    if (attempts >= range_size || attempts < 16) break;
    attempts /= 2;
    off = static_cast<uint16_t>(core.prandom().prandom_u32());
  }
  why.how = "exhausted";  // the last candidate stays; confirm will find it taken
}

// get_unique_tuple(): the tuple after the manipulation, unique if the
// range allows; at worst a duplicate that __nf_conntrack_confirm drops.
void get_unique_tuple(Conntrack& core, nf_conntrack_tuple* tuple, const nf_conntrack_tuple& orig,
                      const nf_nat_range2& range, const nf_conn* ct, nf_nat_manip_type manip, nf_nat_decision& why) {
  // 1) Source NAT only: the packet's own tuple if it is in range and free;
  // else this source's current mapping, if it fits and is free.
  if (manip == NF_NAT_MANIP_SRC && !(range.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL)) {
    if (in_range(orig, range, core.profile())) {
      if (!nf_nat_used_tuple(core, orig, ct, why)) {
        *tuple = orig;
        why.how = "original";
        return;
      }
    } else if (find_appropriate_src(core, ct, orig, tuple, range)) {
      if (!nf_nat_used_tuple(core, *tuple, ct, why)) {
        why.how = "bysource";
        return;
      }
    }
  }
  // 2) The address from the range.
  *tuple = orig;
  find_best_ips_proto(tuple, range, ct, manip);
  // 3) The per-protocol part: keep it if it is in range and the tuple is
  // unique (a single-port range is not even checked).
  if (!(range.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL)) {
    if (range.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
      if (!(range.flags & NF_NAT_RANGE_PROTO_OFFSET) &&
          l4proto_in_range(*tuple, manip, range.min_proto, range.max_proto, core.profile()) &&
          (range.min_proto == range.max_proto || !nf_nat_used_tuple(core, *tuple, ct, why))) {
        why.how = "in_range";
        return;
      }
    } else if (!nf_nat_used_tuple(core, *tuple, ct, why)) {
      why.how = "in_range";
      return;
    }
  }
  // Last chance: let the protocol find a unique tuple.
  nf_nat_l4proto_unique_tuple(core, tuple, range, manip, ct, why);
}

}  // namespace

namespace {

// The narrative's reports (core/observer.h), out of line: a binding is
// decided once per conn, and with no observer these cost one branch.
[[gnu::cold, gnu::noinline]] void report_decision(Observer* obs, const nf_conn& ct, nf_nat_manip_type manip,
                                                  const nf_conntrack_tuple& next, const nf_nat_decision& why) {
  obs->on_nat_decision(ct, manip, next, why);
}

}  // namespace

unsigned nf_nat_setup_info(Conntrack& core, nf_conn* ct, const nf_nat_range2& range, nf_nat_manip_type manip,
                           nf_nat_decision* why) {
  if (nf_ct_is_confirmed(ct)) return NF_ACCEPT;
  CT_ASSERT(!nf_nat_initialized(ct, manip), "NAT binding decided twice");
  Observer* const obs = core.observer();
  if (obs != nullptr) [[unlikely]]
    obs->on_call("nf_nat_setup_info");
  nf_nat_decision local;
  nf_nat_decision& d = why != nullptr ? *why : local;
  // What the packet looks like now: the inverse of the reply tuple (which
  // holds any earlier manipulation).
  nf_conntrack_tuple curr;
  nf_ct_invert_tuple(&curr, ct->tuplehash[IP_CT_DIR_REPLY].tuple);
  curr.dst.dir = IP_CT_DIR_ORIGINAL;
  nf_conntrack_tuple next;
  get_unique_tuple(core, &next, curr, range, ct, manip, d);
  if (obs != nullptr) [[unlikely]]
    report_decision(obs, *ct, manip, next, d);
  const bool src = manip == NF_NAT_MANIP_SRC;
  if (!nf_ct_tuple_equal(next, curr)) {
    // Alter the conntrack table so it will recognise replies.
    nf_conntrack_tuple reply;
    nf_ct_invert_tuple(&reply, next);
    core.nf_conntrack_alter_reply(ct, reply);
    ct->set_bit(src ? IPS_SRC_NAT_BIT : IPS_DST_NAT_BIT);
    if (obs != nullptr) [[unlikely]]
      obs->on_status_set(*ct, src ? IPS_SRC_NAT_BIT : IPS_DST_NAT_BIT, "nf_nat_setup_info");
  }
  if (src) {
    NfNatBysource& bysource = core.nat_bysource();
    const uint32_t bucket =
        bysource.hash_by_src(ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, core.nf_ct_net(ct).hash_mix, core.prandom());
    bysource.add(ct, bucket);
    if (obs != nullptr) [[unlikely]]
      obs->on_list(*ct, CtList::kNatBysource, true, bucket, "nf_nat_setup_info");
  }
  ct->set_bit(src ? IPS_SRC_NAT_DONE_BIT : IPS_DST_NAT_DONE_BIT);
  if (obs != nullptr) [[unlikely]]
    obs->on_status_set(*ct, src ? IPS_SRC_NAT_DONE_BIT : IPS_DST_NAT_DONE_BIT, "nf_nat_setup_info");
  return NF_ACCEPT;
}

unsigned nf_nat_alloc_null_binding(Conntrack& core, nf_conn* ct, nf_nat_manip_type manip, nf_nat_decision* why) {
  if (Observer* obs = core.observer(); obs != nullptr) [[unlikely]]
    obs->on_call("nf_nat_alloc_null_binding");
  // Force the range to this address; let the protocol part be chosen (no
  // PROTO_SPECIFIED). The reply tuple, in case it is already mangled.
  const nf_conntrack_tuple& reply = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
  nf_nat_range2 range;
  range.flags = NF_NAT_RANGE_MAP_IPS;
  range.l3num = ct->l3num();
  range.min_addr = range.max_addr = manip == NF_NAT_MANIP_SRC ? reply.dst.u3 : reply.src.u3;
  return nf_nat_setup_info(core, ct, range, manip, why);
}

namespace {

// The status bit that says a packet of direction `dir` at a hook of type
// `manip` is rewritten: that manip's NAT bit, or for a reply the other one
// (a reply undoes the original direction's manipulation of the other kind).
uint32_t nat_statusbit(nf_nat_manip_type manip, ip_conntrack_dir dir) {
  const uint32_t bit = manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT : IPS_DST_NAT;
  return dir == IP_CT_DIR_REPLY ? bit ^ IPS_NAT_MASK : bit;
}

// The ICMP types whose id NAT rewrites (icmp_manip_pkt / icmpv6_manip_pkt):
// queries and their replies; errors carry no id.
bool icmp_has_id(uint16_t l3num, uint8_t type) {
  if (l3num == NFPROTO_IPV6) return type == 128 || type == 129;  // echo request / reply
  switch (type) {
    case 0: case 8: case 13: case 14: case 15: case 16: case 17: case 18: return true;
    default: return false;
  }
}

}  // namespace

void nf_nat_packet(const nf_conn* ct, ip_conntrack_dir dir, nf_nat_manip_type manip, Packet& skb,
                   const kernel_profile& profile) {
  if ((ct->status & nat_statusbit(manip, dir)) == 0) return;
  // nf_nat_manip_pkt(): the packet should look like the inverse of the
  // other direction's tuple.
  nf_conntrack_tuple target;
  nf_ct_invert_tuple(&target, ct->tuplehash[!dir].tuple);
  const bool ports = has_ports(skb.protonum, profile);
  if (manip == NF_NAT_MANIP_SRC) {
    skb.saddr = target.src.u3;
    if (ports) skb.sport = target.sport();
  } else {
    skb.daddr = target.dst.u3;
    if (ports) skb.dport = target.dport();
  }
  if (is_icmp(skb.protonum) && icmp_has_id(skb.l3num, skb.icmp_type)) skb.icmp_id = target.icmp_id();
}

bool nf_nat_icmp_reply_translation(const nf_conn* ct, ip_conntrack_info ctinfo, nf_nat_manip_type manip,
                                   Packet& skb, const kernel_profile& profile) {
  const ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
  // A redirect about a conn NAT changed is dropped: it would point the
  // sender at the wrong address.
  const uint8_t redirect = skb.l3num == NFPROTO_IPV4 ? 5 : 137;
  if (skb.icmp_type == redirect) {
    if ((ct->status & IPS_NAT_DONE_MASK) != IPS_NAT_DONE_MASK) return false;
    if (ct->status & IPS_NAT_MASK) return false;
  }
  if ((ct->status & nat_statusbit(manip, dir)) == 0) return true;
  if (!skb.has_inner) return true;
  // The quoted packet went the other way: it gets the reverse manip toward
  // the other direction's tuple itself (not inverted).
  const nf_conntrack_tuple& other = ct->tuplehash[!dir].tuple;
  InnerHeader& in = skb.inner;
  const bool inner_ports = has_ports(in.protonum, profile);
  if (manip == NF_NAT_MANIP_DST) {  // reverse: SRC on the inner header
    in.saddr = other.src.u3;
    if (inner_ports) in.sport = other.sport();
  } else {
    in.daddr = other.dst.u3;
    if (inner_ports) in.dport = other.dport();
  }
  if (is_icmp(in.protonum) && icmp_has_id(in.l3num, in.icmp_type)) in.sport = other.icmp_id();
  // The outer header: like the reply to an incoming packet.
  nf_conntrack_tuple target;
  nf_ct_invert_tuple(&target, other);
  if (manip == NF_NAT_MANIP_SRC)
    skb.saddr = target.src.u3;
  else
    skb.daddr = target.dst.u3;
  return true;
}

}  // namespace ctcore
