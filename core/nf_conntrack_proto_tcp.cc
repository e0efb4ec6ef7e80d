// TCP connection tracking.
//
// Mirrors: net/netfilter/nf_conntrack_proto_tcp.c (v5.10.13).
//
// How the state table works. A conn has one state for both directions. Each
// packet is put in one of six classes by its flags (RST beats SYN+ACK beats
// SYN beats FIN beats ACK; "none" for anything else), and the table gives
// the next state from (direction, class, current state). Two results are
// not states: "invalid" (sIV) rejects the packet (it passes untracked and is
// counted `invalid`), "ignore" (sIG) lets it through without changing the
// state or refreshing the timeout, remembering it in case the other side
// answers it (a SYN-ACK answering an ignored SYN resynchronises the conn).
// A SYN in ORIGINAL direction on a conn in TIME_WAIT or CLOSE reopens it:
// the old conn is killed and the packet is looked up again (-NF_REPEAT).
// SYN_SENT2 is the simultaneous open (both sides sent a SYN).
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

// Packet classes (the kernel's tcp_bit_set index).
enum TcpClass : uint8_t { kSyn = 0, kSynAck = 1, kFin = 2, kAck = 3, kRst = 4, kNone = 5 };

constexpr uint8_t sNO = TCP_CONNTRACK_NONE;
constexpr uint8_t sSS = TCP_CONNTRACK_SYN_SENT;
constexpr uint8_t sSR = TCP_CONNTRACK_SYN_RECV;
constexpr uint8_t sES = TCP_CONNTRACK_ESTABLISHED;
constexpr uint8_t sFW = TCP_CONNTRACK_FIN_WAIT;
constexpr uint8_t sCW = TCP_CONNTRACK_CLOSE_WAIT;
constexpr uint8_t sLA = TCP_CONNTRACK_LAST_ACK;
constexpr uint8_t sTW = TCP_CONNTRACK_TIME_WAIT;
constexpr uint8_t sCL = TCP_CONNTRACK_CLOSE;
constexpr uint8_t sS2 = TCP_CONNTRACK_SYN_SENT2;
constexpr uint8_t sIV = TCP_CONNTRACK_MAX;
constexpr uint8_t sIG = TCP_CONNTRACK_IGNORE;

// kNext[dir][class][old state]; old states in enum order
//                     sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2
constexpr uint8_t kNext[2][6][10] = {
    {
        /* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
        /* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
        /* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
        /* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
        /* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
        /* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
        /* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
        /* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

// get_conntrack_index().
TcpClass tcp_class(uint8_t flags) {
  if (flags & TCPHDR_RST) return kRst;
  if (flags & TCPHDR_SYN) return (flags & TCPHDR_ACK) ? kSynAck : kSyn;
  if (flags & TCPHDR_FIN) return kFin;
  if (flags & TCPHDR_ACK) return kAck;
  return kNone;
}

// tcp_valid_flags[]: the combinations a real stack sends (ECE, CWR and PSH
// masked off).
bool tcp_flags_valid(uint8_t flags) {
  const uint8_t f = flags & ~(TCPHDR_ECE | TCPHDR_CWR | TCPHDR_PSH);
  switch (f) {
    case TCPHDR_SYN:
    case TCPHDR_SYN | TCPHDR_URG:
    case TCPHDR_SYN | TCPHDR_ACK:
    case TCPHDR_RST:
    case TCPHDR_RST | TCPHDR_ACK:
    case TCPHDR_FIN | TCPHDR_ACK:
    case TCPHDR_FIN | TCPHDR_ACK | TCPHDR_URG:
    case TCPHDR_ACK:
    case TCPHDR_ACK | TCPHDR_URG:
      return true;
    default:
      return false;
  }
}

// tcp_error().
bool tcp_error(Conntrack& core, const net& n, const Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("truncated packet");
    return true;
  }
  if (skb.bad_checksum && hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0) {
    core.nf_l4proto_log_invalid("bad checksum");
    return true;
  }
  if (!tcp_flags_valid(skb.tcp_flags)) {
    core.nf_l4proto_log_invalid("invalid tcp flag combination");
    return true;
  }
  return false;
}

uint32_t segment_end(const Packet& skb) {
  return skb.seq + skb.len + ((skb.tcp_flags & TCPHDR_SYN) ? 1 : 0) +
         ((skb.tcp_flags & TCPHDR_FIN) ? 1 : 0);
}

// tcp_new(): only a SYN (or, with nf_conntrack_tcp_loose, an ACK picked up
// mid-stream) may create a conn.
bool tcp_new(Conntrack& core, nf_conn* ct, const Packet& skb) {
  const net& n = core.nf_ct_net(ct);
  const uint8_t new_state = kNext[0][tcp_class(skb.tcp_flags)][sNO];
  if (new_state >= TCP_CONNTRACK_MAX) {
    core.nf_l4proto_log_invalid("invalid new: packet cannot open a tcp conn");
    return false;
  }
  ip_ct_tcp& t = ct->proto.tcp;
  t = ip_ct_tcp{};
  if (new_state == sSS) {
    t.seen[0].td_end = segment_end(skb);
    t.seen[0].td_maxwin = skb.window == 0 ? 1 : skb.window;
    t.seen[0].td_maxend = t.seen[0].td_end;
    if (skb.wscale >= 0) {
      t.flags[0] |= IP_CT_TCP_FLAG_WINDOW_SCALE;
      t.td_scale[0] = static_cast<uint8_t>(skb.wscale > 14 ? 14 : skb.wscale);
    }
    if (skb.sackok) t.flags[0] |= IP_CT_TCP_FLAG_SACK_PERM;
  } else if (n.sysctl.tcp.loose == 0) {
    core.nf_l4proto_log_invalid("invalid new: mid-stream pickup disabled (tcp_loose=0)");
    return false;
  } else {
    // Picked up mid-stream: trust both directions' windows.
    t.seen[0].td_end = segment_end(skb);
    t.seen[0].td_maxwin = skb.window == 0 ? 1 : skb.window;
    t.seen[0].td_maxend = t.seen[0].td_end + t.seen[0].td_maxwin;
    t.flags[0] = IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL;
    t.flags[1] = IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL;
  }
  t.last_index = kNone;
  return true;
}

}  // namespace

const char* tcp_conntrack_name(uint8_t state) {
  static const char* const kNames[] = {"NONE",       "SYN_SENT", "SYN_RECV",  "ESTABLISHED",
                                       "FIN_WAIT",   "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                                       "CLOSE",      "SYN_SENT2"};
  return state < TCP_CONNTRACK_MAX ? kNames[state] : "INVALID";
}

const char* tcp_state_name(const nf_conn& ct) { return tcp_conntrack_name(ct.proto.tcp.state); }

// tcp_can_early_drop(): closing conns may go under pressure even if ASSURED.
bool tcp_can_early_drop(const nf_conn* ct) {
  switch (ct->proto.tcp.state) {
    case TCP_CONNTRACK_FIN_WAIT:
    case TCP_CONNTRACK_LAST_ACK:
    case TCP_CONNTRACK_TIME_WAIT:
    case TCP_CONNTRACK_CLOSE:
    case TCP_CONNTRACK_CLOSE_WAIT:
      return true;
    default:
      return false;
  }
}

int nf_conntrack_tcp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                            nf_inet_hooks hooknum) {
  const net& n = core.nf_ct_net(ct);
  if (tcp_error(core, n, skb, hooknum)) return -static_cast<int>(NF_ACCEPT);
  if (!nf_ct_is_confirmed(ct) && !tcp_new(core, ct, skb)) return -static_cast<int>(NF_ACCEPT);

  ip_ct_tcp& t = ct->proto.tcp;
  const ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
  const TcpClass index = tcp_class(skb.tcp_flags);
  const uint8_t old_state = t.state;
  uint8_t new_state = kNext[dir][index][old_state];

  switch (new_state) {
    case sSS:
      if (old_state < sTW) break;
      // Reopen from TIME_WAIT/CLOSE: a fresh conn for the new SYN when the
      // old one was closed by us (CLOSE_INIT) or reset in this direction.
      if ((t.flags[dir] & IP_CT_TCP_FLAG_CLOSE_INIT) ||
          (t.last_dir == dir && t.last_index == kRst)) {
        if (core.nf_ct_kill(ct, DeathReason::kTracker)) return -static_cast<int>(NF_REPEAT);
        return NF_DROP;
      }
      [[fallthrough]];
    case sIG:
      // Ignored: remember it, change nothing, do not refresh.
      t.last_index = index;
      t.last_dir = dir;
      t.last_seq = skb.seq;
      t.last_ack = skb.ack_seq;
      t.last_end = segment_end(skb);
      t.last_win = skb.window;
      return NF_ACCEPT;
    case sIV:
      core.nf_l4proto_log_invalid("invalid state transition");
      return -static_cast<int>(NF_ACCEPT);
    case sS2:
      t.flags[dir] |= IP_CT_TCP_SIMULTANEOUS_OPEN;
      break;
    case sSR:
      if (dir == IP_CT_DIR_REPLY && index == kAck &&
          (t.flags[IP_CT_DIR_ORIGINAL] & IP_CT_TCP_SIMULTANEOUS_OPEN)) {
        new_state = sES;
      }
      break;
    default:
      break;
  }

  t.last_index = index;
  t.last_dir = dir;
  t.state = new_state;
  if (old_state != new_state && new_state == sFW) t.flags[dir] |= IP_CT_TCP_FLAG_CLOSE_INIT;

  const uint32_t* timeouts = n.sysctl.tcp.timeouts;
  uint32_t timeout;
  if (t.retrans >= n.sysctl.tcp.max_retrans && timeouts[new_state] > timeouts[TCP_CONNTRACK_RETRANS])
    timeout = timeouts[TCP_CONNTRACK_RETRANS];
  else if (index == kRst)
    timeout = timeouts[TCP_CONNTRACK_CLOSE];
  else if (((t.flags[0] | t.flags[1]) & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED) &&
           timeouts[new_state] > timeouts[TCP_CONNTRACK_UNACK])
    timeout = timeouts[TCP_CONNTRACK_UNACK];
  else
    timeout = timeouts[new_state];

  if (new_state != old_state) core.nf_conntrack_event_cache(IPCT_PROTOINFO, ct);

  if (!ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    // No reply yet: an RST ends it at once; a mid-stream pickup does not
    // get the long established timeout until both sides were seen.
    if (index == kRst) {
      core.nf_ct_kill(ct, DeathReason::kTracker);
      return NF_ACCEPT;
    }
    if (new_state == sES && timeout > timeouts[TCP_CONNTRACK_UNACK])
      timeout = timeouts[TCP_CONNTRACK_UNACK];
  } else if (!ct->test_bit(IPS_ASSURED_BIT) && (old_state == sSR || old_state == sES) &&
             new_state == sES) {
    // The third packet of the handshake: worth keeping.
    ct->set_bit(IPS_ASSURED_BIT);
    core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  }
  core.nf_ct_refresh(ct, timeout);
  return NF_ACCEPT;
}

}  // namespace ctcore
