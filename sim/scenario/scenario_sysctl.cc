// Per-namespace sysctls in scenarios: names from core's table, the value
// ranges v5.10 enforces.
#include <fmt/format.h>

#include "sim/engine/rng.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

std::vector<std::string> sysctl_names() {
  std::vector<std::string> v;
  for (const auto& i : ctcore::nf_conntrack_sysctl_table()) v.push_back(i.name);
  return v;
}

SysctlRange sysctl_range(std::string_view name, bool jiffies, uint32_t hz, const ctcore::kernel_profile& kernel) {
  constexpr uint64_t kIntMax = 0x7fffffff;
  if (jiffies) return {0, kIntMax / (hz == 0 ? 1 : hz)};
  // 5.19+ (row L3): nf_conntrack_events takes 2 (auto) too.
  if (name == "nf_conntrack_events" && kernel.events_default == 2) return {0, 2};
  static const std::string_view kSwitches[] = {
      "nf_conntrack_checksum",       "nf_conntrack_acct",       "nf_conntrack_helper",
      "nf_conntrack_events",         "nf_conntrack_timestamp",  "nf_conntrack_tcp_loose",
      "nf_conntrack_tcp_be_liberal", "nf_conntrack_dccp_loose", "nf_conntrack_tcp_ignore_invalid_rst"};
  for (std::string_view s : kSwitches)
    if (name == s) return {0, 1};
  if (name == "nf_conntrack_log_invalid") return {0, 255};
  return {0, kIntMax};
}

void read_sysctl_map(Checker& c, const json& j, const std::string& ptr, uint32_t hz,
                     const ctcore::kernel_profile& kernel, std::vector<SysctlSetting>* out) {
  if (!c.is_object(j, ptr)) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string p = ptr + "/" + pointer_token(it.key());
    const ctcore::SysctlInfo* info = ctcore::nf_conntrack_sysctl_find(it.key());
    if (info == nullptr) {
      std::string hint = did_you_mean(it.key(), sysctl_names());
      if (it.key() == "nf_conntrack_max" || it.key() == "nf_conntrack_buckets")
        hint = " (it is global in v5.10: set it in \"table\")";
      c.error(p, fmt::format("unknown per-namespace sysctl \"{}\"{}", it.key(), hint), true);
      continue;
    }
    if (!sysctl_exists(info->name, kernel)) {
      c.error(p,
              fmt::format("sysctl \"{}\" does not exist in this kernel profile ({})", it.key(),
                          sysctl_absent_why(it.key())),
              true);
      continue;
    }
    const SysctlRange r = sysctl_range(info->name, info->jiffies, hz, kernel);
    auto v = c.uint(it.value(), p, r.lo, r.hi);
    if (v) out->push_back({info, *v});
  }
}

bool sysctl_exists(std::string_view name, const ctcore::kernel_profile& kernel) {
  // nf_conntrack_tcp_ignore_invalid_rst came with row T1 (1da4cd82dd18, v5.14).
  if (name == "nf_conntrack_tcp_ignore_invalid_rst") return kernel.tcp_rst_rework;
  // Row P3 (a44b7651489f, 6.2) merged HEARTBEAT_ACKED into ESTABLISHED.
  if (name == "nf_conntrack_sctp_timeout_heartbeat_acked") return !kernel.sctp_established_merged;
  // Row D1: a kernel without the DCCP tracker has none of its sysctls.
  if (name.starts_with("nf_conntrack_dccp_")) return kernel.dccp_tracker;
  return true;
}

const char* sysctl_absent_why(std::string_view name) {
  if (name.starts_with("nf_conntrack_dccp_"))
    return "row D1: the 6.18 kernels have no DCCP tracker: pick \"kernel\": \"6.12\" or earlier, or set "
           "dccp_tracker true";
  if (name == "nf_conntrack_sctp_timeout_heartbeat_acked")
    return "row P3 removed it in v6.2: pick \"kernel\": \"6.1\" or earlier, or set sctp_established_merged false";
  return "it came with row T1 in v5.14: pick \"kernel\": \"5.15\" or later, or set tcp_rst_rework";
}

uint32_t draw_u32(uint64_t seed, uint64_t stream) { return Rng(seed, stream).next_u32(); }

}  // namespace ctsim
