// Internal to the scenario loader (sim/scenario*.cc): the state its
// sections share, and the sections kept in their own files.
//
// Threading: one LoadContext per parse_scenario call.
#ifndef CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_
#define CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_

// GCC 12 reports -Warray-bounds inside std::map::begin() when it inlines
// nlohmann::json object iteration at -O2: a known false positive (GCC bug
// 105705 family); nothing in the loader indexes an array. Here, so that it
// covers every section's file (this header is internal to them).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_checker.h"

namespace ctsim {

// Random stream ids for the seeds drawn when the scenario leaves them out.
inline constexpr uint64_t kStreamHashRnd = 1;  // (2 is NAT's prandom, sim/world/simulator.h)
inline constexpr uint64_t kStreamSiphashRnd = 3;  // the 128-bit key of the siphash profiles
inline constexpr uint64_t kStreamHashMix = 1000;  // + namespace index (+ 500 + action index)

struct LoadContext {
  Checker& c;
  Scenario& s;
  const std::set<std::string>& all_ns;    // namespaces[] and those netns_add creates
  const std::set<std::string>& ns_names;  // namespaces[] only
  const std::set<std::string>& listener_names;
  const std::string& first_ns;
  // Namespaces that only netns_add actions create: when the first of them
  // runs, and its "at" as written.
  const std::map<std::string, std::pair<SimTime, std::string>>& added_at;

  // The namespace `j` names, or nullopt after recording why not.
  std::optional<std::string> check_ns(const nlohmann::json& j, const std::string& ptr) const;
  // Records an error at `ptr` when namespace `ns` is used at time `at`,
  // before the netns_add that creates it.
  void check_exists_at(const std::string& ns, SimTime at, const std::string& ptr) const;
  // Records an error at `ptr` when `ns` is one an action creates: listeners
  // and rules are set up at the start of the run.
  void check_from_start(const std::string& ns, const std::string& ptr) const;
};

// The sections, in the order parse_scenario runs them. Each checks its part
// of `doc` and fills its part of the Scenario.
// The kernel profile: `kernel_override` (a profile name the command checked)
// replaces the scenario's "kernel" when not empty.
void load_kernel(Checker& c, const nlohmann::json& doc, const std::string& kernel_override, Scenario* out);
void load_table(Checker& c, const nlohmann::json& doc, Scenario* out);
// Returns the names "namespaces" defines (or the default "init").
std::set<std::string> load_namespaces(Checker& c, const nlohmann::json& doc, Scenario* out);
// One interface address ("198.51.100.1", "2001:db8::1"): no prefix, no port.
std::optional<InterfaceAddress> read_interface_address(Checker& c, const nlohmann::json& j, const std::string& ptr);

// Namespaces that netns_add actions create, read ahead of the actions
// section so that earlier sections may name them.
struct NamespacePlan {
  std::set<std::string> all;  // ns_names plus every netns_add name
  std::map<std::string, std::pair<SimTime, std::string>> added_at;
};
NamespacePlan plan_namespaces(const nlohmann::json& doc, uint32_t hz, const std::set<std::string>& ns_names);

// Fills *names with the listeners' names (actions refer to them).
void load_listeners(LoadContext& x, const nlohmann::json& doc, std::set<std::string>* names);
void load_rules(LoadContext& x, const nlohmann::json& doc);
void load_packets(LoadContext& x, const nlohmann::json& doc);
void load_flows(LoadContext& x, const nlohmann::json& doc);
void load_captures(LoadContext& x, const nlohmann::json& doc);
void load_actions(LoadContext& x, const nlohmann::json& doc);
// The "verify" object: how `ctsim verify` compares the kernel's run.
void load_verify(Checker& c, const nlohmann::json& doc, Scenario* out);

// The names of core's per-namespace sysctl table.
std::vector<std::string> sysctl_names();
// The values v5.10 accepts for a sysctl: the on/off switches are
// proc_dointvec_minmax 0..1, log_invalid a protocol number 0..255, timeouts
// proc_dointvec_jiffies (seconds; the kernel refuses a value whose jiffies
// overflow an int, i.e. above INT_MAX / HZ), the rest a non-negative int.
// Under a 5.19+ profile (events_default 2) nf_conntrack_events takes 0..2.
struct SysctlRange {
  uint64_t lo, hi;
};
SysctlRange sysctl_range(std::string_view name, bool jiffies, uint32_t hz, const ctcore::kernel_profile& kernel);
// Whether the sysctl exists in the kernel the profile describes (all of
// v5.10's do; nf_conntrack_tcp_ignore_invalid_rst only with row T1,
// nf_conntrack_sctp_timeout_heartbeat_acked only without row P3).
bool sysctl_exists(std::string_view name, const ctcore::kernel_profile& kernel);
// For a sysctl that sysctl_exists() denies: which row and release, and
// what to pick instead (for the error message).
const char* sysctl_absent_why(std::string_view name);
// Reads a {"nf_conntrack_...": value} map; a sysctl the profile's kernel
// lacks is an error.
void read_sysctl_map(Checker& c, const nlohmann::json& j, const std::string& ptr, uint32_t hz,
                     const ctcore::kernel_profile& kernel, std::vector<SysctlSetting>* out);
uint32_t draw_u32(uint64_t seed, uint64_t stream);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_
