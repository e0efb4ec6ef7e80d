// Scenario loading: syntax through nlohmann/json, then a strict walk that
// collects every problem with its JSON pointer (leveldb's VersionEdit
// pattern: record which field failed, report once).
#include "sim/scenario.h"

// GCC 12 reports -Warray-bounds inside std::map::begin() when it inlines
// nlohmann::json object iteration at -O2: a known false positive (GCC bug
// 105705 family); nothing here indexes an array.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <cctype>
#include <cstdlib>

#include "core/clock.h"
#include "sim/json_positions.h"
#include "sim/rng.h"
#include "sim/scenario_checker.h"
#include "sim/scenario_keys.h"

namespace ctsim {

using nlohmann::json;

const char* path_name(PathKind p) {
  switch (p) {
    case PathKind::kForward: return "forward";
    case PathKind::kInput: return "input";
    case PathKind::kOutput: return "output";
  }
  return "?";
}

const char* action_name(ActionSpec::Kind k) {
  switch (k) {
    case ActionSpec::Kind::kSysctl: return "sysctl";
    case ActionSpec::Kind::kFlush: return "flush";
    case ActionSpec::Kind::kDelete: return "delete";
    case ActionSpec::Kind::kNetnsAdd: return "netns_add";
    case ActionSpec::Kind::kNetnsDel: return "netns_del";
    case ActionSpec::Kind::kListenerStall: return "listener_stall";
    case ActionSpec::Kind::kListenerResume: return "listener_resume";
    case ActionSpec::Kind::kSnapshot: return "snapshot";
    case ActionSpec::Kind::kStats: return "stats";
  }
  return "?";
}

namespace {


std::vector<std::string> sysctl_names() {
  std::vector<std::string> v;
  for (const auto& i : ctcore::nf_conntrack_sysctl_table()) v.push_back(i.name);
  return v;
}

// The values v5.10 accepts for a sysctl (nf_conntrack_standalone.c): the
// on/off switches are proc_dointvec_minmax 0..1, log_invalid a protocol
// number 0..255, timeouts proc_dointvec_jiffies (seconds; the kernel refuses
// a value whose jiffies overflow an int, i.e. above INT_MAX / HZ), the rest
// a non-negative int.
struct SysctlRange {
  uint64_t lo, hi;
};
SysctlRange sysctl_range(std::string_view name, bool jiffies, uint32_t hz) {
  constexpr uint64_t kIntMax = 0x7fffffff;
  if (jiffies) return {0, kIntMax / (hz == 0 ? 1 : hz)};
  static const std::string_view kSwitches[] = {
      "nf_conntrack_checksum", "nf_conntrack_acct",      "nf_conntrack_helper",
      "nf_conntrack_events",   "nf_conntrack_timestamp", "nf_conntrack_tcp_loose",
      "nf_conntrack_tcp_be_liberal", "nf_conntrack_dccp_loose"};
  for (std::string_view s : kSwitches)
    if (name == s) return {0, 1};
  if (name == "nf_conntrack_log_invalid") return {0, 255};
  return {0, kIntMax};
}

void read_sysctl_map(Checker& c, const json& j, const std::string& ptr, uint32_t hz,
                     std::vector<SysctlSetting>* out) {
  if (!c.is_object(j, ptr)) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string p = ptr + "/" + pointer_token(it.key());
    const ctcore::SysctlInfo* info = ctcore::nf_conntrack_sysctl_find(it.key());
    if (info == nullptr) {
      std::string hint = did_you_mean(it.key(), sysctl_names());
      if (it.key() == "nf_conntrack_max" || it.key() == "nf_conntrack_buckets")
        hint = " (it is global in v5.10: set it in \"table\")";
      c.error(p, fmt::format("unknown per-namespace sysctl \"{}\"{}", it.key(), hint), true);
      continue;
    }
    const SysctlRange r = sysctl_range(info->name, info->jiffies, hz);
    auto v = c.uint(it.value(), p, r.lo, r.hi);
    if (v) out->push_back({info, *v});
  }
}

uint32_t draw_u32(uint64_t seed, uint64_t stream) { return Rng(seed, stream).next_u32(); }


// Stream ids for the seeds drawn when the scenario leaves them out.
constexpr uint64_t kStreamHashRnd = 1;
constexpr uint64_t kStreamHashMix = 1000;  // + namespace index

}  // namespace

Status parse_scenario(const std::string& file, const std::string& text, Scenario* out) {
  *out = Scenario{};
  out->file = file;
  // A scenario nests four levels deep; refusing absurd depth up front keeps
  // every later walk (the parser's, the position index's) shallow.
  constexpr size_t kMaxNesting = 32;
  if (const NestingDepth d = json_nesting_depth(text); d.max > kMaxNesting) {
    LineCol lc = line_col_at(text, d.offset);
    return Status::InvalidArgument(fmt::format(
        "{}:{}:{}: objects and arrays nest deeper than {} levels (a scenario needs 4)", file, lc.line,
        lc.col, kMaxNesting));
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    LineCol lc = line_col_at(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    size_t colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: invalid JSON: {}", file, lc.line, lc.col, detail));
  } catch (const json::exception& e) {
    // The parser also throws out_of_range.406 for a number beyond a double
    // ("number overflow parsing '1e999'"); it names the number, not where.
    std::string what = e.what();
    size_t close = what.find("] ");
    std::string detail = close == std::string::npos ? what : what.substr(close + 2);
    size_t offset = 0;
    if (size_t q = detail.find('\''); q != std::string::npos) {
      const std::string number = detail.substr(q + 1, detail.rfind('\'') - q - 1);
      if (size_t at = text.find(number); !number.empty() && at != std::string::npos) offset = at;
    }
    LineCol lc = line_col_at(text, offset);
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: invalid JSON: {}", file, lc.line, lc.col, detail));
  }

  Checker c;
  Scenario& s = *out;
  std::vector<std::string> duplicates;
  auto positions = index_json_positions(text, &duplicates);
  for (const std::string& d : duplicates)
    c.error(d, "this key appears twice in the same object (JSON would keep only the last)", true);
  if (!c.is_object(doc, "")) {
    // fall through to reporting
  } else {
    c.only_keys(doc, "", scenario_keys(""));
    if (!doc.contains("ctsim")) {
      c.error("", "missing \"ctsim\": the format version (expected \"ctsim\": 1)");
    } else if (auto v = c.uint(doc["ctsim"], "/ctsim", 1, 1); !v) {
      // error recorded
    }
    if (doc.contains("name")) {
      if (auto v = c.string(doc["name"], "/name")) s.name = *v;
    } else {
      size_t slash = file.find_last_of('/');
      std::string base = slash == std::string::npos ? file : file.substr(slash + 1);
      if (base.size() > 5 && base.substr(base.size() - 5) == ".json") base.resize(base.size() - 5);
      s.name = base;
    }
    if (doc.contains("description"))
      if (auto v = c.string(doc["description"], "/description")) s.description = *v;
    if (doc.contains("seed"))
      if (auto v = c.uint(doc["seed"], "/seed", 0, UINT64_MAX)) s.seed = *v;
    if (doc.contains("hz"))
      if (auto v = c.uint(doc["hz"], "/hz", 1, 10000)) s.hz = static_cast<uint32_t>(*v);
    s.initial_jiffies = ctcore::initial_jiffies_for_hz(s.hz);
    if (doc.contains("initial_jiffies")) {
      const json& j = doc["initial_jiffies"];
      if (j.is_string()) {
        if (j.get<std::string>() != "kernel")
          c.error("/initial_jiffies", fmt::format("expected \"kernel\" or a number, found {}{}", type_name(j),
                                                  did_you_mean(j.get<std::string>(), {"kernel"})));
      } else if (auto v = c.uint(j, "/initial_jiffies", 0, 0xffffffffull)) {
        s.initial_jiffies = *v;
      }
    }
    if (doc.contains("cpus"))
      if (auto v = c.uint(doc["cpus"], "/cpus", 1, 256)) s.cpus = static_cast<uint16_t>(*v);

    // table
    s.buckets = ctcore::nf_conntrack_default_buckets(kDefaultRamBytes);
    bool max_given = false;
    bool buckets_given = false;
    s.hash_rnd = draw_u32(s.seed, kStreamHashRnd);
    if (doc.contains("table") && c.is_object(doc["table"], "/table")) {
      const json& t = doc["table"];
      c.only_keys(t, "/table", scenario_keys("/table"));
      if (t.contains("buckets"))
        if (auto v = c.uint(t["buckets"], "/table/buckets", 1, 1u << 26)) {
          s.buckets = static_cast<uint32_t>(*v);
          buckets_given = true;
        }
      if (t.contains("max"))
        if (auto v = c.uint(t["max"], "/table/max", 0, 0x7fffffff)) {
          s.max = static_cast<uint32_t>(*v);
          max_given = true;
        }
      if (t.contains("hash_rnd"))
        if (auto v = c.uint(t["hash_rnd"], "/table/hash_rnd", 0, 0xffffffffull))
          s.hash_rnd = static_cast<uint32_t>(*v);
    }
    // v5.10: max = 4 x buckets by default, 8 x when the hash size was given.
    if (!max_given) s.max = (buckets_given ? 8 : 4) * s.buckets;

    // namespaces
    std::set<std::string> ns_names;
    if (doc.contains("namespaces") && c.is_array(doc["namespaces"], "/namespaces")) {
      const json& arr = doc["namespaces"];
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/namespaces/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        c.only_keys(arr[i], p, scenario_keys("/namespaces/*"));
        NamespaceSpec ns;
        if (!arr[i].contains("name")) c.error(p, "missing \"name\"");
        else if (auto v = c.string(arr[i]["name"], p + "/name")) {
          ns.name = *v;
          if (ns.name.empty()) c.error(p + "/name", "a namespace name cannot be empty");
          if (!ns_names.insert(ns.name).second)
            c.error(p + "/name", fmt::format("namespace \"{}\" is defined twice", ns.name));
        }
        ns.hash_mix = draw_u32(s.seed, kStreamHashMix + i);
        if (arr[i].contains("hash_mix"))
          if (auto v = c.uint(arr[i]["hash_mix"], p + "/hash_mix", 0, 0xffffffffull))
            ns.hash_mix = static_cast<uint32_t>(*v);
        if (arr[i].contains("sysctl")) read_sysctl_map(c, arr[i]["sysctl"], p + "/sysctl", s.hz, &ns.sysctls);
        s.namespaces.push_back(std::move(ns));
      }
      if (arr.empty()) c.error("/namespaces", "at least one namespace is needed (or leave the key out)");
    } else if (!doc.contains("namespaces")) {
      s.namespaces.push_back({"init", 0, {}});
      ns_names.insert("init");
    }
    // Names that actions add later are valid targets after their action.
    std::set<std::string> all_ns = ns_names;
    if (doc.contains("actions") && doc["actions"].is_array()) {
      for (const json& a : doc["actions"])
        if (a.is_object() && a.value("do", "") == "netns_add" && a.contains("name") && a["name"].is_string())
          all_ns.insert(a["name"].get<std::string>());
    }
    auto check_ns = [&](const json& j, const std::string& p) -> std::optional<std::string> {
      auto v = c.string(j, p);
      if (!v) return v;
      if (!all_ns.count(*v)) {
        std::vector<std::string> names(all_ns.begin(), all_ns.end());
        c.error(p, fmt::format("no namespace \"{}\"{}", *v, did_you_mean(*v, names)));
        return std::nullopt;
      }
      return v;
    };
    const std::string first_ns = s.namespaces.empty() ? "init" : s.namespaces[0].name;

    // listeners
    std::set<std::string> listener_names;
    if (doc.contains("listeners") && c.is_array(doc["listeners"], "/listeners")) {
      const json& arr = doc["listeners"];
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/listeners/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        c.only_keys(arr[i], p, scenario_keys("/listeners/*"));
        ListenerSpec l;
        l.name = fmt::format("listener{}", i);
        if (arr[i].contains("name"))
          if (auto v = c.string(arr[i]["name"], p + "/name")) l.name = *v;
        if (!listener_names.insert(l.name).second)
          c.error(p + "/name", fmt::format("listener \"{}\" is defined twice", l.name));
        l.netns = first_ns;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) l.netns = *v;
        if (arr[i].contains("reliable"))
          if (auto v = c.boolean(arr[i]["reliable"], p + "/reliable")) l.reliable = *v;
        if (arr[i].contains("rcvbuf"))
          if (auto v = c.uint(arr[i]["rcvbuf"], p + "/rcvbuf", 1, 100000000)) l.rcvbuf = static_cast<uint32_t>(*v);
        if (arr[i].contains("read_every"))
          if (auto v = c.duration(arr[i]["read_every"], p + "/read_every", s.hz)) l.read_every = *v;
        if (arr[i].contains("events") && c.is_array(arr[i]["events"], p + "/events")) {
          l.groups = 0;
          const json& ev = arr[i]["events"];
          for (size_t k = 0; k < ev.size(); ++k) {
            auto g = c.one_of(ev[k], fmt::format("{}/events/{}", p, k), scenario_enum("/listeners/*/events/*"));
            if (!g) continue;
            l.groups |= *g == "NEW" ? kGroupNew : *g == "UPDATE" ? kGroupUpdate : kGroupDestroy;
          }
          if (ev.empty()) c.error(p + "/events", "an empty event filter would receive nothing");
        }
        s.listeners.push_back(std::move(l));
      }
    }

    // rules
    if (doc.contains("rules") && c.is_array(doc["rules"], "/rules")) {
      const json& arr = doc["rules"];
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/rules/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        c.only_keys(arr[i], p, scenario_keys("/rules/*"));
        RuleSpec r;
        r.netns = first_ns;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) r.netns = *v;
        if (!arr[i].contains("hook")) c.error(p, "missing \"hook\" (prerouting, input, forward, output or postrouting)");
        else if (auto h = c.one_of(arr[i]["hook"], p + "/hook", scenario_enum("/rules/*/hook"))) {
          r.hook = *h == "prerouting" ? ctcore::NF_INET_PRE_ROUTING
                   : *h == "input"    ? ctcore::NF_INET_LOCAL_IN
                   : *h == "forward"  ? ctcore::NF_INET_FORWARD
                   : *h == "output"   ? ctcore::NF_INET_LOCAL_OUT
                                      : ctcore::NF_INET_POST_ROUTING;
        }
        if (arr[i].contains("match")) {
          if (auto m = c.string(arr[i]["match"], p + "/match")) {
            std::string err;
            size_t col = 0;
            r.match_text = *m;
            if (!parse_rule_match(*m, &r.match, &err, &col))
              c.error(p + "/match", fmt::format("column {}: {}", col + 1, err));
          }
        }
        if (!arr[i].contains("verdict")) c.error(p, "missing \"verdict\" (accept, drop or queue)");
        else if (auto v = c.one_of(arr[i]["verdict"], p + "/verdict", scenario_enum("/rules/*/verdict"))) {
          r.verdict = *v == "accept" ? RuleSpec::Verdict::kAccept
                      : *v == "drop" ? RuleSpec::Verdict::kDrop
                                     : RuleSpec::Verdict::kQueue;
          if (r.verdict == RuleSpec::Verdict::kQueue && !arr[i].contains("delay"))
            c.error(p, "a queue verdict needs \"delay\" (how long the packet is held)");
        }
        if (arr[i].contains("delay")) {
          if (r.verdict != RuleSpec::Verdict::kQueue)
            c.error(p + "/delay", "\"delay\" only applies to the queue verdict", true);
          else if (auto d = c.duration(arr[i]["delay"], p + "/delay", s.hz)) r.delay = *d;
        }
        s.rules.push_back(std::move(r));
      }
    }

    // packets
    if (doc.contains("packets") && c.is_array(doc["packets"], "/packets")) {
      const json& arr = doc["packets"];
      std::string prev_ns = first_ns;
      uint16_t prev_cpu = 0;
      PathKind prev_path = PathKind::kForward;
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/packets/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        c.only_keys(arr[i], p, scenario_keys("/packets/*"));
        PacketEntry e;
        e.netns = prev_ns;
        e.cpu = prev_cpu;
        e.path = prev_path;
        if (!arr[i].contains("at")) c.error(p, "missing \"at\" (when the packet arrives, e.g. \"1ms\")");
        else if (auto t = c.duration(arr[i]["at"], p + "/at", s.hz)) e.at = *t;
        if (arr[i].contains("netns"))
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) e.netns = *v;
        if (arr[i].contains("cpu"))
          if (auto v = c.uint(arr[i]["cpu"], p + "/cpu", 0, s.cpus - 1u)) e.cpu = static_cast<uint16_t>(*v);
        if (arr[i].contains("path"))
          if (auto v = c.one_of(arr[i]["path"], p + "/path", scenario_enum("/packets/*/path")))
            e.path = *v == "forward" ? PathKind::kForward : *v == "input" ? PathKind::kInput : PathKind::kOutput;
        if (!arr[i].contains("pkt")) c.error(p, "missing \"pkt\" (the packet, e.g. \"tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S\")");
        else if (auto text = c.string(arr[i]["pkt"], p + "/pkt")) {
          NotationError err;
          if (!parse_packet(*text, &e.spec, &err)) c.error(p + "/pkt", fmt::format("column {}: {}", err.column + 1, err.message));
        }
        prev_ns = e.netns;
        prev_cpu = e.cpu;
        prev_path = e.path;
        s.packets.push_back(std::move(e));
      }
      std::stable_sort(s.packets.begin(), s.packets.end(),
                       [](const PacketEntry& a, const PacketEntry& b) { return a.at < b.at; });
    }

    // flows
    if (doc.contains("flows") && c.is_array(doc["flows"], "/flows")) {
      const json& arr = doc["flows"];
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/flows/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        const json& f = arr[i];
        c.only_keys(f, p, scenario_keys("/flows/*"));
        FlowSpec fs;
        fs.netns = first_ns;
        fs.path = PathKind::kForward;
        if (!f.contains("kind")) c.error(p, "missing \"kind\" (tcp, udp, icmp or mix)");
        else if (auto k = c.one_of(f["kind"], p + "/kind", scenario_enum("/flows/*/kind")))
          fs.kind = *k == "tcp" ? FlowSpec::Kind::kTcp : *k == "udp" ? FlowSpec::Kind::kUdp
                    : *k == "icmp" ? FlowSpec::Kind::kIcmp : FlowSpec::Kind::kMix;
        if (!f.contains("at")) c.error(p, "missing \"at\" (when the first flow starts)");
        else if (auto t = c.duration(f["at"], p + "/at", s.hz)) fs.at = *t;
        if (f.contains("netns"))
          if (auto v = check_ns(f["netns"], p + "/netns")) fs.netns = *v;
        if (f.contains("path"))
          if (auto v = c.one_of(f["path"], p + "/path", scenario_enum("/flows/*/path")))
            fs.path = *v == "forward" ? PathKind::kForward : *v == "input" ? PathKind::kInput : PathKind::kOutput;
        if (f.contains("cpu")) {
          if (f["cpu"].is_string()) {
            if (f["cpu"].get<std::string>() == "spread") fs.cpu_spread = true;
            else c.error(p + "/cpu", fmt::format("expected a CPU number or \"spread\", found {}", type_name(f["cpu"])));
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
            std::string err;
            if (auto v = parse_rate_nano(*r, &err)) fs.rate_nano = *v;
            else c.error(p + "/rate", err);
          }
        } else if (f.contains("interval")) {
          if (auto t = c.duration(f["interval"], p + "/interval", s.hz)) fs.interval = *t;
        } else if (fs.count > 1) {
          c.error(p, "more than one flow needs \"rate\" (e.g. \"100/s\") or \"interval\"");
        }
        auto endpoint = [&](const char* key, EndpointRange* out) {
          if (!f.contains(key)) {
            c.error(p, fmt::format("missing \"{}\" (an address or prefix with an optional port or range, e.g. \"10.0.0.0/8:1024-65535\")", key));
            return;
          }
          auto text = c.string(f[key], p + "/" + key);
          if (!text) return;
          std::string err;
          if (!parse_endpoint_range(*text, out, &err)) c.error(p + "/" + key, err);
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
            fs.close = *v == "fin" ? FlowSpec::Close::kFin : *v == "rst" ? FlowSpec::Close::kRst : FlowSpec::Close::kNone;
        }
        if (f.contains("reply")) {
          if (fs.kind == FlowSpec::Kind::kTcp)
            c.error(p + "/reply", "\"reply\" applies to udp, icmp (and mix) flows only", true);
          else if (auto v = c.boolean(f["reply"], p + "/reply")) fs.reply = *v;
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
            const char* names[3] = {"tcp", "udp", "icmp"};
            for (int k = 0; k < 3; ++k) {
              fs.weights[k] = 0;
              if (f["weights"].contains(names[k]))
                if (auto v = c.uint(f["weights"][names[k]], p + "/weights/" + names[k], 0, 1'000'000))
                  fs.weights[k] = static_cast<uint32_t>(*v);
            }
            if (fs.weights[0] + fs.weights[1] + fs.weights[2] == 0)
              c.error(p + "/weights", "at least one weight must be above 0");
          }
        }
        s.flows.push_back(std::move(fs));
      }
    }

    // actions
    if (doc.contains("actions") && c.is_array(doc["actions"], "/actions")) {
      const json& arr = doc["actions"];
      for (size_t i = 0; i < arr.size(); ++i) {
        const std::string p = fmt::format("/actions/{}", i);
        if (!c.is_object(arr[i], p)) continue;
        ActionSpec a;
        if (!arr[i].contains("at")) c.error(p, "missing \"at\"");
        else if (auto t = c.duration(arr[i]["at"], p + "/at", s.hz)) a.at = *t;
        if (!arr[i].contains("do")) {
          c.error(p, "missing \"do\" (sysctl, flush, delete, netns_add, netns_del, listener_stall, "
                     "listener_resume, snapshot or stats)");
          continue;
        }
        auto kind = c.one_of(arr[i]["do"], p + "/do", scenario_enum("/actions/*/do"));
        if (!kind) {
          c.only_keys(arr[i], p, scenario_keys("/actions/*"));
          continue;
        }
        const std::string& k = *kind;
        c.only_keys(arr[i], p, scenario_keys("/actions/*?do=" + k));
        auto need = [&](const char* key) -> const json* {
          if (!arr[i].contains(key)) {
            c.error(p, fmt::format("\"{}\" needs \"{}\"", k, key));
            return nullptr;
          }
          return &arr[i][key];
        };
        if (k == "sysctl") {
          a.kind = ActionSpec::Kind::kSysctl;
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
              }
            }
          }
          if (const json* val = need("value")) {
            const SysctlRange r = a.sysctl.info != nullptr
                                      ? sysctl_range(a.sysctl.info->name, a.sysctl.info->jiffies, s.hz)
                                      : SysctlRange{0, 0x7fffffff};
            if (auto v = c.uint(*val, p + "/value", r.lo, r.hi)) a.value = *v;
          }
          a.sysctl.value = a.value;
        } else if (k == "flush" || k == "snapshot") {
          a.kind = k == "flush" ? ActionSpec::Kind::kFlush : ActionSpec::Kind::kSnapshot;
          if (arr[i].contains("netns"))
            if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
        } else if (k == "delete") {
          a.kind = ActionSpec::Kind::kDelete;
          a.netns = first_ns;
          if (arr[i].contains("netns"))
            if (auto v = check_ns(arr[i]["netns"], p + "/netns")) a.netns = *v;
          if (const json* t = need("tuple"))
            if (auto text = c.string(*t, p + "/tuple")) {
              NotationError err;
              a.tuple_text = *text;
              if (!parse_tuple(*text, &a.tuple, &err))
                c.error(p + "/tuple", fmt::format("column {}: {}", err.column + 1, err.message));
            }
        } else if (k == "netns_add") {
          a.kind = ActionSpec::Kind::kNetnsAdd;
          if (const json* n = need("name"))
            if (auto v = c.string(*n, p + "/name")) {
              a.name = *v;
              if (ns_names.count(*v)) c.error(p + "/name", fmt::format("namespace \"{}\" already exists", *v));
            }
          a.hash_mix = draw_u32(s.seed, kStreamHashMix + 500 + i);
          if (arr[i].contains("hash_mix"))
            if (auto v = c.uint(arr[i]["hash_mix"], p + "/hash_mix", 0, 0xffffffffull)) a.hash_mix = static_cast<uint32_t>(*v);
          if (arr[i].contains("sysctl")) read_sysctl_map(c, arr[i]["sysctl"], p + "/sysctl", s.hz, &a.sysctls);
        } else if (k == "netns_del") {
          a.kind = ActionSpec::Kind::kNetnsDel;
          if (const json* n = need("name"))
            if (auto v = check_ns(*n, p + "/name")) a.name = *v;
        } else if (k == "listener_stall" || k == "listener_resume") {
          a.kind = k == "listener_stall" ? ActionSpec::Kind::kListenerStall : ActionSpec::Kind::kListenerResume;
          if (const json* n = need("listener"))
            if (auto v = c.string(*n, p + "/listener")) {
              a.name = *v;
              if (!listener_names.count(*v)) {
                std::vector<std::string> names(listener_names.begin(), listener_names.end());
                c.error(p + "/listener", fmt::format("no listener \"{}\"{}", *v, did_you_mean(*v, names)));
              }
            }
        } else {
          a.kind = ActionSpec::Kind::kStats;
        }
        s.actions.push_back(std::move(a));
      }
      std::stable_sort(s.actions.begin(), s.actions.end(),
                       [](const ActionSpec& a, const ActionSpec& b) { return a.at < b.at; });
    }
    if (doc.contains("until"))
      if (auto t = c.duration(doc["until"], "/until", s.hz)) s.until = *t;
  }

  if (c.ok()) return Status::OK();
  // In document order, so the messages read top to bottom like the file.
  std::vector<std::pair<size_t, const Checker::Error*>> placed;
  for (const auto& e : c.errors()) {
    size_t offset = 0;
    auto it = positions.find(e.at_key ? e.pointer + "#key" : e.pointer);
    if (it == positions.end()) it = positions.find(e.pointer);
    if (it != positions.end()) offset = it->second;
    placed.emplace_back(offset, &e);
  }
  std::stable_sort(placed.begin(), placed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string msg;
  for (const auto& [offset, e] : placed) {
    LineCol lc = line_col_at(text, offset);
    if (!msg.empty()) msg += "\n";
    msg += fmt::format("{}:{}:{}: {}: {}", file, lc.line, lc.col, e->pointer.empty() ? "/" : e->pointer, e->message);
  }
  return Status::InvalidArgument(msg);
}

Status load_scenario(const std::string& path, Scenario* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open the scenario file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("{}: read error", path));
  return parse_scenario(path, ss.str(), out);
}

}  // namespace ctsim
