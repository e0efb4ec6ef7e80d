// The scenario loader's "namespaces" section (docs/SCENARIO.md "Namespaces"),
// the namespaces netns_add actions create later, and the checks every
// other section makes on the namespace it names.
#include <algorithm>

#include <fmt/format.h>

#include "sim/scenario/endpoint_range.h"

#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

std::set<std::string> load_namespaces(Checker& c, const json& doc, Scenario* out) {
  Scenario& s = *out;
  std::set<std::string> names;
  if (!doc.contains("namespaces")) {
    s.namespaces.push_back({"init", 0, {}, {}});
    names.insert("init");
    return names;
  }
  if (!c.is_array(doc["namespaces"], "/namespaces")) return names;
  const json& arr = doc["namespaces"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("/namespaces/{}", i);
    if (!c.is_object(arr[i], p)) continue;
    c.only_keys(arr[i], p, scenario_keys("/namespaces/*"));
    c.required_keys(arr[i], p, "/namespaces/*");
    NamespaceSpec ns;
    if (arr[i].contains("name"))
      if (auto v = c.name(arr[i]["name"], p + "/name")) {
        ns.name = *v;
        if (!names.insert(ns.name).second)
          c.error(p + "/name", fmt::format("namespace \"{}\" is defined twice", ns.name));
      }
    ns.hash_mix = draw_u32(s.seed, kStreamHashMix + i);
    if (arr[i].contains("hash_mix"))
      if (auto v = c.uint(arr[i]["hash_mix"], p + "/hash_mix", 0, 0xffffffffull))
        ns.hash_mix = static_cast<uint32_t>(*v);
    if (arr[i].contains("sysctl")) read_sysctl_map(c, arr[i]["sysctl"], p + "/sysctl", s.hz, s.kernel, &ns.sysctls);
    if (arr[i].contains("addresses") && c.is_array(arr[i]["addresses"], p + "/addresses")) {
      const json& addrs = arr[i]["addresses"];
      for (size_t k = 0; k < addrs.size(); ++k) {
        const std::string ap = fmt::format("{}/addresses/{}", p, k);
        if (auto a = read_interface_address(c, addrs[k], ap)) {
          if (std::find(ns.addresses.begin(), ns.addresses.end(), *a) != ns.addresses.end())
            c.error(ap, "this address is listed twice");
          ns.addresses.push_back(*a);
        }
      }
    }
    s.namespaces.push_back(std::move(ns));
  }
  if (arr.empty()) c.error("/namespaces", "at least one namespace is needed (or leave the key out)");
  return names;
}

std::optional<InterfaceAddress> read_interface_address(Checker& c, const json& j, const std::string& ptr) {
  auto text = c.string(j, ptr);
  if (!text) return std::nullopt;
  auto e = parse_endpoint_range(*text);
  if (!e) {
    c.error(ptr, e.error().what);
    return std::nullopt;
  }
  if (e->has_port || e->prefix_len != (e->l3num == ctcore::NFPROTO_IPV4 ? 32 : 128)) {
    c.error(ptr, fmt::format("\"{}\": expected one address (no prefix, no port)", *text));
    return std::nullopt;
  }
  return InterfaceAddress{e->l3num, e->addr};
}

NamespacePlan plan_namespaces(const json& doc, uint32_t hz, const std::set<std::string>& ns_names) {
  NamespacePlan plan;
  plan.all = ns_names;
  if (!doc.contains("actions") || !doc["actions"].is_array()) return plan;
  // A lenient pre-pass: a malformed action is skipped here and reported by
  // load_actions, which runs after the sections that consult this plan.
  for (const json& a : doc["actions"]) {
    if (!a.is_object() || !a.contains("do") || a["do"] != "netns_add" || !a.contains("name") || !a["name"].is_string())
      continue;
    const std::string name = a["name"].get<std::string>();
    plan.all.insert(name);
    if (!a.contains("at") || !a["at"].is_string() || ns_names.count(name)) continue;
    const std::string at_text = a["at"].get<std::string>();
    auto at = parse_duration(at_text, hz);
    if (!at) continue;
    auto it = plan.added_at.find(name);
    if (it == plan.added_at.end() || *at < it->second.first) plan.added_at[name] = {*at, at_text};
  }
  return plan;
}

std::optional<std::string> LoadContext::check_ns(const json& j, const std::string& p) const {
  auto v = c.string(j, p);
  if (!v) return v;
  if (!all_ns.count(*v)) {
    std::vector<std::string> names(all_ns.begin(), all_ns.end());
    c.error(p, fmt::format("no namespace \"{}\"{}", *v, did_you_mean(*v, names)));
    return std::nullopt;
  }
  return v;
}

void LoadContext::check_exists_at(const std::string& ns, SimTime at, const std::string& ptr) const {
  auto it = added_at.find(ns);
  if (it != added_at.end() && at < it->second.first)
    c.error(ptr, fmt::format("namespace \"{}\" does not exist yet: the netns_add that creates it runs at \"{}\"", ns,
                             it->second.second));
}

void LoadContext::check_from_start(const std::string& ns, const std::string& ptr) const {
  if (added_at.count(ns))
    c.error(ptr, fmt::format("namespace \"{}\" is created by a netns_add action, but listeners and rules are "
                             "set up at the start: list it in \"namespaces\"",
                             ns));
}

}  // namespace ctsim
