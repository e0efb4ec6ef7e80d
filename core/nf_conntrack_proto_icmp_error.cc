// nf_conntrack_inet_error(): see the header.
#include "core/nf_conntrack_proto_icmp_error.h"

namespace ctcore {

int nf_conntrack_inet_error(Conntrack& core, net& n, uint16_t cpu, Packet& skb, uint8_t l4proto) {
  (void)l4proto;
  Observer* obs = core.observer();
  if (obs != nullptr) obs->on_call("nf_conntrack_inet_error");
  if (!skb.has_inner) {
    core.nf_l4proto_log_invalid("icmp error without a quoted packet");
    return -static_cast<int>(NF_ACCEPT);
  }
  // nf_ct_get_tuplepr() on the quoted header.
  Packet inner;
  inner.l3num = skb.inner.l3num;
  inner.saddr = skb.inner.saddr;
  inner.daddr = skb.inner.daddr;
  inner.protonum = skb.inner.protonum;
  inner.sport = skb.inner.sport;
  inner.dport = skb.inner.dport;
  inner.icmp_type = skb.inner.icmp_type;
  inner.icmp_code = skb.inner.icmp_code;
  inner.icmp_id = skb.inner.sport;
  inner.gre_key = skb.inner.gre_key;
  nf_conntrack_tuple origtuple, innertuple;
  if (!nf_ct_get_tuple(inner, &origtuple, core.profile())) return -static_cast<int>(NF_ACCEPT);
  // The quoted packet went the other way: look up its inverse.
  if (!nf_ct_invert_tuple(&innertuple, origtuple)) {
    core.nf_l4proto_log_invalid("quoted packet cannot be inverted");
    return -static_cast<int>(NF_ACCEPT);
  }
  nf_conntrack_tuple_hash* h = core.nf_conntrack_find_get(n, cpu, innertuple);
  if (h == nullptr) {
    core.nf_l4proto_log_invalid("icmp error for no known conn");
    return -static_cast<int>(NF_ACCEPT);
  }
  nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
  if (obs != nullptr) obs->on_ref(*ct, +1, ct->use, "nf_conntrack_find_get");
  const ip_conntrack_dir dir = static_cast<ip_conntrack_dir>(h->tuple.dst.dir);
  if (!(ct->tuplehash[dir].tuple.dst.u3 == skb.daddr)) {
    core.nf_l4proto_log_invalid("outer daddr != inner conn's daddr");
    if (obs != nullptr) obs->on_ref(*ct, -1, ct->use - 1, "nf_conntrack_inet_error");
    core.nf_ct_put(ct);
    return -static_cast<int>(NF_ACCEPT);
  }
  skb.ct = ct;
  skb.ctinfo = dir == IP_CT_DIR_REPLY ? IP_CT_RELATED_REPLY : IP_CT_RELATED;
  if (obs != nullptr) obs->on_ctinfo(ct, skb.ctinfo, "nf_conntrack_inet_error");
  return NF_ACCEPT;
}

}  // namespace ctcore
