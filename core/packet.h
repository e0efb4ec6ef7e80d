// The packet as the conntrack core sees it: the parsed headers it reads and
// the conn reference it attaches (skb->_nfct).
//
// Mirrors: include/linux/skbuff.h struct sk_buff (only what conntrack uses).
// Simplified: headers arrive parsed (the scenario's packet notation), so
//          "truncated header" and "bad checksum" are flags set by the
//          notation, not bytes to inspect. No fragments, no options beyond
//          the TCP ones the window tracker reads.
//
// Ownership: a Packet that has `ct` set owns one reference on it (the kernel's
// skb reference). Whoever ends the packet's life (the hook verdict, a queue
// release) calls Conntrack::nf_reset_ct() to put it.
//
// Threading: value type; used by one simulated CPU at a time.
#ifndef CTSIM_CORE_PACKET_H_
#define CTSIM_CORE_PACKET_H_

#include <cstdint>

#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_tuple.h"

namespace ctcore {

struct nf_conn;

// TCP flag bits as in the TCP header's flags byte.
constexpr uint8_t TCPHDR_FIN = 0x01;
constexpr uint8_t TCPHDR_SYN = 0x02;
constexpr uint8_t TCPHDR_RST = 0x04;
constexpr uint8_t TCPHDR_PSH = 0x08;
constexpr uint8_t TCPHDR_ACK = 0x10;
constexpr uint8_t TCPHDR_URG = 0x20;
constexpr uint8_t TCPHDR_ECE = 0x40;
constexpr uint8_t TCPHDR_CWR = 0x80;

// The header an ICMP error quotes (the packet that caused it).
struct InnerHeader {
  uint16_t l3num = 0;
  nf_inet_addr saddr, daddr;
  uint8_t protonum = 0;
  uint16_t sport = 0, dport = 0;  // or ICMP id in sport
  uint8_t icmp_type = 0, icmp_code = 0;
  uint16_t gre_key = 0;
};

// SCTP chunk types the tracker distinguishes, as bits of Packet::sctp_chunks.
enum SctpChunkBit : uint32_t {
  SCTP_CHUNK_DATA = 1u << 0,
  SCTP_CHUNK_INIT = 1u << 1,
  SCTP_CHUNK_INIT_ACK = 1u << 2,
  SCTP_CHUNK_SACK = 1u << 3,
  SCTP_CHUNK_HEARTBEAT = 1u << 4,
  SCTP_CHUNK_HEARTBEAT_ACK = 1u << 5,
  SCTP_CHUNK_ABORT = 1u << 6,
  SCTP_CHUNK_SHUTDOWN = 1u << 7,
  SCTP_CHUNK_SHUTDOWN_ACK = 1u << 8,
  SCTP_CHUNK_ERROR = 1u << 9,
  SCTP_CHUNK_COOKIE_ECHO = 1u << 10,
  SCTP_CHUNK_COOKIE_ACK = 1u << 11,
  SCTP_CHUNK_SHUTDOWN_COMPLETE = 1u << 14,
};

struct Packet {
  // Layer 3.
  uint16_t l3num = NFPROTO_IPV4;
  nf_inet_addr saddr, daddr;
  uint8_t protonum = 0;
  uint32_t len = 0;  // payload bytes above the layer-4 header

  // Layer 4 (which fields mean something depends on protonum).
  uint16_t sport = 0, dport = 0;  // TCP, UDP, UDP-Lite, SCTP, DCCP
  // TCP
  uint8_t tcp_flags = 0;
  uint32_t seq = 0, ack_seq = 0;
  uint16_t window = 0;
  int8_t wscale = -1;  // window scale option, -1 when absent
  bool sackok = false;
  uint16_t mss = 0;
  // ICMP / ICMPv6
  uint8_t icmp_type = 0, icmp_code = 0;
  uint16_t icmp_id = 0, icmp_seq = 0;
  bool has_inner = false;  // an ICMP error with a quoted header
  InnerHeader inner;
  // GRE (PPTP key)
  uint16_t gre_key = 0;
  // SCTP
  uint32_t sctp_vtag = 0;
  uint32_t sctp_init_tag = 0;  // the Initiate Tag of an INIT or INIT_ACK chunk
  uint32_t sctp_chunks = 0;    // SctpChunkBit set
  uint8_t sctp_first_chunk = 0;
  // DCCP
  uint8_t dccp_type = 0;
  uint64_t dccp_seq = 0, dccp_ack = 0;

  // Damage markers set by the notation (`badsum`, `truncated`).
  bool bad_checksum = false;
  bool truncated = false;
  // UDP-Lite only: the checksum was computed with IPPROTO_UDP (17) in the
  // pseudo-header (notation `csum17`) instead of RFC 3828's IPPROTO_UDPLITE
  // (136), which is what real senders write (false). v5.10's udplite_error()
  // (and every later kernel's) verifies with 17, so only a `csum17` packet
  // passes its check; either way `bad_checksum` means neither verifies.
  bool udplite_csum17 = false;

  // skb->_nfct: the conn this packet belongs to and how.
  nf_conn* ct = nullptr;
  ip_conntrack_info ctinfo = IP_CT_NEW;
  bool untracked = false;  // the kernel's IP_CT_UNTRACKED marker
};

}  // namespace ctcore

#endif  // CTSIM_CORE_PACKET_H_
