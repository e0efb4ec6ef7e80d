// Tuple extraction and inversion.
//
// Mirrors: net/netfilter/nf_conntrack_core.c nf_ct_get_tuple(),
//          nf_ct_invert_tuple(); nf_conntrack_proto_icmp.c
//          icmp_pkt_to_tuple()/icmp_invert_tuple(); nf_conntrack_proto_icmpv6.c
//          likewise; nf_conntrack_proto_gre.c gre_pkt_to_tuple().
#include "core/nf_conntrack_tuple.h"

#include "core/packet.h"

namespace ctcore {

bool icmp_invert_type(uint8_t type, uint8_t* inverse) {
  // Request and reply types pair up; nothing else has an inverse.
  switch (type) {
    case 8: *inverse = 0; return true;  // ECHO -> ECHOREPLY
    case 0: *inverse = 8; return true;
    case 13: *inverse = 14; return true;  // TIMESTAMP -> TIMESTAMPREPLY
    case 14: *inverse = 13; return true;
    case 15: *inverse = 16; return true;  // INFO_REQUEST -> INFO_REPLY
    case 16: *inverse = 15; return true;
    case 17: *inverse = 18; return true;  // ADDRESS -> ADDRESSREPLY
    case 18: *inverse = 17; return true;
    default: return false;
  }
}

bool icmpv6_invert_type(uint8_t type, uint8_t* inverse) {
  switch (type) {
    case 128: *inverse = 129; return true;  // ECHO_REQUEST -> ECHO_REPLY
    case 129: *inverse = 128; return true;
    case 139: *inverse = 140; return true;  // NI_QUERY -> NI_REPLY
    case 140: *inverse = 139; return true;
    default: return false;
  }
}

bool nf_ct_get_tuple(const Packet& skb, nf_conntrack_tuple* tuple, const kernel_profile& profile) {
  *tuple = nf_conntrack_tuple{};
  tuple->src.l3num = skb.l3num;
  tuple->src.u3 = skb.saddr;
  tuple->dst.u3 = skb.daddr;
  tuple->dst.protonum = skb.protonum;
  tuple->dst.dir = IP_CT_DIR_ORIGINAL;
  switch (nf_ct_tracker_of(skb.protonum, profile)) {
    case IPPROTO_TCP_:
    case IPPROTO_UDP_:
    case IPPROTO_UDPLITE_:
    case IPPROTO_SCTP_:
    case IPPROTO_DCCP_:
      // The first four bytes of the header: both ports. A header too short
      // even for those gives no tuple.
      if (skb.truncated) return false;
      tuple->set_sport(skb.sport);
      tuple->set_dport(skb.dport);
      return true;
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
      if (skb.truncated) return false;
      tuple->set_icmp(skb.icmp_type, skb.icmp_code, skb.icmp_id);
      return true;
    case IPPROTO_GRE_:
      // gre_pkt_to_tuple(): a PPTP (GREv1) packet's call id is the
      // destination key; the source key comes from the keymap the PPTP helper
      // registers for the call, and ctsim has no helpers, so it is 0 (as in a
      // kernel without nf_conntrack_pptp). Plain GRE (v0) keeps both keys 0:
      // its capture decodes to gre_key 0. So the two directions of a call
      // with a non-zero call id never match each other: each is a conn.
      tuple->src.u_all = 0;
      tuple->dst.u_all = raw_be16(skb.gre_key);
      return true;
    default: return true;  // generic: addresses and protocol only
  }
}

nf_conntrack_tuple ctnetlink_parse_tuple(const nf_conntrack_tuple& given, const kernel_profile& profile) {
  nf_conntrack_tuple t = given;
  if (nf_ct_tracker_of(t.dst.protonum, profile) == 0) {  // the generic tracker: no nlattr_to_tuple
    t.src.u_all = 0;
    t.dst.u_all = 0;
  }
  return t;
}

bool nf_ct_invert_tuple(nf_conntrack_tuple* inverse, const nf_conntrack_tuple& orig) {
  *inverse = nf_conntrack_tuple{};
  inverse->src.l3num = orig.src.l3num;
  inverse->src.u3 = orig.dst.u3;
  inverse->dst.u3 = orig.src.u3;
  inverse->dst.dir = orig.dst.dir == IP_CT_DIR_ORIGINAL ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
  inverse->dst.protonum = orig.dst.protonum;
  if (orig.dst.protonum == IPPROTO_ICMP_ || orig.dst.protonum == IPPROTO_ICMPV6_) {
    uint8_t type = 0;
    bool ok = orig.dst.protonum == IPPROTO_ICMP_ ? icmp_invert_type(orig.icmp_type(), &type)
                                                 : icmpv6_invert_type(orig.icmp_type(), &type);
    if (!ok) return false;
    inverse->set_icmp(type, orig.icmp_code(), orig.icmp_id());
    return true;
  }
  inverse->src.u_all = orig.dst.u_all;
  inverse->dst.u_all = orig.src.u_all;
  return true;
}

}  // namespace ctcore
