// The sysctl table and compiled-in defaults (values from
// Documentation/networking/nf_conntrack-sysctl.rst and the v5.10 trackers).
#include "core/nf_conntrack_sysctl.h"

namespace ctcore {

nf_conntrack_sysctl nf_conntrack_sysctl::defaults(uint32_t hz, const kernel_profile& profile) {
  nf_conntrack_sysctl s;
  const uint32_t secs = hz;
  s.generic_timeout = 600 * secs;
  uint32_t* t = s.tcp.timeouts;
  t[TCP_CONNTRACK_NONE] = 120 * secs;  // unused slot; the kernel fills it like SYN_SENT
  t[TCP_CONNTRACK_SYN_SENT] = 120 * secs;
  t[TCP_CONNTRACK_SYN_RECV] = 60 * secs;
  t[TCP_CONNTRACK_ESTABLISHED] = 432000 * secs;
  t[TCP_CONNTRACK_FIN_WAIT] = 120 * secs;
  t[TCP_CONNTRACK_CLOSE_WAIT] = 60 * secs;
  t[TCP_CONNTRACK_LAST_ACK] = 30 * secs;
  t[TCP_CONNTRACK_TIME_WAIT] = 120 * secs;
  t[TCP_CONNTRACK_CLOSE] = 10 * secs;
  t[TCP_CONNTRACK_SYN_SENT2] = 120 * secs;
  t[TCP_CONNTRACK_RETRANS] = 300 * secs;
  t[TCP_CONNTRACK_UNACK] = 300 * secs;
  s.udp.timeout_unreplied = 30 * secs;
  s.udp.timeout_replied = 120 * secs;
  s.icmp_timeout = 30 * secs;
  s.icmpv6_timeout = 30 * secs;
  s.gre.timeout_unreplied = 30 * secs;
  s.gre.timeout_replied = 180 * secs;

  // SCTP (nf_conntrack_proto_sctp.c sctp_timeouts[], nf_sctp_init_net()).
  uint32_t* sc = s.sctp_timeouts;
  sc[SCTP_CONNTRACK_CLOSED] = 10 * secs;
  sc[SCTP_CONNTRACK_COOKIE_WAIT] = 3 * secs;
  sc[SCTP_CONNTRACK_COOKIE_ECHOED] = 3 * secs;
  sc[SCTP_CONNTRACK_ESTABLISHED] = 5 * 24 * 3600 * secs;
  sc[SCTP_CONNTRACK_SHUTDOWN_SENT] = 300 * secs / 1000;  // 300 ms, rounded down
  sc[SCTP_CONNTRACK_SHUTDOWN_RECD] = 300 * secs / 1000;
  sc[SCTP_CONNTRACK_SHUTDOWN_ACK_SENT] = 3 * secs;
  sc[SCTP_CONNTRACK_HEARTBEAT_SENT] = 30 * secs;
  sc[SCTP_CONNTRACK_HEARTBEAT_ACKED] = 210 * secs;
  if (profile.sctp_established_merged) {
    // P3 (a44b7651489f, 6.2): one ESTABLISHED for every path, timed like
    // the HEARTBEAT_ACKED it absorbed; that state's slot is left 0.
    sc[SCTP_CONNTRACK_ESTABLISHED] = 210 * secs;
    sc[SCTP_CONNTRACK_HEARTBEAT_ACKED] = 0;
  }
  if (profile.sctp_shutdown_3s) {
    // P5 (9bfab6d23a28, 6.5): RTO.Initial, as SHUTDOWN_ACK_SENT has.
    sc[SCTP_CONNTRACK_SHUTDOWN_SENT] = 3 * secs;
    sc[SCTP_CONNTRACK_SHUTDOWN_RECD] = 3 * secs;
  }
  sc[SCTP_CONNTRACK_NONE] = sc[SCTP_CONNTRACK_CLOSED];  // unused slot, as the kernel fills it

  // DCCP (nf_conntrack_proto_dccp.c nf_dccp_init_net(); MSL is 2 minutes).
  const uint32_t msl = 2 * 60 * secs;
  uint32_t* dc = s.dccp_timeouts;
  dc[CT_DCCP_REQUEST] = 2 * msl;
  dc[CT_DCCP_RESPOND] = 4 * msl;
  dc[CT_DCCP_PARTOPEN] = 4 * msl;
  dc[CT_DCCP_OPEN] = 12 * 3600 * secs;
  dc[CT_DCCP_CLOSEREQ] = 64 * secs;
  dc[CT_DCCP_CLOSING] = 64 * secs;
  dc[CT_DCCP_TIMEWAIT] = 2 * msl;
  dc[CT_DCCP_NONE] = dc[CT_DCCP_REQUEST];  // unused slot, as the kernel fills it
  s.dccp_loose = 1;
  return s;
}

namespace {

std::vector<SysctlInfo> build_table() {
  std::vector<SysctlInfo> v = {
      {"nf_conntrack_checksum", false, [](nf_conntrack_sysctl& s) { return &s.checksum; }},
      {"nf_conntrack_log_invalid", false, [](nf_conntrack_sysctl& s) { return &s.log_invalid; }},
      {"nf_conntrack_acct", false, [](nf_conntrack_sysctl& s) { return &s.acct; }},
      {"nf_conntrack_helper", false, [](nf_conntrack_sysctl& s) { return &s.helper; }},
      {"nf_conntrack_events", false, [](nf_conntrack_sysctl& s) { return &s.events; }},
      {"nf_conntrack_timestamp", false, [](nf_conntrack_sysctl& s) { return &s.timestamp; }},
      {"nf_conntrack_generic_timeout", true, [](nf_conntrack_sysctl& s) { return &s.generic_timeout; }},
#define CT_TCP(name, slot)                                                                               \
  {                                                                                                      \
    "nf_conntrack_tcp_timeout_" name, true, [](nf_conntrack_sysctl& s) { return &s.tcp.timeouts[slot]; } \
  }
      CT_TCP("syn_sent", TCP_CONNTRACK_SYN_SENT),
      CT_TCP("syn_recv", TCP_CONNTRACK_SYN_RECV),
      CT_TCP("established", TCP_CONNTRACK_ESTABLISHED),
      CT_TCP("fin_wait", TCP_CONNTRACK_FIN_WAIT),
      CT_TCP("close_wait", TCP_CONNTRACK_CLOSE_WAIT),
      CT_TCP("last_ack", TCP_CONNTRACK_LAST_ACK),
      CT_TCP("time_wait", TCP_CONNTRACK_TIME_WAIT),
      CT_TCP("close", TCP_CONNTRACK_CLOSE),
      CT_TCP("max_retrans", TCP_CONNTRACK_RETRANS),
      CT_TCP("unacknowledged", TCP_CONNTRACK_UNACK),
#undef CT_TCP
      {"nf_conntrack_tcp_loose", false, [](nf_conntrack_sysctl& s) { return &s.tcp.loose; }},
      {"nf_conntrack_tcp_be_liberal", false, [](nf_conntrack_sysctl& s) { return &s.tcp.be_liberal; }},
      {"nf_conntrack_tcp_max_retrans", false, [](nf_conntrack_sysctl& s) { return &s.tcp.max_retrans; }},
      // 5.14+ (row T1); the scenario refuses it under a profile without T1.
      {"nf_conntrack_tcp_ignore_invalid_rst", false, [](nf_conntrack_sysctl& s) { return &s.tcp.ignore_invalid_rst; }},
      {"nf_conntrack_udp_timeout", true, [](nf_conntrack_sysctl& s) { return &s.udp.timeout_unreplied; }},
      {"nf_conntrack_udp_timeout_stream", true, [](nf_conntrack_sysctl& s) { return &s.udp.timeout_replied; }},
      {"nf_conntrack_icmp_timeout", true, [](nf_conntrack_sysctl& s) { return &s.icmp_timeout; }},
      {"nf_conntrack_icmpv6_timeout", true, [](nf_conntrack_sysctl& s) { return &s.icmpv6_timeout; }},
#define CT_SCTP(name, slot)                                                                                \
  {                                                                                                        \
    "nf_conntrack_sctp_timeout_" name, true, [](nf_conntrack_sysctl& s) { return &s.sctp_timeouts[slot]; } \
  }
      CT_SCTP("closed", SCTP_CONNTRACK_CLOSED),
      CT_SCTP("cookie_wait", SCTP_CONNTRACK_COOKIE_WAIT),
      CT_SCTP("cookie_echoed", SCTP_CONNTRACK_COOKIE_ECHOED),
      CT_SCTP("established", SCTP_CONNTRACK_ESTABLISHED),
      CT_SCTP("shutdown_sent", SCTP_CONNTRACK_SHUTDOWN_SENT),
      CT_SCTP("shutdown_recd", SCTP_CONNTRACK_SHUTDOWN_RECD),
      CT_SCTP("shutdown_ack_sent", SCTP_CONNTRACK_SHUTDOWN_ACK_SENT),
      CT_SCTP("heartbeat_sent", SCTP_CONNTRACK_HEARTBEAT_SENT),
      CT_SCTP("heartbeat_acked", SCTP_CONNTRACK_HEARTBEAT_ACKED),
#undef CT_SCTP
#define CT_DCCP(name, slot)                                                                                \
  {                                                                                                        \
    "nf_conntrack_dccp_timeout_" name, true, [](nf_conntrack_sysctl& s) { return &s.dccp_timeouts[slot]; } \
  }
      CT_DCCP("request", CT_DCCP_REQUEST),
      CT_DCCP("respond", CT_DCCP_RESPOND),
      CT_DCCP("partopen", CT_DCCP_PARTOPEN),
      CT_DCCP("open", CT_DCCP_OPEN),
      CT_DCCP("closereq", CT_DCCP_CLOSEREQ),
      CT_DCCP("closing", CT_DCCP_CLOSING),
      CT_DCCP("timewait", CT_DCCP_TIMEWAIT),
#undef CT_DCCP
      {"nf_conntrack_dccp_loose", false, [](nf_conntrack_sysctl& s) { return &s.dccp_loose; }},
      // v5.10 lists the GRE pair last (NF_SYSCTL_CT_PROTO_TIMEOUT_GRE[_STREAM]).
      {"nf_conntrack_gre_timeout", true, [](nf_conntrack_sysctl& s) { return &s.gre.timeout_unreplied; }},
      {"nf_conntrack_gre_timeout_stream", true, [](nf_conntrack_sysctl& s) { return &s.gre.timeout_replied; }},
  };
  return v;
}

}  // namespace

const std::vector<SysctlInfo>& nf_conntrack_sysctl_table() {
  static const std::vector<SysctlInfo> table = build_table();
  return table;
}

const SysctlInfo* nf_conntrack_sysctl_find(std::string_view name) {
  for (const SysctlInfo& info : nf_conntrack_sysctl_table()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

void nf_conntrack_sysctl_write(nf_conntrack_sysctl& s, const SysctlInfo& info, uint64_t value, uint32_t hz) {
  uint64_t stored = info.jiffies ? value * hz : value;
  *info.field(s) = static_cast<uint32_t>(stored);
}

uint64_t nf_conntrack_sysctl_read(const nf_conntrack_sysctl& s, const SysctlInfo& info, uint32_t hz) {
  uint32_t v = *info.field(const_cast<nf_conntrack_sysctl&>(s));
  return info.jiffies ? v / hz : v;
}

}  // namespace ctcore
