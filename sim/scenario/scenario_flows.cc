// The scenario loader's "flows" section (docs/SCENARIO.md "Flows").
#include <fmt/format.h>

#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

void load_flows(LoadContext& x, const json& doc) {
  Checker& c = x.c;
  Scenario& s = x.s;
  const std::string& first_ns = x.first_ns;
  auto check_ns = [&](const json& j, const std::string& p) { return x.check_ns(j, p); };
  if (doc.contains("flows") && c.is_array(doc["flows"], "/flows")) {
    const json& arr = doc["flows"];
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = fmt::format("/flows/{}", i);
      if (!c.is_object(arr[i], p)) continue;
      const json& f = arr[i];
      c.only_keys(f, p, scenario_keys("/flows/*"));
      c.required_keys(f, p, "/flows/*");
      FlowSpec fs;
      fs.netns = first_ns;
      fs.path = PathKind::kForward;
      if (f.contains("kind"))
        if (auto k = c.one_of(f["kind"], p + "/kind", scenario_enum("/flows/*/kind")))
          fs.kind = *enum_from_name<FlowSpec::Kind>(kFlowKindNames, *k);
      if (f.contains("at"))
        if (auto t = c.duration(f["at"], p + "/at", s.hz)) fs.at = *t;
      if (f.contains("netns"))
        if (auto v = check_ns(f["netns"], p + "/netns")) fs.netns = *v;
      if (f.contains("path"))
        if (auto v = c.one_of(f["path"], p + "/path", scenario_enum("/flows/*/path")))
          fs.path = *enum_from_name<PathKind>(kPathNames, *v);
      if (f.contains("cpu")) {
        if (f["cpu"].is_string()) {
          if (f["cpu"].get<std::string>() == "spread")
            fs.cpu_spread = true;
          else
            c.error(p + "/cpu", fmt::format("expected a CPU number or \"spread\", found {}", type_name(f["cpu"])));
        } else if (auto v = c.uint(f["cpu"], p + "/cpu", 0, s.cpus - 1u)) {
          fs.cpu = static_cast<uint16_t>(*v);
        }
      }
      if (f.contains("count"))
        if (auto v = c.uint(f["count"], p + "/count", 1, 1'000'000'000)) fs.count = *v;
      if (f.contains("rate") && f.contains("interval"))
        c.error(p + "/interval", "give \"rate\" or \"interval\", not both", true);
      if (f.contains("rate")) {
        if (auto r = c.string(f["rate"], p + "/rate")) {
          if (auto v = parse_rate_nano(*r))
            fs.rate_nano = *v;
          else
            c.error(p + "/rate", v.error().what);
        }
      } else if (f.contains("interval")) {
        if (auto t = c.duration(f["interval"], p + "/interval", s.hz)) fs.interval = *t;
      } else if (fs.count > 1) {
        c.error(p, "more than one flow needs \"rate\" (e.g. \"100/s\") or \"interval\"");
      }
      auto endpoint = [&](const char* key, EndpointRange* out) {
        if (!f.contains(key)) return;  // reported by required_keys
        auto text = c.string(f[key], p + "/" + key);
        if (!text) return;
        if (auto e = parse_endpoint_range(*text))
          *out = *e;
        else
          c.error(p + "/" + key, e.error().what);
      };
      endpoint("src", &fs.src);
      endpoint("dst", &fs.dst);
      if (fs.src.l3num != 0 && fs.dst.l3num != 0 && fs.src.l3num != fs.dst.l3num)
        c.error(p + "/dst", "src and dst are of different address families");
      if (fs.kind == FlowSpec::Kind::kIcmp && (fs.src.has_port || fs.dst.has_port))
        c.error(p + (fs.src.has_port ? "/src" : "/dst"), "icmp flows have no ports");
      if (f.contains("rtt"))
        if (auto t = c.duration(f["rtt"], p + "/rtt", s.hz)) fs.rtt = *t;
      if (f.contains("data_packets"))
        if (auto v = c.uint(f["data_packets"], p + "/data_packets",
                            fs.kind == FlowSpec::Kind::kUdp || fs.kind == FlowSpec::Kind::kIcmp ? 1 : 0, 10000))
          fs.data_packets = static_cast<uint32_t>(*v);
      if (f.contains("close")) {
        if (fs.kind == FlowSpec::Kind::kUdp || fs.kind == FlowSpec::Kind::kIcmp)
          c.error(p + "/close", "\"close\" applies to tcp (and mix) flows only", true);
        else if (auto v = c.one_of(f["close"], p + "/close", scenario_enum("/flows/*/close")))
          fs.close = *enum_from_name<FlowSpec::Close>(kFlowCloseNames, *v);
      }
      if (f.contains("reply")) {
        if (fs.kind == FlowSpec::Kind::kTcp)
          c.error(p + "/reply", "\"reply\" applies to udp, icmp (and mix) flows only", true);
        else if (auto v = c.boolean(f["reply"], p + "/reply"))
          fs.reply = *v;
      }
      if (f.contains("loss")) {
        const json& l = f["loss"];
        if (!l.is_number() || l.get<double>() < 0 || l.get<double>() > 1)
          c.error(p + "/loss", fmt::format("expected a fraction 0..1 (e.g. 0.01), found {}", type_name(l)));
        else
          fs.loss_ppm = static_cast<uint32_t>(l.get<double>() * 1'000'000 + 0.5);
      }
      if (f.contains("weights")) {
        if (fs.kind != FlowSpec::Kind::kMix) {
          c.error(p + "/weights", "\"weights\" applies to mix flows only", true);
        } else if (c.is_object(f["weights"], p + "/weights")) {
          c.only_keys(f["weights"], p + "/weights", scenario_keys("/flows/*/weights"));
          for (size_t k = 0; k < kFlowWeightNames.size(); ++k) {
            const std::string name = kFlowWeightNames[k];
            fs.weights[k] = 0;
            if (f["weights"].contains(name))
              if (auto v = c.uint(f["weights"][name], p + "/weights/" + name, 0, 1'000'000))
                fs.weights[k] = static_cast<uint32_t>(*v);
          }
          if (fs.weights[0] + fs.weights[1] + fs.weights[2] == 0)
            c.error(p + "/weights", "at least one weight must be above 0");
        }
      }
      x.check_exists_at(fs.netns, fs.at, p);
      s.flows.push_back(std::move(fs));
    }
  }
}

}  // namespace ctsim
