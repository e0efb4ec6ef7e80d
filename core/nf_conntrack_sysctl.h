// Per-namespace conntrack tunables, under their /proc/sys/net/netfilter names.
//
// Mirrors: net/netfilter/nf_conntrack_standalone.c (nf_ct_sysctl_table) and
//          the per-protocol `struct nf_*_net` timeout arrays.
// Timeouts are stored in jiffies, as the kernel stores them
// (proc_dointvec_jiffies): the sysctl value is seconds, converted with HZ.
//
// A new namespace starts from the compiled-in defaults below, not from
// init_net's current values (v5.10 behaviour). The defaults are the kernel
// profile's where a release changed them (rows P3, P5: SCTP).
//
// Threading: plain data.
#ifndef CTSIM_CORE_NF_CONNTRACK_SYSCTL_H_
#define CTSIM_CORE_NF_CONNTRACK_SYSCTL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_kernel_profile.h"
#include "core/nf_conntrack_proto_state.h"

namespace ctcore {

struct nf_conntrack_sysctl {
  // nf_conntrack_checksum: verify layer-4 checksums at PRE_ROUTING. Default: 1.
  uint32_t checksum = 1;
  // nf_conntrack_log_invalid: log invalid packets of this protocol. Default: 0.
  uint32_t log_invalid = 0;
  // nf_conntrack_acct: byte/packet accounting. Default: 0 (not modelled).
  uint32_t acct = 0;
  // nf_conntrack_helper: automatic helper assignment. Default: 0.
  uint32_t helper = 0;
  // nf_conntrack_events: add the event-cache extension to new conns. Default: 1.
  uint32_t events = 1;
  // nf_conntrack_timestamp: Default: 0 (not modelled).
  uint32_t timestamp = 0;

  // nf_conntrack_generic_timeout. Default: 600 s.
  uint32_t generic_timeout = 0;

  struct {
    // nf_conntrack_tcp_timeout_<state>, indexed by tcp_conntrack; slots
    // RETRANS (timeout_max_retrans) and UNACK (timeout_unacknowledged).
    uint32_t timeouts[TCP_CONNTRACK_TIMEOUT_MAX] = {};
    uint32_t loose = 1;        // nf_conntrack_tcp_loose. Default: 1.
    uint32_t be_liberal = 0;   // nf_conntrack_tcp_be_liberal. Default: 0.
    uint32_t max_retrans = 3;  // nf_conntrack_tcp_max_retrans. Default: 3.
    // nf_conntrack_tcp_ignore_invalid_rst (5.14+, row T1): an RST below the
    // peer's highest ACK is not invalid. Default: 0. Read only where
    // profile().tcp_rst_rework holds.
    uint32_t ignore_invalid_rst = 0;
  } tcp;

  struct {
    uint32_t timeout_unreplied = 0;  // nf_conntrack_udp_timeout. Default: 30 s.
    uint32_t timeout_replied = 0;    // nf_conntrack_udp_timeout_stream. Default: 120 s.
  } udp;

  uint32_t icmp_timeout = 0;    // nf_conntrack_icmp_timeout. Default: 30 s.
  uint32_t icmpv6_timeout = 0;  // nf_conntrack_icmpv6_timeout. Default: 30 s.

  // GRE (nf_conntrack_proto_gre.c, v5.10 built-in when CONFIG_NF_CT_PROTO_GRE):
  // both sysctls exist in v5.10's nf_ct_sysctl_table.
  struct {
    uint32_t timeout_unreplied = 0;  // nf_conntrack_gre_timeout. Default: 30 s.
    uint32_t timeout_replied = 0;    // nf_conntrack_gre_timeout_stream. Default: 180 s.
  } gre;

  // nf_conntrack_sctp_timeout_<state>, indexed by sctp_conntrack. Defaults
  // (v5.10): closed 10 s, cookie_wait 3 s, cookie_echoed 3 s, established
  // 432000 s (5 days), shutdown_sent 0.3 s, shutdown_recd 0.3 s,
  // shutdown_ack_sent 3 s, heartbeat_sent 30 s, heartbeat_acked 210 s. Slot
  // NONE has no sysctl and holds the CLOSED value ("new" timeout).
  // Row P3 (6.2): established 210 s, heartbeat_acked gone (its slot 0).
  // Row P5 (6.5): shutdown_sent and shutdown_recd 3 s.
  uint32_t sctp_timeouts[12] = {};
  // nf_conntrack_dccp_timeout_<state>, indexed by ct_dccp_states. Defaults
  // (v5.10, MSL = 120 s): request 240 s, respond 480 s, partopen 480 s,
  // open 43200 s, closereq 64 s, closing 64 s, timewait 240 s. Slot NONE has
  // no sysctl and holds the REQUEST value.
  uint32_t dccp_timeouts[12] = {};
  // nf_conntrack_dccp_loose: pick up conns not seen from the Request.
  // Default: 1. (No effect with v5.10's table; see PROTO_NOTES.md.)
  uint32_t dccp_loose = 1;

  // The compiled-in defaults for a kernel built with `hz`, of the release
  // `profile` stands for (v5.10's by default).
  static nf_conntrack_sysctl defaults(uint32_t hz, const kernel_profile& profile = kernel_profile{});
};

// One per-namespace sysctl as the table lists it.
struct SysctlInfo {
  const char* name;  // e.g. "nf_conntrack_tcp_timeout_established"
  bool jiffies;      // the value is seconds, stored as jiffies
  uint32_t* (*field)(nf_conntrack_sysctl&);
};

// Every per-namespace sysctl ctsim models, in the kernel table's order.
const std::vector<SysctlInfo>& nf_conntrack_sysctl_table();

// The entry named `name`, or null.
const SysctlInfo* nf_conntrack_sysctl_find(std::string_view name);

// Writes `value` (seconds for timeouts) into `s`. REQUIRES: info from the table.
void nf_conntrack_sysctl_write(nf_conntrack_sysctl& s, const SysctlInfo& info, uint64_t value, uint32_t hz);

// Reads the value as /proc shows it (seconds for timeouts, truncated).
uint64_t nf_conntrack_sysctl_read(const nf_conntrack_sysctl& s, const SysctlInfo& info, uint32_t hz);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_SYSCTL_H_
