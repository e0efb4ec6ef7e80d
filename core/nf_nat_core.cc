// NAT bindings and packet rewriting (see nf_nat_core.h).
//
// Mirrors: net/netfilter/nf_nat_core.c (v5.10).
#include "core/nf_nat_core.h"

namespace ctcore {

namespace {

// nf_nat_used_tuple(): would a conn whose ORIGINAL tuple is `tuple` clash
// with a conn in the table? Its reply is what the table would hold.
bool nf_nat_used_tuple(Conntrack& core, const nf_conntrack_tuple& tuple, const nf_conn* ignored) {
  nf_conntrack_tuple reply;
  nf_ct_invert_tuple(&reply, tuple);
  return core.nf_conntrack_tuple_taken(reply, ignored);
}

bool has_ports(uint8_t p) {
  return p == IPPROTO_TCP_ || p == IPPROTO_UDP_ || p == IPPROTO_UDPLITE_ || p == IPPROTO_SCTP_ || p == IPPROTO_DCCP_;
}

// get_unique_tuple(): the tuple after the manipulation, as close to the
// range as the table allows.
void get_unique_tuple(Conntrack& core, nf_conntrack_tuple* out, const nf_conntrack_tuple& orig,
                      const nf_nat_range& range, const nf_conn* ct, nf_nat_manip_type manip) {
  *out = orig;
  // The address: the range's (ctsim's ranges hold one address).
  if (manip == NF_NAT_MANIP_SRC)
    out->src.u3 = range.addr;
  else
    out->dst.u3 = range.addr;
  const uint8_t proto = orig.dst.protonum;
  if (!range.has_port || !has_ports(proto)) {
    // Only the address changes; the kernel still checks the result, and a
    // used tuple without a port range to search stays as it is (the clash
    // then shows at confirm).
    return;
  }
  auto set_port = [&](uint16_t p) {
    if (manip == NF_NAT_MANIP_SRC)
      out->set_sport(p);
    else
      out->set_dport(p);
  };
  const uint16_t cur = manip == NF_NAT_MANIP_SRC ? orig.sport() : orig.dport();
  // Keep the current port if the range allows it and either the range is
  // a single port (not checked at all, as in the kernel) or the tuple is
  // free.
  if (cur >= range.port_lo && cur <= range.port_hi) {
    set_port(cur);
    if (range.port_lo == range.port_hi || !nf_nat_used_tuple(core, *out, ct)) return;
  } else if (range.port_lo == range.port_hi) {
    set_port(range.port_lo);
    return;
  }
  // nf_nat_l4proto_unique_tuple(): the first free port of the range. The
  // kernel starts SNAT searches at a random offset; ctsim, having no
  // randomness in the core, starts at the low end (core/README.md).
  for (uint32_t p = range.port_lo; p <= range.port_hi; ++p) {
    set_port(static_cast<uint16_t>(p));
    if (!nf_nat_used_tuple(core, *out, ct)) return;
  }
  // Everything used: the kernel gives up the search and keeps its last
  // candidate; so does ctsim.
}

}  // namespace

unsigned nf_nat_setup_info(Conntrack& core, nf_conn* ct, const nf_nat_range* range, nf_nat_manip_type manip) {
  if (nf_ct_is_confirmed(ct)) return NF_ACCEPT;
  CT_ASSERT(!nf_nat_initialized(ct, manip), "NAT binding decided twice");
  // What the packet looks like now: the inverse of the reply tuple (which
  // holds any earlier manipulation).
  nf_conntrack_tuple curr;
  nf_ct_invert_tuple(&curr, ct->tuplehash[IP_CT_DIR_REPLY].tuple);
  curr.dst.dir = IP_CT_DIR_ORIGINAL;
  if (range != nullptr) {
    nf_conntrack_tuple next;
    get_unique_tuple(core, &next, curr, *range, ct, manip);
    if (!nf_ct_tuple_equal(next, curr)) {
      nf_conntrack_tuple reply;
      nf_ct_invert_tuple(&reply, next);
      core.nf_conntrack_alter_reply(ct, reply);
      ct->set_bit(manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT_BIT : IPS_DST_NAT_BIT);
    }
  }
  ct->set_bit(manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT_DONE_BIT : IPS_DST_NAT_DONE_BIT);
  return NF_ACCEPT;
}

void nf_nat_packet(const nf_conn* ct, ip_conntrack_dir dir, nf_nat_manip_type manip, Packet& skb) {
  // A reply undoes the original direction's manipulation of the other kind.
  uint32_t statusbit = manip == NF_NAT_MANIP_SRC ? IPS_SRC_NAT : IPS_DST_NAT;
  if (dir == IP_CT_DIR_REPLY) statusbit ^= IPS_NAT_MASK;
  if ((ct->status & statusbit) == 0) return;
  // nf_nat_manip_pkt(): the packet should look like the inverse of the
  // other direction's tuple.
  nf_conntrack_tuple target;
  nf_ct_invert_tuple(&target, ct->tuplehash[!dir].tuple);
  const bool ports = has_ports(skb.protonum);
  if (manip == NF_NAT_MANIP_SRC) {
    skb.saddr = target.src.u3;
    if (ports) skb.sport = target.sport();
  } else {
    skb.daddr = target.dst.u3;
    if (ports) skb.dport = target.dport();
  }
}

}  // namespace ctcore
