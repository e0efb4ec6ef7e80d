// DCCP tracking: a connection state machine indexed by the sender's role
// (client or server) and the DCCP packet type, with one timeout per state.
//
// Mirrors: net/netfilter/nf_conntrack_proto_dccp.c (v5.10): dccp_new(),
//          dccp_error(), nf_conntrack_dccp_packet(), dccp_can_early_drop(),
//          dccp_print_conntrack() (as dccp_state_name()).
// Simplified: the packet arrives parsed (Packet::dccp_type, dccp_seq,
//          dccp_ack); "truncated" stands for every header-length and
//          checksum-coverage failure. core/PROTO_NOTES.md lists every
//          difference.
//
// How the state machine reads. The tracker is a man in the middle that
// assumes a receiver cannot get what it did not see:
//   NONE       nothing yet (only while the first packet is examined)
//   REQUEST    the client's Request seen, waiting for the server's Response
//   RESPOND    Response seen, waiting for the client's Ack
//   PARTOPEN   the client acknowledged the Response; waiting for the server
//              to send anything but Response, Reset or Sync
//   OPEN       both sides past the handshake
//   CLOSEREQ   the server asked the client to close
//   CLOSING    a Close was seen, waiting for the Reset
//   TIMEWAIT   Reset seen
// Two outcomes are never stored: IGNORE (let the packet through untouched:
// the conn may be out of sync, e.g. a reincarnation, and a valid Response
// will resync it) and INVALID. REQUEST, RESPOND, PARTOPEN and CLOSEREQ exist
// on one side only. The transitions live in dccp_next_state(), one rule per
// packet type and role, in our own form; tests pin the normal walk.
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

// DCCP packet types (RFC 4340 5.1). DCCP_PKT_INVALID and above are reserved.
enum dccp_pkt_type : uint8_t {
  DCCP_PKT_REQUEST = 0,
  DCCP_PKT_RESPONSE = 1,
  DCCP_PKT_DATA = 2,
  DCCP_PKT_ACK = 3,
  DCCP_PKT_DATAACK = 4,
  DCCP_PKT_CLOSEREQ = 5,
  DCCP_PKT_CLOSE = 6,
  DCCP_PKT_RESET = 7,
  DCCP_PKT_SYNC = 8,
  DCCP_PKT_SYNCACK = 9,
  DCCP_PKT_INVALID = 10,
};

constexpr uint8_t sNO = CT_DCCP_NONE;
constexpr uint8_t sRQ = CT_DCCP_REQUEST;
constexpr uint8_t sRS = CT_DCCP_RESPOND;
constexpr uint8_t sPO = CT_DCCP_PARTOPEN;
constexpr uint8_t sOP = CT_DCCP_OPEN;
constexpr uint8_t sCR = CT_DCCP_CLOSEREQ;
constexpr uint8_t sCG = CT_DCCP_CLOSING;
constexpr uint8_t sTW = CT_DCCP_TIMEWAIT;
constexpr uint8_t sIG = CT_DCCP_IGNORE;
constexpr uint8_t sIV = CT_DCCP_INVALID;

const char* const kDccpStateNames[CT_DCCP_MAX + 1] = {
    "NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN", "CLOSEREQ", "CLOSING", "TIMEWAIT", "IGNORE", "INVALID",
};

// The v5.10 transition table restated per packet type. `cur` is a stored
// state (NONE..TIMEWAIT); `client` is the role of the packet's sender.
uint8_t dccp_next_state(bool client, uint8_t type, uint8_t cur) {
  // Nothing but a client's Request may start from NONE.
  if (cur == sNO) return client && type == DCCP_PKT_REQUEST ? sRQ : sIV;
  switch (type) {
    case DCCP_PKT_REQUEST:
      // Client: retransmission keeps REQUEST/RESPOND, a Request after
      // TIMEWAIT is a reincarnation; mid-connection it may be a
      // reincarnation we missed, so ignore it. Server: only after TIMEWAIT
      // (a reincarnation in reverse: the roles swap).
      if (cur == sTW) return sRQ;
      if (client) return cur == sRQ || cur == sRS ? cur : sIG;
      return sIG;
    case DCCP_PKT_RESPONSE:
      if (cur == sTW) return sIV;  // a reincarnation goes through REQUEST
      if (!client && (cur == sRQ || cur == sRS)) return sRS;
      return sIG;  // may answer a Request we ignored
    case DCCP_PKT_ACK:
    case DCCP_PKT_DATAACK:
      if (client) {
        if (cur == sRS || cur == sPO) return sPO;  // acks the Response
        if (cur == sOP || cur == sCR || cur == sCG) return cur;
        return sIV;
      }
      if (cur == sPO || cur == sOP) return sOP;  // server speaks: OPEN
      if (cur == sCG) return sCG;
      return sIV;
    case DCCP_PKT_DATA:
      if (client) {
        // PARTOPEN requires DataAck (8.1.5), so plain Data is invalid there.
        if (cur == sOP || cur == sCR || cur == sCG) return cur;
        return sIV;
      }
      if (cur == sPO || cur == sOP) return sOP;
      if (cur == sCG) return sCG;
      return sIV;
    case DCCP_PKT_CLOSEREQ:
      // Only a server may ask; it may do so from PARTOPEN on.
      if (!client && (cur == sPO || cur == sOP || cur == sCR || cur == sCG)) return sCR;
      return sIV;
    case DCCP_PKT_CLOSE:
      // v5.10's table makes a client's Close in CLOSING invalid (its own
      // comment says "retransmit"); a server's Close after CloseReq too.
      if (client) return cur == sPO || cur == sOP || cur == sCR ? sCG : sIV;
      return cur == sPO || cur == sOP || cur == sCG ? sCG : sIV;
    case DCCP_PKT_RESET:
      // A Reset in TIMEWAIT: ignored from the client, but the server's row
      // in v5.10 has an extra entry that shifts TIMEWAIT onto TIMEWAIT, so a
      // server Reset there refreshes the timer.
      if (cur == sTW) return client ? sIG : sTW;
      return sTW;
    case DCCP_PKT_SYNC:
    case DCCP_PKT_SYNCACK: return sIG;  // not tracked
    default: return sIV;
  }
}

// dccp_error(): a malformed header (short, bad data offset or checksum
// coverage), a bad checksum at PRE_ROUTING with nf_conntrack_checksum on,
// or a reserved packet type. Returns true iff invalid.
bool dccp_error(Conntrack& core, const net& n, const Packet& skb, nf_inet_hooks hooknum) {
  if (skb.truncated) {
    core.nf_l4proto_log_invalid("nf_ct_dccp: truncated/malformed packet");
    return true;
  }
  if (hooknum == NF_INET_PRE_ROUTING && n.sysctl.checksum != 0 && skb.bad_checksum) {
    core.nf_l4proto_log_invalid("nf_ct_dccp: bad checksum");
    return true;
  }
  if (skb.dccp_type >= DCCP_PKT_INVALID) {
    core.nf_l4proto_log_invalid("nf_ct_dccp: reserved packet type");
    return true;
  }
  return false;
}

// dccp_new(): only a Request from NONE may create a conn. The
// nf_conntrack_dccp_loose check guards the other outcomes, but in v5.10's
// table every other type from NONE is INVALID, so loose=0 and loose=1
// behave the same.
bool dccp_new(Conntrack& core, nf_conn* ct, const Packet& skb) {
  const uint8_t state = dccp_next_state(true, skb.dccp_type, sNO);
  if (state == sIV) {
    core.nf_l4proto_log_invalid("nf_ct_dccp: invalid state transition");
    return false;
  }
  if (state != sRQ && core.nf_ct_net(ct).sysctl.dccp_loose == 0) {
    core.nf_l4proto_log_invalid("nf_ct_dccp: not picking up existing connection");
    return false;
  }
  ct->proto.dccp.role[IP_CT_DIR_ORIGINAL] = CT_DCCP_ROLE_CLIENT;
  ct->proto.dccp.role[IP_CT_DIR_REPLY] = CT_DCCP_ROLE_SERVER;
  ct->proto.dccp.state = CT_DCCP_NONE;
  ct->proto.dccp.last_pkt = DCCP_PKT_REQUEST;
  ct->proto.dccp.last_dir = IP_CT_DIR_ORIGINAL;
  ct->proto.dccp.handshake_seq = 0;
  return true;
}

}  // namespace

const char* dccp_state_name(const nf_conn& ct) {
  const uint8_t s = ct.proto.dccp.state;
  return s <= CT_DCCP_MAX ? kDccpStateNames[s] : "UNKNOWN";
}

// dccp_can_early_drop(): a closing conn may be dropped under table pressure
// even when ASSURED. Registered in kDccp and used by gc_worker's early drop
// only, as in v5.10 (core/PROTO_NOTES.md).
bool dccp_can_early_drop(const nf_conn* ct) {
  switch (ct->proto.dccp.state) {
    case CT_DCCP_CLOSEREQ:
    case CT_DCCP_CLOSING:
    case CT_DCCP_TIMEWAIT: return true;
    default: return false;
  }
}

int nf_conntrack_dccp_packet(Conntrack& core, nf_conn* ct, Packet& skb, ip_conntrack_info ctinfo,
                             nf_inet_hooks hooknum) {
  const net& n = core.nf_ct_net(ct);
  if (dccp_error(core, n, skb, hooknum)) return -static_cast<int>(NF_ACCEPT);

  const uint8_t type = skb.dccp_type;
  if (!nf_ct_is_confirmed(ct) && !dccp_new(core, ct, skb)) return -static_cast<int>(NF_ACCEPT);

  // A Reset that is the only thing the other side ever said: the conn never
  // was; tear it down at once (the packet itself passes).
  if (type == DCCP_PKT_RESET && !ct->test_bit(IPS_SEEN_REPLY_BIT)) {
    core.nf_ct_kill(ct, DeathReason::kTracker);
    return NF_ACCEPT;
  }

  const ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
  const ip_conntrack_dir other = dir == IP_CT_DIR_ORIGINAL ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
  nf_ct_dccp& st = ct->proto.dccp;
  const uint8_t role = st.role[dir];
  const uint8_t old_state = st.state;
  uint8_t new_state = dccp_next_state(role == CT_DCCP_ROLE_CLIENT, type, old_state);

  switch (new_state) {
    case CT_DCCP_REQUEST:
      if (old_state == CT_DCCP_TIMEWAIT && role == CT_DCCP_ROLE_SERVER) {
        // Reincarnation in the reverse direction: the roles swap.
        st.role[dir] = CT_DCCP_ROLE_CLIENT;
        st.role[other] = CT_DCCP_ROLE_SERVER;
      }
      break;
    case CT_DCCP_RESPOND:
      if (old_state == CT_DCCP_REQUEST) st.handshake_seq = skb.dccp_seq;
      break;
    case CT_DCCP_PARTOPEN:
      // The client's Ack of the Response completes the handshake. v5.10
      // sets the bit without caching IPCT_ASSURED.
      if (old_state == CT_DCCP_RESPOND && type == DCCP_PKT_ACK && skb.dccp_ack == st.handshake_seq)
        ct->set_bit(IPS_ASSURED_BIT);
      break;
    case CT_DCCP_IGNORE:
      // A Response answering a Request we ignored from the other side:
      // believe it and resync with swapped roles.
      if (st.last_dir == other && st.last_pkt == DCCP_PKT_REQUEST && type == DCCP_PKT_RESPONSE) {
        st.role[other] = CT_DCCP_ROLE_CLIENT;
        st.role[dir] = CT_DCCP_ROLE_SERVER;
        st.handshake_seq = skb.dccp_seq;
        new_state = CT_DCCP_RESPOND;
        break;
      }
      st.last_dir = static_cast<uint8_t>(dir);
      st.last_pkt = type;
      // Accepted, but neither state nor timeout changes. (The kernel logs
      // it as invalid when nf_conntrack_log_invalid is set; it is not
      // counted, so ctsim records nothing.)
      return NF_ACCEPT;
    case CT_DCCP_INVALID:
      core.nf_l4proto_log_invalid("nf_ct_dccp: invalid state transition");
      return -static_cast<int>(NF_ACCEPT);
    default: break;
  }

  st.last_dir = static_cast<uint8_t>(dir);
  st.last_pkt = type;
  st.state = new_state;
  if (new_state != old_state) core.nf_conntrack_event_cache(IPCT_PROTOINFO, ct);
  core.nf_ct_refresh(ct, n.sysctl.dccp_timeouts[new_state]);
  return NF_ACCEPT;
}

}  // namespace ctcore
