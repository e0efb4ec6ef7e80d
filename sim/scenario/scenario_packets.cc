// The scenario loader's "packets" section (docs/SCENARIO.md "Packets"): explicit
// packets in the packet notation.
#include <fmt/format.h>

#include <algorithm>

#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

void load_packets(LoadContext& x, const json& doc) {
  Checker& c = x.c;
  Scenario& s = x.s;
  if (!doc.contains("packets") || !c.is_array(doc["packets"], "/packets")) return;
  const json& arr = doc["packets"];
  // netns, cpu and path carry over from the packet before.
  std::string prev_ns = x.first_ns;
  uint16_t prev_cpu = 0;
  PathKind prev_path = PathKind::kForward;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("/packets/{}", i);
    if (!c.is_object(arr[i], p)) continue;
    c.only_keys(arr[i], p, scenario_keys("/packets/*"));
    c.required_keys(arr[i], p, "/packets/*");
    PacketEntry e;
    e.netns = prev_ns;
    e.cpu = prev_cpu;
    e.path = prev_path;
    if (arr[i].contains("at"))
      if (auto t = c.duration(arr[i]["at"], p + "/at", s.hz)) e.at = *t;
    if (arr[i].contains("netns"))
      if (auto v = x.check_ns(arr[i]["netns"], p + "/netns")) e.netns = *v;
    if (arr[i].contains("cpu"))
      if (auto v = c.uint(arr[i]["cpu"], p + "/cpu", 0, s.cpus - 1u)) e.cpu = static_cast<uint16_t>(*v);
    if (arr[i].contains("path"))
      if (auto v = c.one_of(arr[i]["path"], p + "/path", scenario_enum("/packets/*/path")))
        e.path = *enum_from_name<PathKind>(kPathNames, *v);
    if (arr[i].contains("pkt"))
      if (auto text = c.string(arr[i]["pkt"], p + "/pkt")) {
        if (auto spec = parse_packet(*text))
          e.spec = std::move(*spec);
        else
          c.error(p + "/pkt", fmt::format("column {}: {}", spec.error().column + 1, spec.error().what));
      }
    prev_ns = e.netns;
    prev_cpu = e.cpu;
    prev_path = e.path;
    x.check_exists_at(e.netns, e.at, p);
    s.packets.push_back(std::move(e));
  }
  std::stable_sort(s.packets.begin(), s.packets.end(),
                   [](const PacketEntry& a, const PacketEntry& b) { return a.at < b.at; });
}

}  // namespace ctsim
