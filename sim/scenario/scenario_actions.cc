// The scenario loader's "actions" section (docs/SCENARIO.md "Actions").
#include <fmt/format.h>

#include <algorithm>

#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

void load_actions(LoadContext& x, const json& doc) {
  Checker& c = x.c;
  Scenario& s = x.s;
  const std::string& first_ns = x.first_ns;
  auto check_ns = [&](const json& j, const std::string& p) { return x.check_ns(j, p); };
  const std::set<std::string>& ns_names = x.ns_names;
  const std::set<std::string>& listener_names = x.listener_names;
  if (doc.contains("actions") && c.is_array(doc["actions"], "/actions")) {
    const json& arr = doc["actions"];
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = fmt::format("/actions/{}", i);
      if (!c.is_object(arr[i], p)) continue;
      ActionSpec a;
      c.required_keys(arr[i], p, "/actions/*");
      if (arr[i].contains("at"))
        if (auto t = c.duration(arr[i]["at"], p + "/at", s.hz)) a.at = *t;
      if (!arr[i].contains("do")) continue;
      auto kind = c.one_of(arr[i]["do"], p + "/do", scenario_enum("/actions/*/do"));
      if (!kind) {
        c.only_keys(arr[i], p, scenario_keys("/actions/*"));
        continue;
      }
      const std::string& k = *kind;
      const std::string level = "/actions/*?do=" + k;
      c.only_keys(arr[i], p, scenario_keys(level));
      // The keys this kind requires beyond "at" and "do" (checked above).
      for (const std::string& key : scenario_required(level))
        if (key != "at" && key != "do" && !arr[i].contains(key)) c.error(p, fmt::format("\"{}\" needs \"{}\"", k, key));
      auto need = [&](const char* key) -> const json* { return arr[i].contains(key) ? &arr[i][key] : nullptr; };
      using Kind = ActionSpec::Kind;
      a.kind = *enum_from_name<Kind>(kActionNames, k);
      if (a.kind == Kind::kSysctl) {
        a.netns = first_ns;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
        if (const json* key = need("key")) {
          if (auto kname = c.string(*key, p + "/key")) {
            a.key = *kname;
            if (*kname == "nf_conntrack_max") {
              a.sysctl.info = nullptr;
            } else if ((a.sysctl.info = ctcore::nf_conntrack_sysctl_find(*kname)) == nullptr) {
              std::vector<std::string> names = sysctl_names();
              names.push_back("nf_conntrack_max");
              c.error(p + "/key", fmt::format("unknown sysctl \"{}\"{}", *kname, did_you_mean(*kname, names)));
            } else if (!sysctl_exists(*kname, s.kernel)) {
              c.error(p + "/key", fmt::format("sysctl \"{}\" does not exist in this kernel profile ({})", *kname,
                                              sysctl_absent_why(*kname)));
            }
          }
        }
        if (const json* val = need("value")) {
          const SysctlRange r = a.sysctl.info != nullptr
                                    ? sysctl_range(a.sysctl.info->name, a.sysctl.info->jiffies, s.hz, s.kernel)
                                    : SysctlRange{0, 0x7fffffff};
          if (auto v = c.uint(*val, p + "/value", r.lo, r.hi)) a.value = *v;
        }
        a.sysctl.value = a.value;
      } else if (a.kind == Kind::kFlush || a.kind == Kind::kSnapshot) {
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
        if (a.kind == Kind::kSnapshot && arr[i].contains("list"))
          if (auto v = c.one_of(arr[i]["list"], p + "/list", scenario_enum("/actions/*/list")))
            for (size_t k = 0; k < std::size(kSnapshotListNames); ++k)
              if (*v == kSnapshotListNames[k]) a.list = static_cast<ActionSpec::SnapshotList>(k);
      } else if (a.kind == Kind::kDelete) {
        a.netns = first_ns;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
        if (const json* t = need("tuple"))
          if (auto text = c.string(*t, p + "/tuple")) {
            a.tuple_text = *text;
            if (auto t = parse_tuple(*text))
              a.tuple = *t;
            else
              c.error(p + "/tuple", fmt::format("column {}: {}", t.error().column + 1, t.error().what));
          }
      } else if (a.kind == Kind::kNetnsAdd) {
        if (const json* n = need("name"))
          if (auto v = c.name(*n, p + "/name")) {
            a.name = *v;
            if (ns_names.count(*v)) c.error(p + "/name", fmt::format("namespace \"{}\" already exists", *v));
          }
        a.hash_mix = draw_u32(s.seed, kStreamHashMix + 500 + i);
        if (arr[i].contains("hash_mix"))
          if (auto v = c.uint(arr[i]["hash_mix"], p + "/hash_mix", 0, 0xffffffffull))
            a.hash_mix = static_cast<uint32_t>(*v);
        if (arr[i].contains("sysctl")) read_sysctl_map(c, arr[i]["sysctl"], p + "/sysctl", s.hz, s.kernel, &a.sysctls);
      } else if (a.kind == Kind::kNetnsDel) {
        if (const json* n = need("name"))
          if (auto v = check_ns(*n, p + "/name")) a.name = *v;
      } else if (a.kind == Kind::kListenerStall || a.kind == Kind::kListenerResume) {
        if (const json* n = need("listener"))
          if (auto v = c.string(*n, p + "/listener")) {
            a.name = *v;
            if (!listener_names.count(*v)) {
              std::vector<std::string> names(listener_names.begin(), listener_names.end());
              c.error(p + "/listener", fmt::format("no listener \"{}\"{}", *v, did_you_mean(*v, names)));
            }
          }
      } else if (a.kind == Kind::kAddrAdd || a.kind == Kind::kAddrDel) {
        a.netns = first_ns;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
        if (const json* addr = need("address"))
          if (auto v = read_interface_address(c, *addr, p + "/address")) a.address = *v;
      }  // kStats: nothing but "at"
      if (!a.netns.empty()) x.check_exists_at(a.netns, a.at, p + "/netns");
      if (a.kind == ActionSpec::Kind::kNetnsDel) x.check_exists_at(a.name, a.at, p + "/name");
      s.actions.push_back(std::move(a));
    }
    std::stable_sort(s.actions.begin(), s.actions.end(),
                     [](const ActionSpec& a, const ActionSpec& b) { return a.at < b.at; });
  }
}

}  // namespace ctsim
