// The scenario loader's "captures" section (docs/SCENARIO.md "Captures"):
// capture files replayed as traffic. Each file is opened and its filter
// compiled here, so that a scenario that cannot run is refused up front.
#include <fmt/format.h>

#include <cmath>

#include "sim/scenario/capture_reader.h"
#include "sim/scenario/packet_wire.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

namespace {

// A relative capture path is relative to the scenario's folder.
std::string resolve(const std::string& scenario_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const size_t slash = scenario_file.find_last_of('/');
  if (slash == std::string::npos) return path;
  return scenario_file.substr(0, slash + 1) + path;
}

// "interfaces": ["NETNS/PATH", ...], the names `ctsim export` gives them,
// instead of one netns and path for the whole capture.
void load_interfaces(LoadContext& x, const json& e, const std::string& p, CaptureSpec* cs) {
  Checker& c = x.c;
  if (e.contains("netns") || e.contains("path")) {
    c.error(p + "/interfaces",
            "\"interfaces\" says where each packet arrives: leave out \"netns\" and \"path\" (or \"interfaces\")");
    return;
  }
  const json& arr = e["interfaces"];
  if (!c.is_array(arr, p + "/interfaces")) return;
  if (arr.empty()) c.error(p + "/interfaces", "expected at least one \"NETNS/PATH\"");
  for (size_t k = 0; k < arr.size(); ++k) {
    const std::string ptr = fmt::format("{}/interfaces/{}", p, k);
    const std::optional<std::string> name = c.string(arr[k], ptr);
    if (!name) continue;
    const size_t slash = name->rfind('/');
    const std::optional<PathKind> path =
        slash == std::string::npos ? std::nullopt : enum_from_name<PathKind>(kPathNames, name->substr(slash + 1));
    if (!path) {
      c.error(ptr, fmt::format("expected \"NETNS/PATH\" with PATH forward, input or output (as `ctsim export` "
                               "names interfaces), found \"{}\"",
                               *name));
      continue;
    }
    if (auto ns = x.check_ns(json(name->substr(0, slash)), ptr)) cs->interfaces.push_back({*ns, *path});
  }
}

}  // namespace

void load_captures(LoadContext& x, const json& doc) {
  Checker& c = x.c;
  Scenario& s = x.s;
  if (!doc.contains("captures") || !c.is_array(doc["captures"], "/captures")) return;
  const json& arr = doc["captures"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("/captures/{}", i);
    if (!c.is_object(arr[i], p)) continue;
    const json& e = arr[i];
    c.only_keys(e, p, scenario_keys("/captures/*"));
    c.required_keys(e, p, "/captures/*");
    CaptureSpec cs;
    cs.netns = x.first_ns;
    if (e.contains("netns"))
      if (auto v = x.check_ns(e["netns"], p + "/netns")) cs.netns = *v;
    if (e.contains("path"))
      if (auto v = c.one_of(e["path"], p + "/path", scenario_enum("/captures/*/path")))
        cs.path = *enum_from_name<PathKind>(kPathNames, *v);
    if (e.contains("interfaces")) load_interfaces(x, e, p, &cs);
    if (e.contains("cpu")) {
      const json& j = e["cpu"];
      if (j.is_string()) {
        const std::string w = j.get<std::string>();
        bool found = false;
        for (size_t k = 1; k < std::size(kCaptureCpuNames); ++k)
          if (w == kCaptureCpuNames[k]) {
            cs.cpu_mode = static_cast<CaptureSpec::Cpu>(k);
            found = true;
          }
        if (!found)
          c.error(p + "/cpu",
                  fmt::format("expected a CPU number, \"rss\", \"round-robin\" or \"mac\", found \"{}\"", w));
      } else if (auto v = c.uint(j, p + "/cpu", 0, s.cpus - 1u)) {
        cs.cpu_mode = CaptureSpec::Cpu::kPinned;
        cs.cpu = static_cast<uint16_t>(*v);
      }
    }
    if (e.contains("filter"))
      if (auto v = c.string(e["filter"], p + "/filter")) cs.filter = *v;
    if (e.contains("offset"))
      if (auto t = c.duration(e["offset"], p + "/offset", s.hz)) cs.offset = *t;
    if (e.contains("burst"))
      if (auto t = c.duration(e["burst"], p + "/burst", s.hz)) cs.burst = *t;
    if (e.contains("speed")) {
      const json& j = e["speed"];
      if (!j.is_number() || !(j.get<double>() >= 0.000001) || !(j.get<double>() <= 1'000'000.0))
        c.error(p + "/speed", fmt::format("expected a number from 0.000001 to 1000000, found {}", j.dump()));
      else
        cs.speed_ppm = static_cast<uint64_t>(std::llround(j.get<double>() * 1e6));
    }
    x.check_exists_at(cs.netns, cs.offset, p);
    if (e.contains("file")) {
      if (auto v = c.string(e["file"], p + "/file")) {
        cs.file_text = *v;
        cs.file = resolve(s.file, *v);
        // Open it now: an unreadable file, an unknown link type or a bad
        // filter is a scenario error, reported before anything runs.
        CaptureReader r;
        if (Status st = r.open(cs.file, cs.filter); !st.ok())
          c.error(p + (st.message().find("filter") != std::string::npos && !cs.filter.empty() ? "/filter" : "/file"),
                  st.message());
        else if (!link_type_supported(r.linktype()))
          c.error(p + "/file", fmt::format("{}: link type {} is not one ctsim reads (Ethernet, Linux cooked v1/v2, "
                                           "raw IP, loopback/null)",
                                           cs.file, r.linktype()));
      }
    }
    s.captures.push_back(std::move(cs));
  }
}

}  // namespace ctsim
