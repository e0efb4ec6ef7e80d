// Masquerade (see nf_nat_masquerade.h).
#include "core/nf_nat_masquerade.h"

namespace ctcore {

unsigned nf_nat_masquerade(Conntrack& core, nf_conn* ct, const nf_nat_range2& rule_range,
                           const nf_inet_addr* newsrc, int out_ifindex, nf_nat_decision* why) {
  const uint16_t l3num = ct->l3num();
  if (Observer* obs = core.observer(); obs != nullptr) [[unlikely]]
    obs->on_call(l3num == NFPROTO_IPV4 ? "nf_nat_masquerade_ipv4" : "nf_nat_masquerade_ipv6");
  // A locally generated packet from 0.0.0.0 is probably not meant to be
  // masqueraded (IPv4 only).
  if (l3num == NFPROTO_IPV4 && ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.u3.all[0] == 0) return NF_ACCEPT;
  if (newsrc == nullptr) return NF_DROP;
  core.nat_bysource().nf_ct_nat_ext_add(ct)->masq_index = out_ifindex;
  // Transfer from the rule's range: its flags and ports, the new address.
  nf_nat_range2 range;
  range.flags = rule_range.flags | NF_NAT_RANGE_MAP_IPS;
  range.l3num = l3num;
  range.min_addr = range.max_addr = *newsrc;
  range.min_proto = rule_range.min_proto;
  range.max_proto = rule_range.max_proto;
  range.base_proto = rule_range.base_proto;
  return nf_nat_setup_info(core, ct, range, NF_NAT_MANIP_SRC, why);
}

namespace {

struct MasqAddr {
  const NfNatBysource* bysource;
  int ifindex;
  uint16_t l3num;
  nf_inet_addr addr;
};

// inet_cmp() / inet6_cmp(): masqueraded through the interface (device_cmp)
// and mapped to the address that went away.
bool inet_cmp(const nf_conn* ct, const void* data) {
  const auto* w = static_cast<const MasqAddr*>(data);
  const nf_conn_nat* nat = w->bysource->nfct_nat(ct);
  if (nat == nullptr || nat->masq_index != w->ifindex) return false;
  const nf_conntrack_tuple& reply = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
  return reply.src.l3num == w->l3num && reply.dst.u3 == w->addr;
}

}  // namespace

uint32_t nf_nat_masquerade_addr_removed(Conntrack& core, net& n, int ifindex, uint16_t l3num,
                                        const nf_inet_addr& addr) {
  const MasqAddr w{&core.nat_bysource(), ifindex, l3num, addr};
  return core.nf_ct_iterate_cleanup_net(&n, inet_cmp, &w, DeathReason::kMasquerade);
}

}  // namespace ctcore
