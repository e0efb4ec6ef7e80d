// The sysctl table and compiled-in defaults (values from
// Documentation/networking/nf_conntrack-sysctl.rst and the v5.10 trackers).
#include "core/nf_conntrack_sysctl.h"

namespace ctcore {

nf_conntrack_sysctl nf_conntrack_sysctl::defaults(uint32_t hz) {
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
      {"nf_conntrack_generic_timeout", true,
       [](nf_conntrack_sysctl& s) { return &s.generic_timeout; }},
#define CT_TCP(name, slot)                                     \
  {"nf_conntrack_tcp_timeout_" name, true, [](nf_conntrack_sysctl& s) { \
     return &s.tcp.timeouts[slot];                             \
   }}
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
      {"nf_conntrack_tcp_be_liberal", false,
       [](nf_conntrack_sysctl& s) { return &s.tcp.be_liberal; }},
      {"nf_conntrack_tcp_max_retrans", false,
       [](nf_conntrack_sysctl& s) { return &s.tcp.max_retrans; }},
      {"nf_conntrack_udp_timeout", true,
       [](nf_conntrack_sysctl& s) { return &s.udp.timeout_unreplied; }},
      {"nf_conntrack_udp_timeout_stream", true,
       [](nf_conntrack_sysctl& s) { return &s.udp.timeout_replied; }},
      {"nf_conntrack_icmp_timeout", true, [](nf_conntrack_sysctl& s) { return &s.icmp_timeout; }},
      {"nf_conntrack_icmpv6_timeout", true,
       [](nf_conntrack_sysctl& s) { return &s.icmpv6_timeout; }},
      {"nf_conntrack_gre_timeout", true,
       [](nf_conntrack_sysctl& s) { return &s.gre.timeout_unreplied; }},
      {"nf_conntrack_gre_timeout_stream", true,
       [](nf_conntrack_sysctl& s) { return &s.gre.timeout_replied; }},
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

void nf_conntrack_sysctl_write(nf_conntrack_sysctl& s, const SysctlInfo& info, uint64_t value,
                               uint32_t hz) {
  uint64_t stored = info.jiffies ? value * hz : value;
  *info.field(s) = static_cast<uint32_t>(stored);
}

uint64_t nf_conntrack_sysctl_read(const nf_conntrack_sysctl& s, const SysctlInfo& info,
                                  uint32_t hz) {
  uint32_t v = *info.field(const_cast<nf_conntrack_sysctl&>(s));
  return info.jiffies ? v / hz : v;
}

}  // namespace ctcore
