// UDP and UDP-Lite tracking: no states, two timeouts, ASSURED once both
// directions have spoken.
//
// Mirrors: net/netfilter/nf_conntrack_proto_udp.c (v5.10.19):
//          udp_error(), udplite_error(), nf_conntrack_udp_packet(),
//          nf_conntrack_udplite_packet().
// v5.10.19 sets ASSURED on the first packet after the reply was seen (even
// inside the first two seconds); row U1 (v5.16, 5.15.3, 5.10.80:
// b7b1d02fc439 "set on IPS_ASSURED if flows enters internal stream state")
// requires the two-second stream condition first (profile().udp_stream_assured). The two-second stream
// rule (stream_ts) is UDP's only: UDP-Lite kept the older logic and moves to
// the stream timeout on the first packet after the reply. udplite_error()
// checks the checksum with UDP's pseudo-header protocol (see there).
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

// udp_error(): short or malformed header, or a bad non-zero checksum seen at
// PRE_ROUTING while nf_conntrack_checksum is on.
bool udp_error(Conntrack& core, const net& n, const Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("truncated/malformed packet");
    return true;
  }
  if (skb.bad_checksum && hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0) {
    core.nf_l4proto_log_invalid("bad checksum");
    return true;
  }
  return false;
}

// udplite_error(): short or malformed header (bad checksum coverage collapses
// into `truncated` in the notation; a missing checksum, invalid for UDP-Lite,
// cannot be expressed), or a checksum that does not verify at PRE_ROUTING
// while nf_conntrack_checksum is on. The kernel verifies it with IPPROTO_UDP
// in the pseudo-header (nf_checksum_partial(..., IPPROTO_UDP, ...), the same
// from v5.10 to 6.18), so an RFC 3828 checksum (computed with 136, what
// senders write) fails it too: only a `csum17` packet passes.
bool udplite_error(Conntrack& core, const net& n, const Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("truncated/malformed packet");
    return true;
  }
  if ((skb.bad_checksum || !skb.udplite_csum17) && hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0) {
    core.nf_l4proto_log_invalid("bad checksum");
    return true;
  }
  return false;
}

// nf_conntrack_udp_packet() after udp_error().
int udp_packet(Conntrack& core, nf_conn* ct) {
  const net& n = core.nf_ct_net(ct);
  const uint32_t unreplied = n.sysctl.udp.timeout_unreplied;
  const uint32_t replied = n.sysctl.udp.timeout_replied;
  const uint32_t now = static_cast<uint32_t>(core.clock().jiffies());
  if (!nf_ct_is_confirmed(ct)) ct->proto.udp.stream_ts = now + 2 * core.hz();

  if (ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    uint32_t extra = unreplied;
    // Still active after two seconds? Then it is a stream (time_after()).
    const bool stream = static_cast<int32_t>(ct->proto.udp.stream_ts - now) < 0;
    if (stream) extra = replied;
    core.nf_ct_refresh(ct, extra);
    // A reply-only clash entry must time out soon: never ASSURED.
    if (ct->test_bit(IPS_NAT_CLASH_BIT)) return NF_ACCEPT;
    // U1: a reply inside the first two seconds is not yet a stream.
    if (!stream && core.profile().udp_stream_assured) return NF_ACCEPT;
    if (!ct->test_and_set_bit(IPS_ASSURED_BIT)) core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  } else {
    core.nf_ct_refresh(ct, unreplied);
  }
  return NF_ACCEPT;
}

// nf_conntrack_udplite_packet() after udplite_error(): no stream_ts, the
// stream timeout applies as soon as the reply was seen.
int udplite_packet(Conntrack& core, nf_conn* ct) {
  const net& n = core.nf_ct_net(ct);
  if (ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    core.nf_ct_refresh(ct, n.sysctl.udp.timeout_replied);
    if (ct->test_bit(IPS_NAT_CLASH_BIT)) return NF_ACCEPT;
    if (!ct->test_and_set_bit(IPS_ASSURED_BIT)) core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  } else {
    core.nf_ct_refresh(ct, n.sysctl.udp.timeout_unreplied);
  }
  return NF_ACCEPT;
}

}  // namespace

int nf_conntrack_udp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info, nf_inet_hooks hooknum) {
  if (udp_error(core, core.nf_ct_net(ct), skb, hooknum)) return -static_cast<int>(NF_ACCEPT);
  return udp_packet(core, ct);
}

int nf_conntrack_udplite_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info, nf_inet_hooks hooknum) {
  if (udplite_error(core, core.nf_ct_net(ct), skb, hooknum)) return -static_cast<int>(NF_ACCEPT);
  return udplite_packet(core, ct);
}

}  // namespace ctcore
