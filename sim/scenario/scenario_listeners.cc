// The scenario loader's "listeners" section (docs/SCENARIO.md "Listeners"):
// ctnetlink event sockets.
#include <fmt/format.h>

#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

void load_listeners(LoadContext& x, const json& doc, std::set<std::string>* names) {
  Checker& c = x.c;
  Scenario& s = x.s;
  if (!doc.contains("listeners") || !c.is_array(doc["listeners"], "/listeners")) return;
  const json& arr = doc["listeners"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("/listeners/{}", i);
    if (!c.is_object(arr[i], p)) continue;
    c.only_keys(arr[i], p, scenario_keys("/listeners/*"));
    c.required_keys(arr[i], p, "/listeners/*");
    ListenerSpec l;
    l.name = fmt::format("listener{}", i);
    if (arr[i].contains("name"))
      if (auto v = c.name(arr[i]["name"], p + "/name")) l.name = *v;
    if (!names->insert(l.name).second) c.error(p + "/name", fmt::format("listener \"{}\" is defined twice", l.name));
    l.netns = x.first_ns;
    if (arr[i].contains("netns"))
      if (auto v = x.check_ns(arr[i]["netns"], p + "/netns")) {
        l.netns = *v;
        x.check_from_start(l.netns, p + "/netns");
      }
    if (arr[i].contains("reliable"))
      if (auto v = c.boolean(arr[i]["reliable"], p + "/reliable")) l.reliable = *v;
    if (arr[i].contains("rcvbuf"))
      if (auto v = c.uint(arr[i]["rcvbuf"], p + "/rcvbuf", 1, 100000000)) l.rcvbuf = static_cast<uint32_t>(*v);
    if (arr[i].contains("read_every"))
      if (auto v = c.duration(arr[i]["read_every"], p + "/read_every", s.hz)) l.read_every = *v;
    if (arr[i].contains("at"))
      if (auto v = c.duration(arr[i]["at"], p + "/at", s.hz)) l.at = *v;
    if (arr[i].contains("events") && c.is_array(arr[i]["events"], p + "/events")) {
      l.groups = 0;
      const json& ev = arr[i]["events"];
      for (size_t k = 0; k < ev.size(); ++k) {
        auto g = c.one_of(ev[k], fmt::format("{}/events/{}", p, k), scenario_enum("/listeners/*/events/*"));
        if (!g) continue;
        for (const EventGroupName& n : kEventGroupNames)
          if (*g == n.name) l.groups |= n.group;
      }
      if (ev.empty()) c.error(p + "/events", "an empty event filter would receive nothing");
    }
    s.listeners.push_back(std::move(l));
  }
}

}  // namespace ctsim
