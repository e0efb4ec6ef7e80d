// The scenario loader's "kernel" key (docs/SCENARIO.md "Kernel"): which
// kernel release the core behaves as, by profile name, optionally with
// single switches overridden for what-if work:
//   "kernel": "6.18"
//   "kernel": {"base": "6.12", "udp_stream_assured": false}
// `ctsim run --kernel NAME` replaces the whole key.
#include <fmt/format.h>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

namespace {

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const ctcore::kernel_profile_entry& e : ctcore::kernel_profiles()) names.emplace_back(e.name);
  return names;
}

// One override `"name": value` at `ptr`.
void read_switch(Checker& c, const ctcore::kernel_profile_switch& sw, const json& j, const std::string& ptr,
                 Scenario& s) {
  if (sw.is_bool) {
    if (auto v = c.boolean(j, ptr)) sw.set(s.kernel, *v ? 1u : 0u);
  } else if (!sw.words.empty()) {
    const std::vector<std::string> words(sw.words.begin(), sw.words.end());
    if (auto v = c.one_of(j, ptr, words)) {
      for (uint32_t i = 0; i < words.size(); ++i)
        if (words[i] == *v) sw.set(s.kernel, i);
    }
  } else if (auto v = c.uint(j, ptr, sw.lo, sw.hi)) {
    sw.set(s.kernel, static_cast<uint32_t>(*v));
  }
}

}  // namespace

void load_kernel(Checker& c, const json& doc, const std::string& kernel_override, Scenario* out) {
  Scenario& s = *out;
  s.kernel_name = std::string(ctcore::kDefaultKernel);
  s.kernel = ctcore::kernel_profile_find(ctcore::kDefaultKernel)->profile;
  s.kernel_overrides.clear();
  const std::vector<std::string> names = profile_names();
  if (!kernel_override.empty()) {
    // Checked by the command before it loads anything (kernel_profile_find).
    if (const ctcore::kernel_profile_entry* e = ctcore::kernel_profile_find(kernel_override)) {
      s.kernel_name = e->name;
      s.kernel = e->profile;
    }
    return;
  }
  if (!doc.contains("kernel")) return;
  const json& k = doc["kernel"];
  std::optional<std::string> base;
  if (k.is_string()) {
    base = c.one_of(k, "/kernel", names);
  } else if (k.is_object()) {
    c.only_keys(k, "/kernel", scenario_keys("/kernel"));
    c.required_keys(k, "/kernel", "/kernel");
    if (k.contains("base")) base = c.one_of(k["base"], "/kernel/base", names);
  } else {
    c.error("/kernel", fmt::format("expected a kernel profile name ({}) or an object {{\"base\": NAME, switch: value, "
                                   "...}}, found {}",
                                   fmt::join(names, ", "), type_name(k)));
    return;
  }
  if (!base) return;
  s.kernel_name = *base;
  s.kernel = ctcore::kernel_profile_find(*base)->profile;
  if (!k.is_object()) return;
  // Switches in the struct's order, whatever order the file has them in.
  for (const ctcore::kernel_profile_switch& sw : ctcore::kernel_profile_switches()) {
    if (!k.contains(sw.name)) continue;
    read_switch(c, sw, k[sw.name], std::string("/kernel/") + sw.name, s);
    s.kernel_overrides.emplace_back(sw.name, ctcore::kernel_profile_switch_value(sw, s.kernel));
  }
}

}  // namespace ctsim
