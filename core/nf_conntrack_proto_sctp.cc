// SCTP tracking: a per-conn association state driven by the chunk types
// each packet carries, verification-tag checks, and one timeout per state.
//
// Mirrors: net/netfilter/nf_conntrack_proto_sctp.c (v5.10, which includes
//          "allow sctp hearbeat after connection re-use", v5.9):
//          do_basic_checks(), sctp_new_state(), sctp_new(), sctp_error(),
//          nf_conntrack_sctp_packet(), sctp_can_early_drop(),
//          sctp_print_conntrack() (as sctp_state_name()).
// Simplified: a Packet carries chunk *types* as a bitmask (bit i = chunk
//          type i, the kernel's own `map`) plus the type of the first chunk,
//          not a chunk list. The tracker walks the first chunk, then the
//          other set bits in ascending type order; a type cannot repeat and
//          types >= 32 (AUTH, ASCONF, ...) cannot be expressed. The initiate
//          tag of an INIT/INIT_ACK chunk is Packet::sctp_init_tag. Chunk flags are not modelled: the T bit is
//          always clear. core/PROTO_NOTES.md lists every difference.
//
// How the state machine reads. The conn's state describes the association
// as a middlebox sees it, not either endpoint:
//   NONE            nothing yet (only while the first packet is examined)
//   COOKIE_WAIT     INIT seen from the originator (INIT_ACK does not move it)
//   COOKIE_ECHOED   COOKIE_ECHO seen from the originator
//   ESTABLISHED     COOKIE_ACK seen from the responder; the conn is ASSURED
//   SHUTDOWN_SENT   SHUTDOWN from the originator side
//   SHUTDOWN_RECD   SHUTDOWN from the responder side
//   SHUTDOWN_ACK_SENT  SHUTDOWN_ACK answered a SHUTDOWN
//   CLOSED          SHUTDOWN_COMPLETE or ABORT seen; also where most
//                   out-of-the-blue first chunks land
//   HEARTBEAT_SENT  a HEARTBEAT opened the conn (a secondary path of a
//                   multi-homed association whose INIT went elsewhere)
//   HEARTBEAT_ACKED the answer to that HEARTBEAT; the secondary path is up
// The transitions live in sctp_new_state() as one rule per chunk type, in
// our own form; tests pin the association walk.
//
// Later kernels (rows P1-P6 of the kernel profile, docs/KERNELS.md), each
// behind its switch:
//   P1 (5.6)  the first packet leaves NONE and the table moves it: an INIT
//             makes a CLOSED conn (so its NEW event carries the state) and
//             the reply's INIT_ACK moves it to COOKIE_WAIT
//   P2 (5.17) an INIT that leaves a confirmed conn CLOSED does not renew it
//   P3 (6.2)  HEARTBEAT_ACKED merged into ESTABLISHED (210 s); any move into
//             ESTABLISHED assures the conn, once
//   P4 (6.2)  ABORT and SHUTDOWN_COMPLETE must carry the sender's own vtag
//   P5 (6.5)  SHUTDOWN_SENT/RECD last 3 s; an originator INIT in them closes
//   P6 (6.6)  INIT collisions: each direction's INIT is remembered until the
//             COOKIE_ACK, and an INIT_ACK whose tag contradicts what is known
//             is invalid; COOKIE_ECHO and COOKIE_ACK may come from either side
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

// SCTP chunk type numbers (RFC 4960 section 3.2) that the tracker acts on.
enum sctp_cid : uint8_t {
  SCTP_CID_DATA = 0,
  SCTP_CID_INIT = 1,
  SCTP_CID_INIT_ACK = 2,
  SCTP_CID_SACK = 3,
  SCTP_CID_HEARTBEAT = 4,
  SCTP_CID_HEARTBEAT_ACK = 5,
  SCTP_CID_ABORT = 6,
  SCTP_CID_SHUTDOWN = 7,
  SCTP_CID_SHUTDOWN_ACK = 8,
  SCTP_CID_ERROR = 9,
  SCTP_CID_COOKIE_ECHO = 10,
  SCTP_CID_COOKIE_ACK = 11,
  SCTP_CID_SHUTDOWN_COMPLETE = 14,
};

constexpr uint8_t sNO = SCTP_CONNTRACK_NONE;
constexpr uint8_t sCL = SCTP_CONNTRACK_CLOSED;
constexpr uint8_t sCW = SCTP_CONNTRACK_COOKIE_WAIT;
constexpr uint8_t sCE = SCTP_CONNTRACK_COOKIE_ECHOED;
constexpr uint8_t sES = SCTP_CONNTRACK_ESTABLISHED;
constexpr uint8_t sSS = SCTP_CONNTRACK_SHUTDOWN_SENT;
constexpr uint8_t sSR = SCTP_CONNTRACK_SHUTDOWN_RECD;
constexpr uint8_t sSA = SCTP_CONNTRACK_SHUTDOWN_ACK_SENT;
constexpr uint8_t sHS = SCTP_CONNTRACK_HEARTBEAT_SENT;
constexpr uint8_t sHA = SCTP_CONNTRACK_HEARTBEAT_ACKED;
constexpr uint8_t sIV = SCTP_CONNTRACK_MAX;

const char* const kSctpStateNames[SCTP_CONNTRACK_MAX] = {
    "NONE",          "CLOSED",        "COOKIE_WAIT",       "COOKIE_ECHOED",  "ESTABLISHED",
    "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT", "HEARTBEAT_ACKED",
};

bool has_chunk(uint32_t map, uint8_t type) { return type < 32 && ((map >> type) & 1u) != 0; }

// The chunk types of the packet in the order the tracker walks them: the
// first chunk, then every other type present in ascending order. Returns
// the count (0..32).
int sctp_chunk_list(const Packet& skb, uint8_t out[32]) {
  const uint32_t map = skb.sctp_chunks;
  int n = 0;
  uint8_t first = skb.sctp_first_chunk;
  if (!has_chunk(map, first)) {
    // The notation gave no (or a stray) first chunk: the lowest type leads.
    first = 32;
    for (uint8_t t = 0; t < 32; ++t)
      if (has_chunk(map, t)) {
        first = t;
        break;
      }
    if (first == 32) return 0;
  }
  out[n++] = first;
  for (uint8_t t = 0; t < 32; ++t)
    if (t != first && has_chunk(map, t)) out[n++] = t;
  return n;
}

// do_basic_checks(): COOKIE_ECHO and COOKIE_ACK must be the first chunk;
// INIT, INIT_ACK and SHUTDOWN_COMPLETE must be the only chunk. Also fails a
// packet without chunks. (Zero-length chunks cannot be expressed.)
// Returns true iff the packet is malformed.
bool do_basic_checks(const uint8_t* chunks, int count) {
  if (count == 0) return true;
  bool lone_seen = false;
  for (int i = 0; i < count; ++i) {
    const uint8_t t = chunks[i];
    if (t == SCTP_CID_INIT || t == SCTP_CID_INIT_ACK || t == SCTP_CID_SHUTDOWN_COMPLETE) lone_seen = true;
    if (i != 0 && (t == SCTP_CID_COOKIE_ACK || t == SCTP_CID_COOKIE_ECHO || lone_seen)) return true;
  }
  return false;
}

bool opening_or_secondary(uint8_t s) { return s == sNO || s == sHS; }

// sctp_new_state(): the state after a chunk of `type` seen in direction
// `dir` while in `cur`; sIV for an invalid transition. Chunks the table does
// not know (DATA, SACK, ...) leave the state alone. The rules below are the
// v5.10 table, restated per chunk type, with the cells rows P1, P3, P5 and
// P6 changed marked where they apply.
uint8_t sctp_new_state(const kernel_profile& k, ip_conntrack_dir dir, uint8_t cur, uint8_t type) {
  const bool orig = dir == IP_CT_DIR_ORIGINAL;
  // In the reply direction nothing can come before the originator spoke,
  // and a HEARTBEAT-opened conn only accepts the heartbeat exchange.
  if (!orig) {
    if (cur == sNO) {
      switch (type) {
        case SCTP_CID_INIT:
        case SCTP_CID_INIT_ACK:
        case SCTP_CID_ABORT:
        case SCTP_CID_SHUTDOWN:
        case SCTP_CID_SHUTDOWN_ACK:
        case SCTP_CID_ERROR:
        case SCTP_CID_COOKIE_ECHO:
        case SCTP_CID_COOKIE_ACK:
        case SCTP_CID_SHUTDOWN_COMPLETE:
        case SCTP_CID_HEARTBEAT:
        case SCTP_CID_HEARTBEAT_ACK: return sIV;
        default: return cur;
      }
    }
    if (cur == sHS) {
      switch (type) {
        case SCTP_CID_HEARTBEAT: return sHS;
        // The secondary path is confirmed; P3: it is simply ESTABLISHED.
        case SCTP_CID_HEARTBEAT_ACK: return k.sctp_established_merged ? sES : sHA;
        case SCTP_CID_INIT:
        case SCTP_CID_INIT_ACK:
        case SCTP_CID_ABORT:
        case SCTP_CID_SHUTDOWN:
        case SCTP_CID_SHUTDOWN_ACK:
        case SCTP_CID_ERROR:
        case SCTP_CID_COOKIE_ECHO:
        case SCTP_CID_COOKIE_ACK:
        case SCTP_CID_SHUTDOWN_COMPLETE: return sIV;
        default: return cur;
      }
    }
  }
  switch (type) {
    case SCTP_CID_INIT:
      // An originator INIT (re)starts the handshake from nothing, from a
      // closed conn or over a secondary path; elsewhere it changes nothing.
      // P1: from nothing or CLOSED it only gets as far as CLOSED (the
      // INIT_ACK then opens it). P5: a new INIT while a SHUTDOWN is
      // outstanding means the old association is gone.
      if (orig && (cur == sNO || cur == sCL)) return k.sctp_init_closed ? sCL : sCW;
      if (orig && cur == sHS) return sCW;
      if (orig && k.sctp_shutdown_3s && (cur == sSS || cur == sSR)) return sCL;
      return cur;
    case SCTP_CID_INIT_ACK:
      if (orig && opening_or_secondary(cur)) return sCL;  // out of the blue
      if (!orig && cur == sCL && k.sctp_init_closed) return sCW;  // P1
      return cur;
    case SCTP_CID_ABORT: return sCL;
    case SCTP_CID_SHUTDOWN:
      if (orig && opening_or_secondary(cur)) return sCL;
      if (cur == sES || cur == sHA) return orig ? sSS : sSR;
      return cur;
    case SCTP_CID_SHUTDOWN_ACK:
      // Either side acknowledging a SHUTDOWN; an originator's stray
      // SHUTDOWN_ACK also opens a conn that expects SHUTDOWN_COMPLETE.
      if (cur == sSS || cur == sSR) return sSA;
      if (orig && opening_or_secondary(cur)) return sSA;
      return cur;
    case SCTP_CID_ERROR:
      if (orig && opening_or_secondary(cur)) return sCL;
      if (!orig && cur == sCE) return sCL;  // e.g. a stale-cookie error
      return cur;
    case SCTP_CID_COOKIE_ECHO:
      if (orig && opening_or_secondary(cur)) return sCL;
      // P6: after an INIT collision the responder's cookie may finish first.
      if (cur == sCW && (orig || k.sctp_init_collision)) return sCE;
      return cur;
    case SCTP_CID_COOKIE_ACK:
      if (orig && opening_or_secondary(cur)) return sCL;
      if (cur == sCE && (!orig || k.sctp_init_collision)) return sES;  // P6: either side
      return cur;
    case SCTP_CID_SHUTDOWN_COMPLETE:
      if (orig && opening_or_secondary(cur)) return sCL;
      if (cur == sSA) return sCL;
      return cur;
    case SCTP_CID_HEARTBEAT:
      if (orig && cur == sNO) return sHS;
      return cur;
    case SCTP_CID_HEARTBEAT_ACK:
      if (orig && cur == sNO) return sCL;
      return cur;
    default: return cur;  // DATA, SACK and the rest do not move the state
  }
}

// sctp_new(): may this packet create a conn? Every chunk, taken from NONE in
// the original direction, must lead to a real state, so a DATA or SACK
// chunk anywhere in the first packet refuses it. Records the vtags the
// first packet implies.
bool sctp_new(const kernel_profile& k, nf_conn* ct, const Packet& skb, const uint8_t* chunks, int count) {
  ct->proto.sctp = ip_ct_sctp{};
  for (int i = 0; i < count; ++i) {
    const uint8_t t = chunks[i];
    const uint8_t s = sctp_new_state(k, IP_CT_DIR_ORIGINAL, sNO, t);
    if (s == sNO || s == sIV) return false;
    if (t == SCTP_CID_INIT) {
      if (skb.sctp_vtag != 0) return false;  // an INIT carries vtag 0
      ct->proto.sctp.vtag[IP_CT_DIR_REPLY] = skb.sctp_init_tag;
    } else if (t == SCTP_CID_HEARTBEAT) {
      ct->proto.sctp.vtag[IP_CT_DIR_ORIGINAL] = skb.sctp_vtag;
    } else {
      // Out of the blue: the peer will answer with this packet's tag
      // (SHUTDOWN_COMPLETE to a SHUTDOWN_ACK, or an ABORT).
      ct->proto.sctp.vtag[IP_CT_DIR_REPLY] = skb.sctp_vtag;
    }
    // P1: the conn stays NONE here, so that the packet's own walk below
    // moves it and caches the PROTOINFO event the NEW event then carries.
    ct->proto.sctp.state = k.sctp_init_closed ? sNO : s;
  }
  return true;
}

// sctp_error(): a header too short, or a bad CRC32c seen at PRE_ROUTING
// while nf_conntrack_checksum is on. Returns true iff invalid.
bool sctp_error(Conntrack& core, const net& n, const Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("nf_ct_sctp: short packet");
    return true;
  }
  if (hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0 && skb.bad_checksum) {
    core.nf_l4proto_log_invalid("nf_ct_sctp: bad CRC");
    return true;
  }
  return false;
}

int sctp_invalid(Conntrack& core, const char* why) {
  core.nf_l4proto_log_invalid(why);
  return -static_cast<int>(NF_ACCEPT);
}

}  // namespace

const char* sctp_state_name(const nf_conn& ct) {
  const uint8_t s = ct.proto.sctp.state;
  return s < SCTP_CONNTRACK_MAX ? kSctpStateNames[s] : "UNKNOWN";
}

// sctp_can_early_drop(): a conn that is shutting down may be dropped under
// table pressure even when ASSURED.
// Registered in kSctp (nf_conntrack_l4proto.cc) and used by gc_worker's
// early drop only, as in v5.10 (core/PROTO_NOTES.md).
bool sctp_can_early_drop(const nf_conn* ct) {
  switch (ct->proto.sctp.state) {
    case SCTP_CONNTRACK_SHUTDOWN_SENT:
    case SCTP_CONNTRACK_SHUTDOWN_RECD:
    case SCTP_CONNTRACK_SHUTDOWN_ACK_SENT: return true;
    default: return false;
  }
}

int nf_conntrack_sctp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum) {
  const net& n = core.nf_ct_net(ct);
  const kernel_profile& k = core.profile();
  if (sctp_error(core, n, skb, hooknum)) return -static_cast<int>(NF_ACCEPT);

  uint8_t chunks[32];
  const int count = sctp_chunk_list(skb, chunks);
  const uint32_t map = count == 0 ? 0 : skb.sctp_chunks | (1u << chunks[0]);
  if (do_basic_checks(chunks, count)) return sctp_invalid(core, "sctp: bad chunk layout");

  if (!nf_ct_is_confirmed(ct)) {
    // Out-of-the-blue packets with these chunks must be discarded
    // (RFC 4960 8.4); they never create a conn.
    if (has_chunk(map, SCTP_CID_ABORT) || has_chunk(map, SCTP_CID_SHUTDOWN_COMPLETE) ||
        has_chunk(map, SCTP_CID_COOKIE_ACK))
      return sctp_invalid(core, "sctp: OOTB ABORT/SHUTDOWN_COMPLETE/COOKIE_ACK");
    if (!sctp_new(k, ct, skb, chunks, count)) return sctp_invalid(core, "sctp: cannot create conn");
  }

  const ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
  const ip_conntrack_dir other = dir == IP_CT_DIR_ORIGINAL ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
  ip_ct_sctp& st = ct->proto.sctp;

  // RFC 4960 8.5: the vtag must be the one this direction was given, unless
  // a chunk with its own rule (8.5.1) is present; those are checked below.
  if (!has_chunk(map, SCTP_CID_INIT) && !has_chunk(map, SCTP_CID_SHUTDOWN_COMPLETE) &&
      !has_chunk(map, SCTP_CID_COOKIE_ECHO) && !has_chunk(map, SCTP_CID_ABORT) &&
      !has_chunk(map, SCTP_CID_SHUTDOWN_ACK) && !has_chunk(map, SCTP_CID_HEARTBEAT) &&
      !has_chunk(map, SCTP_CID_HEARTBEAT_ACK) && skb.sctp_vtag != st.vtag[dir])
    return sctp_invalid(core, "sctp: verification tag check failed");

  // Chunks chain: each moves the state left by the one before. `old_state`
  // ends as the state before the LAST chunk, which is what the ASSURED rule
  // below looks at (so a COOKIE_ACK followed by DATA does not assure).
  uint8_t old_state = SCTP_CONNTRACK_NONE;
  uint8_t new_state = SCTP_CONNTRACK_NONE;
  bool ignore = false;
  for (int i = 0; i < count; ++i) {
    const uint8_t t = chunks[i];
    switch (t) {
      case SCTP_CID_INIT:  // 8.5.1 (A)
        if (skb.sctp_vtag != 0) return sctp_invalid(core, "sctp: INIT with non-zero vtag");
        break;
      case SCTP_CID_ABORT:
        // 8.5.1 (B). v5.10: either side's tag. P4: with the T bit clear
        // (always, in ctsim) only the sender's own.
        if (k.sctp_abort_own_vtag) {
          if (skb.sctp_vtag != st.vtag[dir]) return sctp_invalid(core, "sctp: ABORT vtag mismatch");
        } else if (skb.sctp_vtag != st.vtag[dir] && skb.sctp_vtag != st.vtag[other]) {
          return sctp_invalid(core, "sctp: ABORT vtag matches neither side");
        }
        break;
      case SCTP_CID_SHUTDOWN_COMPLETE:
        // 8.5.1 (C): v5.10 rejects only when the T bit is set and neither
        // tag matches; ctsim packets never set T. P4: T clear needs the
        // sender's own tag.
        if (k.sctp_abort_own_vtag && skb.sctp_vtag != st.vtag[dir])
          return sctp_invalid(core, "sctp: SHUTDOWN_COMPLETE vtag mismatch");
        break;
      case SCTP_CID_COOKIE_ECHO:  // 8.5.1 (D)
        if (skb.sctp_vtag != st.vtag[dir]) return sctp_invalid(core, "sctp: COOKIE_ECHO vtag mismatch");
        break;
      case SCTP_CID_COOKIE_ACK:
        // P6: the handshake is over; neither side's INIT is outstanding.
        if (k.sctp_init_collision) st.init[IP_CT_DIR_ORIGINAL] = st.init[IP_CT_DIR_REPLY] = 0;
        break;
      case SCTP_CID_HEARTBEAT:
        if (st.vtag[dir] == 0) {
          st.vtag[dir] = skb.sctp_vtag;  // first word from this side
        } else if (skb.sctp_vtag != st.vtag[dir]) {
          // Perhaps the endpoints reused the 4-tuple for a new association:
          // let a lone HEARTBEAT through, untimed, and remember it.
          if (has_chunk(map, SCTP_CID_DATA) || ignore) return sctp_invalid(core, "sctp: HEARTBEAT vtag mismatch");
          st.flags |= SCTP_FLAG_HEARTBEAT_VTAG_FAILED;
          st.last_dir = static_cast<uint8_t>(dir);
          ignore = true;
          continue;
        } else {
          st.flags &= static_cast<uint8_t>(~SCTP_FLAG_HEARTBEAT_VTAG_FAILED);
        }
        break;
      case SCTP_CID_HEARTBEAT_ACK:
        if (st.vtag[dir] == 0) {
          st.vtag[dir] = skb.sctp_vtag;
        } else if (skb.sctp_vtag != st.vtag[dir]) {
          if (has_chunk(map, SCTP_CID_DATA) || ignore) return sctp_invalid(core, "sctp: HEARTBEAT_ACK vtag mismatch");
          // Only the answer to a let-through HEARTBEAT may resync the tags.
          if ((st.flags & SCTP_FLAG_HEARTBEAT_VTAG_FAILED) == 0 || st.last_dir == dir)
            return sctp_invalid(core, "sctp: HEARTBEAT_ACK vtag mismatch");
          st.flags &= static_cast<uint8_t>(~SCTP_FLAG_HEARTBEAT_VTAG_FAILED);
          st.vtag[dir] = skb.sctp_vtag;
          st.vtag[other] = 0;
        } else {
          st.flags &= static_cast<uint8_t>(~SCTP_FLAG_HEARTBEAT_VTAG_FAILED);
        }
        break;
      default: break;
    }

    old_state = st.state;
    new_state = sctp_new_state(k, dir, old_state, t);
    if (new_state == sIV) return sctp_invalid(core, "sctp: invalid state transition");

    // INIT and INIT_ACK announce the tag the other side must use.
    if (t == SCTP_CID_INIT) {
      if (k.sctp_init_collision) {
        // P6: both sides' INITs outstanding and this side starts again:
        // only this newest INIT counts.
        if (st.init[dir] != 0 && st.init[other] != 0) st.init[other] = 0;
        st.init[dir] = 1;
      }
      st.vtag[other] = skb.sctp_init_tag;
      // P2: a retransmitted INIT (a client or a NAT reusing the port) must
      // not keep a CLOSED conn, and its NAT binding, alive for ever.
      if (k.sctp_closed_init_no_renew && new_state == sCL && old_state == sCL && nf_ct_is_confirmed(ct))
        ignore = true;
    } else if (t == SCTP_CID_INIT_ACK) {
      if (k.sctp_init_collision) {
        // P6: the tag the other side's INIT announced (vtag[other]) must be
        // the one this INIT_ACK carries, unless the other side sent no INIT
        // and nothing is known yet; in a collision (both INITs outstanding)
        // always. A late INIT_ACK of a lost race would otherwise rewrite it.
        const uint32_t known = st.vtag[other];
        if (st.init[other] == 0 && known != 0 && known != skb.sctp_init_tag)
          return sctp_invalid(core, "sctp: INIT_ACK initiate tag mismatch");
        if (st.init[dir] != 0 && st.init[other] != 0 && known != skb.sctp_init_tag)
          return sctp_invalid(core, "sctp: INIT_ACK initiate tag mismatch (collision)");
      }
      st.vtag[other] = skb.sctp_init_tag;
    }

    st.state = new_state;
    if (old_state != new_state) {
      core.nf_conntrack_event_cache(IPCT_PROTOINFO, ct);
      // P3: a primary path (COOKIE_ECHOED) or a secondary one
      // (HEARTBEAT_SENT) reaching ESTABLISHED assures the conn, once.
      if (k.sctp_established_merged && new_state == sES && !ct->test_and_set_bit(IPS_ASSURED_BIT))
        core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
    }
  }

  if (ignore) return NF_ACCEPT;  // let through, but do not refresh

  core.nf_ct_refresh(ct, n.sysctl.sctp_timeouts[new_state]);

  if (!k.sctp_established_merged && old_state == SCTP_CONNTRACK_COOKIE_ECHOED && dir == IP_CT_DIR_REPLY &&
      new_state == SCTP_CONNTRACK_ESTABLISHED) {
    // v5.10 sets the bit (not test-and-set) and caches the event each time
    // this transition happens.
    ct->set_bit(IPS_ASSURED_BIT);
    core.nf_conntrack_event_cache(IPCT_ASSURED, ct);
  }
  return NF_ACCEPT;
}

}  // namespace ctcore
