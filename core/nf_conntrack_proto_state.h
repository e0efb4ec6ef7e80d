// Per-protocol state carried inside every nf_conn (the kernel's `ct->proto`
// union), and the protocol state enums that traces print.
//
// Mirrors: include/linux/netfilter/nf_conntrack_tcp.h (ip_ct_tcp_state,
//          ip_ct_tcp), include/uapi/linux/netfilter/nf_conntrack_tcp.h
//          (tcp_conntrack), nf_conntrack_sctp.h, nf_conntrack_dccp.h,
//          nf_conntrack_proto_gre.h, nf_conntrack.h (nf_ct_udp).
// Simplified: ip_ct_tcp is repacked (td_scale and flags of both directions
//          moved out of the per-direction struct) so the union is 56 bytes
//          instead of 60 and nf_conn fits 184 bytes. Same fields, same widths.
//
// Threading: plain data.
#ifndef CTSIM_CORE_NF_CONNTRACK_PROTO_STATE_H_
#define CTSIM_CORE_NF_CONNTRACK_PROTO_STATE_H_

#include <cstdint>

namespace ctcore {

// TCP conntrack states. DO NOT CHANGE THESE ENUM VALUES (kernel uapi).
enum tcp_conntrack : uint8_t {
  TCP_CONNTRACK_NONE = 0,
  TCP_CONNTRACK_SYN_SENT = 1,
  TCP_CONNTRACK_SYN_RECV = 2,
  TCP_CONNTRACK_ESTABLISHED = 3,
  TCP_CONNTRACK_FIN_WAIT = 4,
  TCP_CONNTRACK_CLOSE_WAIT = 5,
  TCP_CONNTRACK_LAST_ACK = 6,
  TCP_CONNTRACK_TIME_WAIT = 7,
  TCP_CONNTRACK_CLOSE = 8,
  TCP_CONNTRACK_LISTEN = 9,  // obsolete name of SYN_SENT2
  TCP_CONNTRACK_SYN_SENT2 = TCP_CONNTRACK_LISTEN,
  TCP_CONNTRACK_MAX = 10,
  TCP_CONNTRACK_IGNORE = 11,
  TCP_CONNTRACK_RETRANS = 12,  // timeout slot only
  TCP_CONNTRACK_UNACK = 13,    // timeout slot only
  TCP_CONNTRACK_TIMEOUT_MAX = 14,
};

// Window-tracking flags of one direction (ip_ct_tcp_state.flags).
constexpr uint8_t IP_CT_TCP_FLAG_WINDOW_SCALE = 0x01;
constexpr uint8_t IP_CT_TCP_FLAG_SACK_PERM = 0x02;
constexpr uint8_t IP_CT_TCP_FLAG_CLOSE_INIT = 0x04;
constexpr uint8_t IP_CT_TCP_FLAG_BE_LIBERAL = 0x08;
constexpr uint8_t IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED = 0x10;
constexpr uint8_t IP_CT_TCP_FLAG_MAXACK_SET = 0x20;
constexpr uint8_t IP_CT_EXP_CHALLENGE_ACK = 0x40;
constexpr uint8_t IP_CT_TCP_SIMULTANEOUS_OPEN = 0x80;

// What one direction has sent (Rooij's window tracking), without the two
// byte-sized fields that ip_ct_tcp keeps beside it (see Simplified above).
struct ip_ct_tcp_state {
  uint32_t td_end;     // max of seq + len
  uint32_t td_maxend;  // max of ack + max(win, 1)
  uint32_t td_maxwin;  // max(win)
  uint32_t td_maxack;  // max of ack
};

struct ip_ct_tcp {
  ip_ct_tcp_state seen[2];  // indexed by direction
  uint8_t td_scale[2];      // window scale factor per direction
  uint8_t flags[2];         // IP_CT_TCP_FLAG_* per direction
  uint8_t state;            // tcp_conntrack
  uint8_t last_dir;         // direction of the last packet (ignored ones too)
  uint8_t retrans;          // identical packets seen in a row
  uint8_t last_index;       // packet class of the last packet
  uint32_t last_seq;
  uint32_t last_ack;
  uint32_t last_end;
  uint16_t last_win;
  uint8_t last_wscale;
  uint8_t last_flags;
};
static_assert(sizeof(ip_ct_tcp) == 56, "repacked ip_ct_tcp is 56 bytes");

struct nf_ct_udp {
  uint32_t stream_ts;  // jiffies after which a replied flow counts as a stream
};

struct nf_ct_gre {
  uint32_t stream_timeout;
  uint32_t timeout;
};

// SCTP conntrack states (uapi enum sctp_conntrack, v5.10: ten states).
// DO NOT CHANGE THESE ENUM VALUES (kernel uapi, sysctl slots follow them).
enum sctp_conntrack : uint8_t {
  SCTP_CONNTRACK_NONE = 0,
  SCTP_CONNTRACK_CLOSED = 1,
  SCTP_CONNTRACK_COOKIE_WAIT = 2,
  SCTP_CONNTRACK_COOKIE_ECHOED = 3,
  SCTP_CONNTRACK_ESTABLISHED = 4,
  SCTP_CONNTRACK_SHUTDOWN_SENT = 5,
  SCTP_CONNTRACK_SHUTDOWN_RECD = 6,
  SCTP_CONNTRACK_SHUTDOWN_ACK_SENT = 7,
  SCTP_CONNTRACK_HEARTBEAT_SENT = 8,
  SCTP_CONNTRACK_HEARTBEAT_ACKED = 9,
  SCTP_CONNTRACK_MAX = 10,  // also "invalid transition" in the tracker
};

// Set in ip_ct_sctp.flags when a HEARTBEAT failed its vtag check and was let
// through (conn reuse suspected); a HEARTBEAT_ACK from the other side then
// adopts the new vtag.
constexpr uint8_t SCTP_FLAG_HEARTBEAT_VTAG_FAILED = 1;

// include/linux/netfilter/nf_conntrack_sctp.h struct ip_ct_sctp (v5.10,
// plus 6.6's `init`, used only under row P6).
struct ip_ct_sctp {
  uint8_t state;     // sctp_conntrack (the kernel stores the enum)
  uint8_t last_dir;  // direction of the HEARTBEAT that failed its vtag
  uint8_t flags;     // SCTP_FLAG_*
  uint8_t init[2];   // P6: 1 while this direction's INIT awaits its COOKIE_ACK
  uint32_t vtag[2];  // verification tag expected from each direction
};

// DCCP conntrack states (uapi enum ct_dccp_states). IGNORE and INVALID are
// outcomes of the state table, never stored. DO NOT CHANGE THESE VALUES.
enum ct_dccp_states : uint8_t {
  CT_DCCP_NONE = 0,
  CT_DCCP_REQUEST = 1,
  CT_DCCP_RESPOND = 2,
  CT_DCCP_PARTOPEN = 3,
  CT_DCCP_OPEN = 4,
  CT_DCCP_CLOSEREQ = 5,
  CT_DCCP_CLOSING = 6,
  CT_DCCP_TIMEWAIT = 7,
  CT_DCCP_IGNORE = 8,
  CT_DCCP_INVALID = 9,
  CT_DCCP_MAX = CT_DCCP_INVALID,
};

// Who opened the connection, per direction (enum ct_dccp_roles).
enum ct_dccp_roles : uint8_t {
  CT_DCCP_ROLE_CLIENT = 0,
  CT_DCCP_ROLE_SERVER = 1,
  CT_DCCP_ROLE_MAX = CT_DCCP_ROLE_SERVER,
};

// include/linux/netfilter/nf_conntrack_dccp.h struct nf_ct_dccp (v5.10).
struct nf_ct_dccp {
  uint8_t role[2];         // ct_dccp_roles, indexed by direction
  uint8_t state;           // ct_dccp_states (NONE..TIMEWAIT)
  uint8_t last_pkt;        // DCCP packet type of the last packet
  uint8_t last_dir;        // its direction
  uint64_t handshake_seq;  // the Response's sequence number
};

union nf_conntrack_proto {
  ip_ct_tcp tcp;
  nf_ct_udp udp;
  nf_ct_gre gre;
  ip_ct_sctp sctp;
  nf_ct_dccp dccp;
};
static_assert(sizeof(nf_conntrack_proto) == 56, "proto union must stay 56 bytes");

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_PROTO_STATE_H_
