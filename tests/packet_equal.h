// Equality of two packets in every field the packet notation can express
// (for round-trip checks in tests and in fuzz/notation_fuzzer.cc).
#ifndef CTSIM_TESTS_PACKET_EQUAL_H_
#define CTSIM_TESTS_PACKET_EQUAL_H_

#include "core/packet.h"

namespace ctest {

using ctcore::Packet;

inline bool notation_equal(const Packet& a, const Packet& b) {
  return a.l3num == b.l3num && a.saddr == b.saddr && a.daddr == b.daddr && a.protonum == b.protonum && a.len == b.len &&
         a.sport == b.sport && a.dport == b.dport && a.tcp_flags == b.tcp_flags && a.seq == b.seq &&
         a.ack_seq == b.ack_seq && a.window == b.window && a.wscale == b.wscale && a.sackok == b.sackok &&
         a.mss == b.mss && a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code && a.icmp_id == b.icmp_id &&
         a.icmp_seq == b.icmp_seq && a.has_inner == b.has_inner && a.inner.l3num == b.inner.l3num &&
         a.inner.saddr == b.inner.saddr && a.inner.daddr == b.inner.daddr && a.inner.protonum == b.inner.protonum &&
         a.inner.sport == b.inner.sport && a.inner.dport == b.inner.dport && a.inner.icmp_type == b.inner.icmp_type &&
         a.inner.icmp_code == b.inner.icmp_code && a.inner.gre_key == b.inner.gre_key && a.gre_key == b.gre_key &&
         a.sctp_vtag == b.sctp_vtag && a.sctp_chunks == b.sctp_chunks && a.sctp_first_chunk == b.sctp_first_chunk &&
         a.sctp_init_tag == b.sctp_init_tag && a.dccp_type == b.dccp_type && a.dccp_seq == b.dccp_seq &&
         a.dccp_ack == b.dccp_ack && a.bad_checksum == b.bad_checksum && a.truncated == b.truncated &&
         a.udplite_csum17 == b.udplite_csum17;
}

}  // namespace ctest

#endif  // CTSIM_TESTS_PACKET_EQUAL_H_
