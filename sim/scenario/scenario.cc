// Scenario loading: syntax through nlohmann/json, then a strict walk that
// collects every problem with its JSON pointer (leveldb's VersionEdit
// pattern: record which field failed, report once).
#include "sim/scenario/scenario.h"

// GCC 12 reports -Warray-bounds inside std::map::begin() when it inlines
// nlohmann::json object iteration at -O2: a known false positive (GCC bug
// 105705 family); nothing here indexes an array.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/clock.h"
#include "sim/scenario/json_positions.h"
#include "sim/engine/rng.h"
#include "sim/scenario/scenario_checker.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

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
    c.error(ptr, fmt::format("namespace \"{}\" does not exist yet: the netns_add that creates it runs at \"{}\"",
                             ns, it->second.second));
}

void LoadContext::check_from_start(const std::string& ns, const std::string& ptr) const {
  if (added_at.count(ns))
    c.error(ptr, fmt::format("namespace \"{}\" is created by a netns_add action, but listeners and rules are "
                             "set up at the start: list it in \"namespaces\"",
                             ns));
}

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
      if (t.contains("exact_walks"))
        if (auto v = c.boolean(t["exact_walks"], "/table/exact_walks")) s.exact_walks = *v;
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
    std::map<std::string, std::pair<SimTime, std::string>> added_at;
    if (doc.contains("actions") && doc["actions"].is_array()) {
      for (const json& a : doc["actions"]) {
        if (!a.is_object() || !a.contains("do") || a["do"] != "netns_add" || !a.contains("name") ||
            !a["name"].is_string())
          continue;
        const std::string name = a["name"].get<std::string>();
        all_ns.insert(name);
        std::string ignored;  // a bad "at" is reported with the action
        std::optional<SimTime> at;
        if (a.contains("at") && a["at"].is_string()) at = parse_duration(a["at"].get<std::string>(), s.hz, &ignored);
        if (!at || ns_names.count(name)) continue;
        auto it = added_at.find(name);
        if (it == added_at.end() || *at < it->second.first) added_at[name] = {*at, a["at"].get<std::string>()};
      }
    }
    const std::string first_ns = s.namespaces.empty() ? "init" : s.namespaces[0].name;
    std::set<std::string> listener_names;  // filled by the listeners section
    LoadContext x{c, s, all_ns, ns_names, listener_names, first_ns, added_at};
    auto check_ns = [&](const json& j, const std::string& p) { return x.check_ns(j, p); };

    // listeners
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
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) {
            l.netns = *v;
            x.check_from_start(l.netns, p + "/netns");
          }
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
          if (auto v = check_ns(arr[i]["netns"], p + "/netns")) {
            r.netns = *v;
            x.check_from_start(r.netns, p + "/netns");
          }
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
        if (!arr[i].contains("verdict")) c.error(p, "missing \"verdict\" (accept, drop, queue, dnat or snat)");
        else if (auto v = c.one_of(arr[i]["verdict"], p + "/verdict", scenario_enum("/rules/*/verdict"))) {
          r.verdict = *v == "accept" ? RuleSpec::Verdict::kAccept
                      : *v == "drop" ? RuleSpec::Verdict::kDrop
                      : *v == "queue" ? RuleSpec::Verdict::kQueue
                      : *v == "dnat" ? RuleSpec::Verdict::kDnat
                                     : RuleSpec::Verdict::kSnat;
          if (r.verdict == RuleSpec::Verdict::kQueue && !arr[i].contains("delay"))
            c.error(p, "a queue verdict needs \"delay\" (how long the packet is held)");
          // NAT decides the destination before routing, the source after.
          const bool dst_hook = r.hook == ctcore::NF_INET_PRE_ROUTING || r.hook == ctcore::NF_INET_LOCAL_OUT;
          const bool src_hook = r.hook == ctcore::NF_INET_POST_ROUTING || r.hook == ctcore::NF_INET_LOCAL_IN;
          if (r.verdict == RuleSpec::Verdict::kDnat && !dst_hook)
            c.error(p + "/verdict", "dnat works at the prerouting and output hooks only");
          if (r.verdict == RuleSpec::Verdict::kSnat && !src_hook)
            c.error(p + "/verdict", "snat works at the postrouting and input hooks only");
          if (r.is_nat() && !arr[i].contains("to"))
            c.error(p, fmt::format("a {} verdict needs \"to\" (the address to map to, e.g. \"10.1.0.1:53\")", *v));
        }
        if (arr[i].contains("to")) {
          if (!r.is_nat()) {
            c.error(p + "/to", "\"to\" only applies to the dnat and snat verdicts", true);
          } else {
            std::vector<std::pair<std::string, std::string>> texts;  // (pointer, text)
            const json& to = arr[i]["to"];
            if (to.is_array()) {
              if (to.empty()) c.error(p + "/to", "an empty list maps nothing");
              for (size_t k = 0; k < to.size(); ++k)
                if (auto t = c.string(to[k], fmt::format("{}/to/{}", p, k))) texts.emplace_back(fmt::format("{}/to/{}", p, k), *t);
            } else if (auto t = c.string(to, p + "/to")) {
              texts.emplace_back(p + "/to", *t);
            }
            for (const auto& [ptr, text] : texts) {
              EndpointRange e;
              std::string err;
              if (!parse_endpoint_range(text, &e, &err)) {
                c.error(ptr, err);
                continue;
              }
              if (e.prefix_len != (e.l3num == ctcore::NFPROTO_IPV4 ? 32 : 128)) {
                c.error(ptr, fmt::format("\"{}\": NAT maps to one address, not a prefix", text));
                continue;
              }
              ctcore::nf_nat_range nr;
              nr.l3num = e.l3num;
              nr.addr = e.addr;
              nr.has_port = e.has_port;
              nr.port_lo = e.port_lo;
              nr.port_hi = e.port_hi;
              r.to.push_back(nr);
            }
          }
        }
        if (arr[i].contains("at"))
          if (auto t = c.duration(arr[i]["at"], p + "/at", s.hz)) r.at = *t;
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
        x.check_exists_at(e.netns, e.at, p);
        s.packets.push_back(std::move(e));
      }
      std::stable_sort(s.packets.begin(), s.packets.end(),
                       [](const PacketEntry& a, const PacketEntry& b) { return a.at < b.at; });
    }

    load_flows(x, doc);
    load_actions(x, doc);
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
  // One pass over the text for all positions (offsets ascend).
  std::string msg;
  LineCol lc;
  size_t at = 0;
  for (const auto& [offset, e] : placed) {
    for (; at < offset && at < text.size(); ++at) {
      if (text[at] == '\n') {
        ++lc.line;
        lc.col = 1;
      } else {
        ++lc.col;
      }
    }
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
