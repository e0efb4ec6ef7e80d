// TCP connection tracking with Rooij window tracking.
//
// Mirrors: net/netfilter/nf_conntrack_proto_tcp.c (v5.10.13).
// Simplified: Packet instead of sk_buff: the payload length, window and the
//          two options the tracker reads (window scale, SACK-permitted) come
//          parsed; SACK blocks are never present, so the highest SACKed
//          sequence is always the ACK number. No NAT sequence adjustment
//          (nf_ct_seq_offset is 0), no SYN proxy, no timeout policies
//          (cttimeout): the namespace's sysctl timeouts are always used.
//          core/TCP_NOTES.md lists every difference.
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
//
// How the window tracking works. Being in the middle, the tracker cannot
// know either end's real window; it keeps, per direction, the highest
// sequence sent (td_end), the highest sequence the other side allowed it to
// send (td_maxend), the largest window it advertised (td_maxwin) and the
// highest ACK it sent (td_maxack). A segment is acceptable when it overlaps
// what the receiver could accept and its ACK lies between what the receiver
// has actually sent and a bounded distance behind it. A segment that fails
// is invalid, and neither moves the state nor refreshes the timeout, unless
// the sender is marked BE_LIBERAL or nf_conntrack_tcp_be_liberal is set.
#include <algorithm>

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
    case TCPHDR_ACK | TCPHDR_URG: return true;
    default: return false;
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

// Largest window scale shift RFC 7323 allows (TCP_MAX_WSCALE).
constexpr uint8_t kTcpMaxWscale = 14;

// The lower ACK bound never gets closer to td_end than this, so a conn whose
// windows were all small still accepts an ACK up to ~64 KiB stale
// (MAXACKWINCONST).
constexpr uint32_t kMaxAckWinConst = 66000;

// Wrap-safe sequence comparisons (include/net/tcp.h before()/after()).
inline bool before(uint32_t seq1, uint32_t seq2) { return static_cast<int32_t>(seq1 - seq2) < 0; }
inline bool after(uint32_t seq2, uint32_t seq1) { return before(seq1, seq2); }

// segment_seq_plus_len(): the sequence just past this segment; SYN and FIN
// each occupy one sequence number.
uint32_t segment_seq_plus_len(const Packet& skb) {
  return skb.seq + skb.len + ((skb.tcp_flags & TCPHDR_SYN) ? 1 : 0) + ((skb.tcp_flags & TCPHDR_FIN) ? 1 : 0);
}

// MAXACKWINDOW(sender).
uint32_t max_ack_window(const ip_ct_tcp_state& sender) {
  return sender.td_maxwin > kMaxAckWinConst ? sender.td_maxwin : kMaxAckWinConst;
}

// Mirrors: nf_conntrack_proto_tcp.c tcp_options().
// Records the window scale and SACK-permitted options into one direction's
// scale and flags. A header with no options at all leaves both untouched;
// any option block resets them first (so a re-sent SYN with options but
// without window scale loses an earlier WINDOW_SCALE).
// Simplified: "has options" is derived from the parsed fields (wscale, SACK
// permitted or MSS present); timestamps and NOPs are not modelled.
// Row T4 (5.18, f2dd495a8d58 "preserve liberal flag in tcp options"):
// with `keep_liberal` the reset spares IP_CT_TCP_FLAG_BE_LIBERAL, which a
// mid-stream pickup set and a later SYN-ACK's options used to wipe.
void tcp_options(const Packet& skb, uint8_t* td_scale, uint8_t* flags, bool keep_liberal) {
  const bool has_options = skb.wscale >= 0 || skb.sackok || skb.mss != 0;
  if (!has_options) return;
  *td_scale = 0;
  *flags = keep_liberal ? (*flags & IP_CT_TCP_FLAG_BE_LIBERAL) : 0;
  if (skb.sackok) *flags |= IP_CT_TCP_FLAG_SACK_PERM;
  if (skb.wscale >= 0) {
    *td_scale = skb.wscale > kTcpMaxWscale ? kTcpMaxWscale : static_cast<uint8_t>(skb.wscale);
    *flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
  }
}

// tcp_in_window()'s verdict: enum nf_ct_tcp_action of 6.1 (v5.10's bool is
// kAccept / kInvalid; kIgnore is row T5's third outcome).
enum class TcpWindow : uint8_t {
  kIgnore,   // NF_ACCEPT with the conn attached: no state change, no refresh, not counted invalid
  kInvalid,  // -NF_ACCEPT: untracked, counted invalid
  kAccept,   // in window: the state machine goes on
};

// A segment outside the window that tcp_in_window() accepts all the same:
// the sysctl or the sender's BE_LIBERAL flag. Named for the narrative (the
// trace shows no record for a packet that changed nothing).
TcpWindow tcp_liberal_accept(Conntrack& core, const net& n) {
  core.nf_l4proto_note(n.sysctl.tcp.be_liberal != 0
                           ? "tcp_in_window(): the segment is outside the window, accepted because "
                             "nf_conntrack_tcp_be_liberal=1"
                           : "tcp_in_window(): the segment is outside the window, accepted because the sender is "
                             "marked IP_CT_TCP_FLAG_BE_LIBERAL");
  return TcpWindow::kAccept;
}

// Mirrors: nf_conntrack_proto_tcp.c tcp_init_sender() (5.17+; v5.10 has the
// same lines inline for the first SYN seen from a side).
// A SYN-ACK answering the SYN, the reply side's SYN in a simultaneous open,
// or (row T3) a re-sent SYN with a higher sequence: this side's window data
// start over from this packet. RFC 7323: scaling is on only if both SYNs
// offered it. Until row T9 (6.8, fb366fc7541a "correct window scaling with
// retransmitted SYN") that check also ran for the ORIGINAL side, whose peer
// has sent no options yet, so a re-sent SYN under T3's 5.18 rule lost its
// scale.
void tcp_init_sender(const kernel_profile& p, ip_ct_tcp& t, ip_conntrack_dir dir, const Packet& skb, uint32_t end,
                     uint32_t win) {
  const int sdir = dir, rdir = !dir;
  ip_ct_tcp_state& sender = t.seen[sdir];
  sender.td_end = sender.td_maxend = end;
  sender.td_maxwin = win == 0 ? 1 : win;
  tcp_options(skb, &t.td_scale[sdir], &t.flags[sdir], p.tcp_keep_liberal);
  if ((!p.tcp_syn_retrans_wscale || dir == IP_CT_DIR_REPLY) &&
      !((t.flags[sdir] & IP_CT_TCP_FLAG_WINDOW_SCALE) && (t.flags[rdir] & IP_CT_TCP_FLAG_WINDOW_SCALE))) {
    t.td_scale[sdir] = t.td_scale[rdir] = 0;
  }
}

// Mirrors: nf_conntrack_proto_tcp.c tcp_in_window().
// kAccept iff the segment fits the windows seen so far (then both
// directions' window data are advanced) or the sender may be trusted
// anyway (BE_LIBERAL flag or the be_liberal sysctl; then nothing is
// advanced). A failure is kInvalid on v5.10; row T5 (profile().tcp_window)
// makes a too-old segment or ACK, and data overshooting the window, kIgnore
// (6.1). Reads t.state, which is still the state before this packet.
// Simplified: no SACK blocks (sack == ack), no NAT sequence offset.
TcpWindow tcp_in_window(Conntrack& core, const nf_conn* ct, ip_ct_tcp& t, ip_conntrack_dir dir, TcpClass index,
                        const Packet& skb) {
  const net& n = core.nf_ct_net(ct);
  const kernel_profile& p = core.profile();
  const int sdir = dir, rdir = !dir;
  ip_ct_tcp_state& sender = t.seen[sdir];
  ip_ct_tcp_state& receiver = t.seen[rdir];
  const bool syn = skb.tcp_flags & TCPHDR_SYN;
  const bool has_ack = skb.tcp_flags & TCPHDR_ACK;
  const bool rst = skb.tcp_flags & TCPHDR_RST;

  uint32_t seq = skb.seq;
  uint32_t ack = skb.ack_seq;
  uint32_t sack = ack;
  const uint16_t win_raw = skb.window;
  uint32_t win = win_raw;
  uint32_t end = segment_seq_plus_len(skb);

  if (sender.td_maxwin == 0) {
    // First packet seen from this side.
    if (syn) {
      // A SYN-ACK answering the SYN, or the reply side's SYN in a
      // simultaneous open: this side's initial sequence is now known.
      tcp_init_sender(p, t, dir, skb, end, win);
      // A bare SYN acknowledges nothing: nothing further to check.
      if (!has_ack) return TcpWindow::kAccept;
    } else {
      // Picked up mid-stream: believe this packet's view of the window.
      sender.td_end = end;
      const uint32_t swin = win << t.td_scale[sdir];
      sender.td_maxwin = swin == 0 ? 1 : swin;
      sender.td_maxend = end + sender.td_maxwin;
      if (receiver.td_maxwin == 0) {
        // Nothing seen from the other side either: make its end match
        // this ACK so that the ACK bounds below hold until it speaks.
        receiver.td_end = receiver.td_maxend = sack;
      } else if (sack == receiver.td_end + 1) {
        // Most likely the answer to a keep-alive probe (which re-sends the
        // byte before td_end): count that byte as sent.
        ++receiver.td_end;
      }
    }
  } else if (p.tcp_reinit == ct_tcp_reinit::kV518) {
    // Row T3, 5.18 (c7aab4f17021 "re-init for syn packets only"): only a
    // SYN-bearing packet with a higher end restarts its side, in either
    // direction, while the handshake is open.
    if (syn && after(end, sender.td_end) && (t.state == TCP_CONNTRACK_SYN_SENT || t.state == TCP_CONNTRACK_SYN_RECV)) {
      tcp_init_sender(p, t, dir, skb, end, win);
      if (dir == IP_CT_DIR_REPLY && !has_ack) return TcpWindow::kAccept;
    }
  } else if (((t.state == TCP_CONNTRACK_SYN_SENT && dir == IP_CT_DIR_ORIGINAL) ||
              (t.state == TCP_CONNTRACK_SYN_RECV && dir == IP_CT_DIR_REPLY)) &&
             after(end, sender.td_end)) {
    // The opener re-sent its SYN (or the answerer its SYN-ACK) with a
    // higher sequence: the end restarted (RFC 793 allows it), so start
    // this side's window data over from this packet.
    sender.td_end = sender.td_maxend = end;
    sender.td_maxwin = win == 0 ? 1 : win;
    tcp_options(skb, &t.td_scale[sdir], &t.flags[sdir], p.tcp_keep_liberal);
  } else if (p.tcp_reinit == ct_tcp_reinit::kV517 && syn && dir == IP_CT_DIR_REPLY &&
             t.state == TCP_CONNTRACK_SYN_SENT) {
    // Row T3, 5.17 ("re-init state for retransmitted syn-ack"): a re-sent
    // SYN-ACK (or the simultaneous-open SYN) while still in SYN_SENT, e.g.
    // after the first SYN-ACK failed the window check, restarts the reply
    // side whatever its sequence.
    tcp_init_sender(p, t, dir, skb, end, win);
    if (!has_ack) return TcpWindow::kAccept;
  }

  if (!has_ack) {
    // No ACK field to check: treat it as acknowledging exactly what the
    // receiver sent.
    ack = sack = receiver.td_end;
  } else if ((skb.tcp_flags & (TCPHDR_ACK | TCPHDR_RST)) == (TCPHDR_ACK | TCPHDR_RST) && ack == 0) {
    // Some stacks send RST+ACK with a zero ACK number: same treatment.
    ack = sack = receiver.td_end;
  }

  if (rst && seq == 0 && t.state == TCP_CONNTRACK_SYN_SENT) {
    // An RST answering the SYN may carry sequence 0.
    seq = end = sender.td_end;
  }

  // The four conditions (I-IV), all modulo 2^32:
  //   I   seq <= sender.td_maxend            (not beyond what the receiver allowed)
  //   II  end >= sender.td_end - receiver.td_maxwin (not entirely before the window;
  //       always true while the receiver's window is unknown)
  //   III sack <= receiver.td_end            (does not ack data never sent)
  //   IV  sack >= receiver.td_end - MAXACKWINDOW(sender) (not hopelessly stale)
  const bool cond_seq_upper = before(seq, sender.td_maxend + 1);
  const bool in_recv_win = receiver.td_maxwin == 0 || after(end, sender.td_end - receiver.td_maxwin - 1);
  const bool cond_ack_upper = before(sack, receiver.td_end + 1);
  const bool cond_ack_lower = after(sack, receiver.td_end - max_ack_window(sender) - 1);

  if (cond_seq_upper && in_recv_win && cond_ack_upper && cond_ack_lower) {
    // The window field of a SYN is never scaled (RFC 7323).
    if (!syn) win <<= t.td_scale[sdir];

    const uint32_t swin = win + (sack - ack);
    if (sender.td_maxwin < swin) sender.td_maxwin = swin;
    if (after(end, sender.td_end)) {
      sender.td_end = end;
      t.flags[sdir] |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
    }
    if (has_ack) {
      if (!(t.flags[sdir] & IP_CT_TCP_FLAG_MAXACK_SET)) {
        sender.td_maxack = ack;
        t.flags[sdir] |= IP_CT_TCP_FLAG_MAXACK_SET;
      } else if (after(ack, sender.td_maxack)) {
        sender.td_maxack = ack;
      }
    }

    // Data past what the receiver allowed means its window was bigger
    // than it told us.
    if (receiver.td_maxwin != 0 && after(end, sender.td_maxend)) receiver.td_maxwin += end - sender.td_maxend;
    if (after(sack + win, receiver.td_maxend - 1)) {
      receiver.td_maxend = sack + win;
      // A zero window still lets one byte through (window probes).
      if (win == 0) ++receiver.td_maxend;
    }
    if (ack == receiver.td_end) t.flags[rdir] &= ~IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;

    // The same ACK-class segment again from the same side, with nothing
    // changed: a retransmission. Enough of them shorten the timeout.
    if (index == kAck) {
      if (t.last_dir == dir && t.last_seq == seq && t.last_ack == ack && t.last_end == end && t.last_win == win_raw) {
        ++t.retrans;
      } else {
        t.last_dir = dir;
        t.last_seq = seq;
        t.last_ack = ack;
        t.last_end = end;
        t.last_win = win_raw;
        t.retrans = 0;
      }
    }
    return TcpWindow::kAccept;
  }

  const bool liberal = (t.flags[sdir] & IP_CT_TCP_FLAG_BE_LIBERAL) || n.sysctl.tcp.be_liberal != 0;
  // Row T5, 6.0: data overshooting the receive window by at most the
  // receiver's largest window, with a good ACK, still moves td_end, so that
  // the ACK for it is not "over the upper bound" later.
  const uint32_t overshot = end - sender.td_maxend + 1;
  const bool overshoot = !cond_seq_upper && receiver.td_maxwin != 0 && in_recv_win && cond_ack_lower &&
                         cond_ack_upper && overshot <= receiver.td_maxwin;

  if (p.tcp_window == ct_tcp_window::kIgnore) {
    // 6.1 ("ignore overly delayed tcp packets"): the checks in this order,
    // each failure being INVALID or IGNORE; a liberal sender turns either
    // into ACCEPT (nf_tcp_log_invalid()), with nothing advanced.
    TcpWindow verdict;
    const char* why;
    if (!cond_seq_upper) {
      if (overshoot) {
        sender.td_end = end;
        t.flags[sdir] |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
        verdict = TcpWindow::kIgnore;
        why = "tcp data beyond the receiver's window (overshoot ignored)";
      } else {
        verdict = TcpWindow::kInvalid;
        why = "tcp seq beyond the receiver's window";
      }
    } else if (!cond_ack_upper) {
      verdict = TcpWindow::kInvalid;
      why = "tcp ack beyond data sent (not seen yet)";
    } else if (!in_recv_win) {
      verdict = TcpWindow::kIgnore;
      why = "tcp seq below the window (already acked data ignored)";
    } else {
      verdict = TcpWindow::kIgnore;
      why = "tcp ack below the lower bound (delayed too long, ignored)";
    }
    if (liberal) return tcp_liberal_accept(core, n);
    core.nf_l4proto_log_invalid(why);
    return verdict;
  }

  if (liberal) return tcp_liberal_accept(core, n);
  if (overshoot && p.tcp_window == ct_tcp_window::kOvershootAccept) {
    // 6.0 ("work around exceeded receive window"): still INVALID, but the
    // data counts as sent.
    sender.td_end = end;
    t.flags[sdir] |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
    core.nf_l4proto_log_invalid("tcp data beyond the receiver's window (counted as sent)");
    return TcpWindow::kInvalid;
  }
  if (!cond_seq_upper)
    core.nf_l4proto_log_invalid("tcp seq beyond the receiver's window");
  else if (!in_recv_win)
    core.nf_l4proto_log_invalid("tcp seq below the window (data already acked)");
  else if (!cond_ack_upper)
    core.nf_l4proto_log_invalid("tcp ack beyond data sent (not seen yet)");
  else
    core.nf_l4proto_log_invalid("tcp ack below the lower bound (delayed too long)");
  return TcpWindow::kInvalid;
}

// Mirrors: nf_conntrack_proto_tcp.c tcp_new().
// Only a SYN (or, with nf_conntrack_tcp_loose, an ACK picked up
// mid-stream) may create a conn. Runs while the conn is unconfirmed, i.e.
// for its first packet only.
bool tcp_new(Conntrack& core, nf_conn* ct, const Packet& skb) {
  const net& n = core.nf_ct_net(ct);
  const uint8_t new_state = kNext[0][tcp_class(skb.tcp_flags)][sNO];
  if (new_state >= TCP_CONNTRACK_MAX) {
    core.nf_l4proto_log_invalid("invalid new: packet cannot open a tcp conn");
    return false;
  }
  ip_ct_tcp& t = ct->proto.tcp;
  ip_ct_tcp_state& s0 = t.seen[IP_CT_DIR_ORIGINAL];
  if (new_state == sSS) {
    t = ip_ct_tcp{};
    s0.td_end = segment_seq_plus_len(skb);
    s0.td_maxwin = skb.window == 0 ? 1 : skb.window;
    s0.td_maxend = s0.td_end;
    tcp_options(skb, &t.td_scale[IP_CT_DIR_ORIGINAL], &t.flags[IP_CT_DIR_ORIGINAL], core.profile().tcp_keep_liberal);
  } else if (n.sysctl.tcp.loose == 0) {
    core.nf_l4proto_log_invalid("invalid new: mid-stream pickup disabled (tcp_loose=0)");
    return false;
  } else {
    // History lost: take the window from this packet, and since the
    // scale factors are unknown, accept whatever either side sends.
    t = ip_ct_tcp{};
    s0.td_end = segment_seq_plus_len(skb);
    s0.td_maxwin = skb.window == 0 ? 1 : skb.window;
    s0.td_maxend = s0.td_end + s0.td_maxwin;
    t.flags[0] = t.flags[1] = IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL;
  }
  // The packet path below sets the real value.
  t.last_index = kNone;
  return true;
}

// nf_conntrack_tcp_established(): assured and established, the only case
// in which an inexact RST is held back.
bool nf_conntrack_tcp_established(const nf_conn* ct) {
  return ct->proto.tcp.state == TCP_CONNTRACK_ESTABLISHED && ct->test_bit(IPS_ASSURED_BIT);
}

// What the state switch's RST case decides (the kernel's `break`, `goto
// in_window` and `return -NF_ACCEPT` there).
enum class RstCheck : uint8_t { kWindow, kSkipWindow, kInvalid };

// Mirrors: nf_conntrack_tcp_packet()'s `case TCP_CONNTRACK_CLOSE` for an RST.
// v5.10: an RST below the peer's highest ACK is invalid; an inexact one on
// an established conn keeps the state (RFC 5961 challenge ACK); an RST
// answering a SYN or half-open ACK we let through skips the window check.
// Row T1 (5.14, c4edc3ccbc63 "improve RST handling when tuple is re-used";
// 1da4cd82dd18 adds nf_conntrack_tcp_ignore_invalid_rst): in a closing state
// the tuple may already be reused, so the RST is not validated at all; the
// max-ACK check is skipped right after a SYN and for a seq-0 RST on a conn
// not established, and the sysctl disables it. Row T7 (6.2, c410cb974f2b):
// an RST whose seq is the ACK of the challenge ACK seen in SYN_SENT passes.
// Row T10 (6.18.35, 6.12.93, 6.1.176): the SYN shortcut needs the RST to come
// from the other side than the SYN.
RstCheck tcp_rst_check(Conntrack& core, const nf_conn* ct, const ip_ct_tcp& t, ip_conntrack_dir dir, const Packet& skb,
                       uint8_t old_state, uint8_t* new_state) {
  const kernel_profile& p = core.profile();
  if (p.tcp_rst_rework && tcp_can_early_drop(ct)) return RstCheck::kSkipWindow;
  if ((t.flags[!dir] & IP_CT_TCP_FLAG_MAXACK_SET) && !(p.tcp_rst_rework && t.last_index == kSyn)) {
    const uint32_t maxack = t.seen[!dir].td_maxack;
    // The answer to a SYN let through, whatever last_index says now.
    if (p.tcp_rst_rework && skb.seq == 0 && !nf_conntrack_tcp_established(ct)) return RstCheck::kWindow;
    // An RST below what the peer has acknowledged cannot be genuine.
    if (before(skb.seq, maxack) && !(p.tcp_rst_rework && core.nf_ct_net(ct).sysctl.tcp.ignore_invalid_rst != 0)) {
      core.nf_l4proto_log_invalid("tcp rst below the peer's max ack");
      return RstCheck::kInvalid;
    }
    if (!nf_conntrack_tcp_established(ct) || skb.seq == maxack) return RstCheck::kWindow;
    // RST right after this side's own ACK-class segment, at its end.
    if (t.last_index == kAck && t.last_dir == dir && skb.seq == t.last_end) return RstCheck::kWindow;
    // An inexact RST on an established conn may be blind (RFC 5961):
    // keep the state so the challenge ACK exchange can happen.
    *new_state = old_state;
  }
  const bool answers_syn =
      ct->test_bit(IPS_SEEN_REPLY_BIT) && t.last_index == kSyn && (!p.tcp_rst_direction_check || t.last_dir != dir);
  if ((answers_syn || (!ct->test_bit(IPS_ASSURED_BIT) && t.last_index == kAck)) && skb.ack_seq == t.last_end) {
    // The RST answers the SYN or half-open ACK we let through unchecked;
    // it may ack data the windows never saw.
    return RstCheck::kSkipWindow;
  }
  if (p.tcp_challenge_ack && old_state == sSS && t.last_index == kAck && t.last_dir == IP_CT_DIR_REPLY &&
      skb.seq == t.last_ack) {
    return RstCheck::kSkipWindow;
  }
  return RstCheck::kWindow;
}

// Mirrors: nf_conntrack_proto_tcp.c nf_tcp_handle_invalid() (row T6, 6.1,
// "reduce timeout when receiving out-of-window fin or rst").
// An out-of-window FIN or RST on an ASSURED conn answering the other side's
// FIN or RST means the peers closed while we lost sync: cut a long timeout
// (at least 120 s left) to UNACK. Otherwise remember this FIN/RST so the
// answer to it can be recognised.
void nf_tcp_handle_invalid(Conntrack& core, nf_conn* ct, ip_conntrack_dir dir, TcpClass index) {
  if (!ct->test_bit(IPS_ASSURED_BIT) || ct->test_bit(IPS_FIXED_TIMEOUT_BIT)) return;
  if (index != kRst && index != kFin) return;
  ip_ct_tcp& t = ct->proto.tcp;
  if (t.last_dir != dir && (t.last_index == kFin || t.last_index == kRst)) {
    const uint32_t expires = nf_ct_expires(ct, core.now32());
    if (expires < 120 * core.hz()) return;
    const uint32_t unack = core.nf_ct_net(ct).sysctl.tcp.timeouts[TCP_CONNTRACK_UNACK];
    if (expires > unack) {
      core.nf_l4proto_log_invalid("tcp out-of-window fin/rst answering one: timeout lowered to unack");
      core.nf_ct_refresh(ct, unack);
    }
  } else {
    t.last_index = index;
    t.last_dir = dir;
  }
}

}  // namespace

const char* tcp_conntrack_name(uint8_t state) {
  static const char* const kNames[] = {"NONE",       "SYN_SENT", "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
                                       "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",       "SYN_SENT2"};
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
    case TCP_CONNTRACK_CLOSE_WAIT: return true;
    default: return false;
  }
}

// Mirrors: nf_conntrack_proto_tcp.c nf_conntrack_tcp_packet().
// Returns NF_ACCEPT, NF_DROP (a reopen whose old conn could not be
// killed), -NF_ACCEPT (invalid) or -NF_REPEAT (old conn killed for a
// reopen: look the packet up again).
int nf_conntrack_tcp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                            nf_inet_hooks hooknum) {
  const net& n = core.nf_ct_net(ct);
  const kernel_profile& p = core.profile();
  if (tcp_error(core, n, skb, hooknum)) return -static_cast<int>(NF_ACCEPT);
  if (!nf_ct_is_confirmed(ct) && !tcp_new(core, ct, skb)) return -static_cast<int>(NF_ACCEPT);

  ip_ct_tcp& t = ct->proto.tcp;
  const ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
  const TcpClass index = tcp_class(skb.tcp_flags);
  uint8_t old_state = t.state;
  uint8_t new_state = kNext[dir][index][old_state];
  bool skip_window_check = false;

  switch (new_state) {
    case sSS:
      if (old_state < sTW) break;
      // A SYN on a closed conn. If the close was orderly (someone sent a
      // FIN) or this side reset it, the peers have moved on: replace the
      // conn. Otherwise it may be a stray SYN on a conn we lost sync
      // with; treat it as ignored.
      if (((t.flags[0] | t.flags[1]) & IP_CT_TCP_FLAG_CLOSE_INIT) || (t.last_dir == dir && t.last_index == kRst)) {
        // Repeat only if this call killed it; otherwise someone else is
        // already destroying it and the packet must not find it again.
        if (core.nf_ct_kill(ct, DeathReason::kTracker)) {
          core.nf_l4proto_log_invalid("tcp reopen: old conn killed, the SYN is looked up again");
          return -static_cast<int>(NF_REPEAT);
        }
        core.nf_l4proto_log_invalid("tcp reopen: the old conn is already dying");
        return NF_DROP;
      }
      [[fallthrough]];
    case sIG:
      if (index == kSynAck && t.last_index == kSyn && t.last_dir != dir && skb.ack_seq == t.last_end) {
        // This SYN-ACK answers the SYN we ignored: the ends are in sync
        // and we are not. Restart the handshake from the stored SYN.
        const int ldir = t.last_dir;
        old_state = sSS;
        new_state = sSR;
        t.seen[ldir].td_end = t.last_end;
        t.seen[ldir].td_maxend = t.last_end;
        t.seen[ldir].td_maxwin = t.last_win == 0 ? 1 : t.last_win;
        t.td_scale[ldir] = t.last_wscale;
        t.last_flags &= ~IP_CT_EXP_CHALLENGE_ACK;
        t.flags[ldir] = t.last_flags;
        // nf_ct_tcp_state_reset(): row T4 keeps a pickup's BE_LIBERAL.
        t.seen[dir] = ip_ct_tcp_state{};
        t.td_scale[dir] = 0;
        t.flags[dir] = p.tcp_keep_liberal ? (t.flags[dir] & IP_CT_TCP_FLAG_BE_LIBERAL) : 0;
        break;
      }
      // Ignored: remember it, change nothing, do not refresh.
      t.last_index = index;
      t.last_dir = dir;
      t.last_seq = skb.seq;
      t.last_end = segment_seq_plus_len(skb);
      t.last_win = skb.window;
      if (index == kSyn && dir == IP_CT_DIR_ORIGINAL) {
        // Keep the SYN's options for a resync by the SYN-ACK.
        uint8_t scale = 0, flags = 0;
        tcp_options(skb, &scale, &flags, false);
        t.last_flags = 0;
        t.last_wscale = 0;
        if (flags & IP_CT_TCP_FLAG_WINDOW_SCALE) {
          t.last_flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
          t.last_wscale = scale;
        }
        if (flags & IP_CT_TCP_FLAG_SACK_PERM) t.last_flags |= IP_CT_TCP_FLAG_SACK_PERM;
        // In LAST_ACK the server may answer this SYN with an RFC 5961
        // challenge ACK, which must not be taken for the final ACK.
        if (old_state == sLA) t.last_flags |= IP_CT_EXP_CHALLENGE_ACK;
      }
      // Row T7: the reply side's ACK to a SYN on a reused tuple may be an
      // RFC 5961 challenge ACK; the client's RST will carry its ack number.
      if (p.tcp_challenge_ack && old_state == sSS && index == kAck && dir == IP_CT_DIR_REPLY) t.last_ack = skb.ack_seq;
      core.nf_l4proto_log_invalid("tcp packet ignored in this state");
      return NF_ACCEPT;
    case sIV: core.nf_l4proto_log_invalid("invalid state transition"); return -static_cast<int>(NF_ACCEPT);
    case sTW:
      if (old_state == sLA && index == kAck && t.last_dir != dir && t.last_index == kSyn &&
          (t.last_flags & IP_CT_EXP_CHALLENGE_ACK)) {
        // The challenge ACK provoked by the ignored SYN: not the last ACK.
        t.last_flags &= ~IP_CT_EXP_CHALLENGE_ACK;
        core.nf_l4proto_log_invalid("tcp challenge ack ignored");
        return NF_ACCEPT;
      }
      break;
    case sS2:
      // The table cannot tell the two opens apart; this flag can.
      t.last_flags |= IP_CT_TCP_SIMULTANEOUS_OPEN;
      break;
    case sSR:
      if (dir == IP_CT_DIR_REPLY && index == kAck && (t.last_flags & IP_CT_TCP_SIMULTANEOUS_OPEN)) new_state = sES;
      break;
    case sCL:
      if (index != kRst) break;
      switch (tcp_rst_check(core, ct, t, dir, skb, old_state, &new_state)) {
        case RstCheck::kInvalid: return -static_cast<int>(NF_ACCEPT);
        case RstCheck::kSkipWindow: skip_window_check = true; break;
        case RstCheck::kWindow: break;
      }
      break;
    default: break;
  }

  if (!skip_window_check) {
    switch (tcp_in_window(core, ct, t, dir, index, skb)) {
      case TcpWindow::kIgnore:
        // 6.1+ (row T5): NFCT_TCP_IGNORE; the reason was logged as invalid.
        core.nf_l4proto_note(
            "tcp_in_window() returns NFCT_TCP_IGNORE (6.1+): the packet passes with its conn, which it does not "
            "change or refresh, and is not counted invalid");
        return NF_ACCEPT;
      case TcpWindow::kInvalid:
        if (p.tcp_bad_fin_rst_timeout) nf_tcp_handle_invalid(core, ct, dir, index);
        return -static_cast<int>(NF_ACCEPT);
      case TcpWindow::kAccept: break;
    }
  }

  // In window from here on.
  t.last_index = index;
  t.last_dir = dir;
  t.state = new_state;
  if (old_state != new_state && new_state == sFW) t.flags[dir] |= IP_CT_TCP_FLAG_CLOSE_INIT;

  const uint32_t* timeouts = n.sysctl.tcp.timeouts;
  uint32_t timeout;
  if (t.retrans >= n.sysctl.tcp.max_retrans && timeouts[new_state] > timeouts[TCP_CONNTRACK_RETRANS]) {
    timeout = timeouts[TCP_CONNTRACK_RETRANS];
  } else if (index == kRst) {
    // Row T10 (late stables, "use UNACK timeout for non-closing RST
    // packets"): an RST that left the state alone (RFC 5961) no longer
    // cuts the conn to the CLOSE timeout.
    if (p.tcp_rst_unack_timeout && new_state != sCL)
      timeout = std::min(timeouts[new_state], timeouts[TCP_CONNTRACK_UNACK]);
    else
      timeout = timeouts[TCP_CONNTRACK_CLOSE];
  } else if (((t.flags[0] | t.flags[1]) & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED) &&
             timeouts[new_state] > timeouts[TCP_CONNTRACK_UNACK]) {
    timeout = timeouts[TCP_CONNTRACK_UNACK];
  } else if (t.last_win == 0 && timeouts[new_state] > timeouts[TCP_CONNTRACK_RETRANS]) {
    // The last ACK-class segment closed its window: the peer may be stuck.
    timeout = timeouts[TCP_CONNTRACK_RETRANS];
  } else {
    timeout = timeouts[new_state];
  }

  if (new_state != old_state) core.nf_conntrack_event_cache(IPCT_PROTOINFO, ct);

  if (!ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    // No reply yet: an RST ends it at once; a mid-stream pickup does not
    // get the long established timeout until both sides were seen.
    if (index == kRst) {
      core.nf_ct_kill(ct, DeathReason::kTracker);  // nf_ct_kill_acct()
      return NF_ACCEPT;
    }
    // Row T2 (5.14, e15d4cdf27cb "do not renew entry stuck in tcp SYN_SENT
    // state"): a re-sent SYN does not refresh, or port reuse by a client or
    // NAT could keep the entry (and its NAT binding) alive forever.
    if (p.tcp_syn_sent_no_renew && index == kSyn && old_state == sSS) return NF_ACCEPT;
    if (new_state == sES && timeout > timeouts[TCP_CONNTRACK_UNACK]) timeout = timeouts[TCP_CONNTRACK_UNACK];
  } else if (!ct->test_bit(IPS_ASSURED_BIT) && (old_state == sSR || old_state == sES) && new_state == sES) {
    // The handshake's final ACK (or a picked-up conn's first answer in
    // both directions): worth keeping under pressure.
    ct->set_bit(IPS_ASSURED_BIT);
    core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  }
  core.nf_ct_refresh(ct, timeout);
  return NF_ACCEPT;
}

}  // namespace ctcore
