// Kernel profiles for the core tests: one by name, one changed from a
// base, and a small table configured with one.
#ifndef CTSIM_TESTS_KERNEL_PROFILE_UTIL_H_
#define CTSIM_TESTS_KERNEL_PROFILE_UTIL_H_

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "sim/scenario/scenario.h"

namespace ctest {

// The profile `name` of the core's table (the test fails if there is none).
inline const ctcore::kernel_profile& named(const char* name) {
  const ctcore::kernel_profile_entry* e = ctcore::kernel_profile_find(name);
  REQUIRE(e != nullptr);
  return e->profile;
}

// Profile `base` with `change` applied.
inline ctcore::kernel_profile with(const char* base, const std::function<void(ctcore::kernel_profile&)>& change) {
  ctcore::kernel_profile p = named(base);
  change(p);
  return p;
}

// 1024 buckets, max 4096, a fixed hash_rnd, 2 CPUs, under profile `p`.
inline ctcore::ConntrackConfig config_of(const ctcore::kernel_profile& p) {
  ctcore::ConntrackConfig c{1024, 4096, 0x12345678, 2};
  c.profile = p;
  return c;
}

// The two places a scenario sets sysctl `key`: a namespace's "sysctl" and
// a "sysctl" action, each as a whole scenario (for a sysctl that only some
// profiles have).
inline std::vector<std::string> sysctl_scenarios(const std::string& key, int value) {
  return {fmt::format(R"({{"ctsim": 1, "namespaces": [{{"name": "a", "sysctl": {{"{}": {}}}}}]}})", key, value),
          fmt::format(R"({{"ctsim": 1, "actions": [{{"at": "1s", "do": "sysctl", "key": "{}", "value": {}}}]}})", key,
                      value)};
}

// Loads scenario `text` under kernel profile `kernel`.
inline ctsim::Status load_under(const std::string& text, const char* kernel) {
  ctsim::Scenario s;
  return ctsim::parse_scenario("k.json", text, &s, ctsim::ScenarioLoadOptions{kernel});
}

}  // namespace ctest

#endif  // CTSIM_TESTS_KERNEL_PROFILE_UTIL_H_
