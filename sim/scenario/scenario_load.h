// Internal to the scenario loader (sim/scenario*.cc): the state its
// sections share, and the sections kept in their own files.
//
// Threading: one LoadContext per parse_scenario call.
#ifndef CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_
#define CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_

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
inline constexpr uint64_t kStreamHashRnd = 1;
inline constexpr uint64_t kStreamHashMix = 1000;  // + namespace index (+ 500 + action index)

struct LoadContext {
  Checker& c;
  Scenario& s;
  const std::set<std::string>& all_ns;          // namespaces[] and those netns_add creates
  const std::set<std::string>& ns_names;        // namespaces[] only
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

void load_flows(LoadContext& x, const nlohmann::json& doc);
void load_actions(LoadContext& x, const nlohmann::json& doc);

// The names of core's per-namespace sysctl table.
std::vector<std::string> sysctl_names();
// The values v5.10 accepts for a sysctl: the on/off switches are
// proc_dointvec_minmax 0..1, log_invalid a protocol number 0..255, timeouts
// proc_dointvec_jiffies (seconds; the kernel refuses a value whose jiffies
// overflow an int, i.e. above INT_MAX / HZ), the rest a non-negative int.
struct SysctlRange {
  uint64_t lo, hi;
};
SysctlRange sysctl_range(std::string_view name, bool jiffies, uint32_t hz);
// Reads a {"nf_conntrack_...": value} map.
void read_sysctl_map(Checker& c, const nlohmann::json& j, const std::string& ptr, uint32_t hz,
                     std::vector<SysctlSetting>* out);
uint32_t draw_u32(uint64_t seed, uint64_t stream);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SCENARIO_LOAD_H_
