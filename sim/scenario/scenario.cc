// Scenario loading: syntax through nlohmann/json, then a strict walk, one
// loader per section (scenario_<section>.cc), that collects every problem
// with its JSON pointer (leveldb's VersionEdit pattern: record which field
// failed, report once), then one report in document order.
#include "sim/scenario/scenario.h"

// GCC 12's -Warray-bounds false positive under inlined nlohmann::json
// object iteration (see sim/scenario/scenario_load.h); it has to be off
// before <nlohmann/json.hpp> is seen here.
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
#include "sim/scenario/json_document.h"
#include "sim/scenario/json_positions.h"
#include "sim/scenario/scenario_checker.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

namespace {

// The scenario nests four levels deep; refusing absurd depth up front keeps
// every later walk (the parser's, the position index's) shallow.
constexpr size_t kMaxNesting = 32;

}  // namespace

Status parse_json(const std::string& file, const std::string& text, json* doc) {
  if (const NestingDepth d = json_nesting_depth(text); d.max > kMaxNesting) {
    LineCol lc = line_col_at(text, d.offset);
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: objects and arrays nest deeper than {} levels (a scenario needs 4)", file, lc.line,
                    lc.col, kMaxNesting));
  }
  try {
    *doc = json::parse(text);
  } catch (const json::parse_error& e) {
    LineCol lc = line_col_at(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    size_t colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return Status::InvalidArgument(fmt::format("{}:{}:{}: invalid JSON: {}", file, lc.line, lc.col, detail));
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
    return Status::InvalidArgument(fmt::format("{}:{}:{}: invalid JSON: {}", file, lc.line, lc.col, detail));
  }
  return Status::OK();
}

namespace {

// The top level's own fields (all but the sections).
void load_header(Checker& c, const json& doc, const std::string& file, Scenario* out) {
  Scenario& s = *out;
  if (doc.contains("ctsim")) (void)c.uint(doc["ctsim"], "/ctsim", 1, 1);
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
  if (doc.contains("hook_time"))
    if (auto v = c.duration(doc["hook_time"], "/hook_time", s.hz)) s.hook_time = *v;
}

}  // namespace

std::string render_errors(const std::string& file, const std::string& text, const Checker& c,
                          const std::map<std::string, size_t>& positions) {
  std::vector<std::pair<size_t, const Checker::Error*>> placed;
  for (const auto& e : c.errors()) {
    size_t offset = 0;
    auto it = positions.find(e.at_key ? e.pointer + "#key" : e.pointer);
    if (it == positions.end()) it = positions.find(e.pointer);
    if (it != positions.end()) offset = it->second;
    placed.emplace_back(offset, &e);
  }
  std::stable_sort(placed.begin(), placed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<size_t> offsets;
  for (const auto& [offset, e] : placed) offsets.push_back(offset);
  const std::vector<LineCol> where = line_cols_at(text, offsets);
  std::string msg;
  for (size_t i = 0; i < placed.size(); ++i) {
    const Checker::Error& e = *placed[i].second;
    if (!msg.empty()) msg += "\n";
    msg += fmt::format("{}:{}:{}: {}: {}", file, where[i].line, where[i].col, e.pointer.empty() ? "/" : e.pointer,
                       e.message);
  }
  return msg;
}

Status parse_scenario(const std::string& file, const std::string& text, Scenario* out,
                      const ScenarioLoadOptions& options) {
  *out = Scenario{};
  out->file = file;
  json doc;
  if (Status st = parse_json(file, text, &doc); !st.ok()) return st;

  Checker c;
  Scenario& s = *out;
  std::vector<std::string> duplicates;
  const auto positions = index_json_positions(text, &duplicates);
  for (const std::string& d : duplicates)
    c.error(d, "this key appears twice in the same object (JSON would keep only the last)", true);
  if (c.is_object(doc, "")) {
    c.only_keys(doc, "", scenario_keys(""));
    c.required_keys(doc, "", "");
    load_header(c, doc, file, &s);
    load_kernel(c, doc, options.kernel, &s);
    load_table(c, doc, &s);
    const std::set<std::string> ns_names = load_namespaces(c, doc, &s);
    const NamespacePlan plan = plan_namespaces(doc, s.hz, ns_names);
    const std::string first_ns = s.namespaces.empty() ? "init" : s.namespaces[0].name;
    std::set<std::string> listener_names;  // filled by the listeners section
    LoadContext x{c, s, plan.all, ns_names, listener_names, first_ns, plan.added_at};
    load_listeners(x, doc, &listener_names);
    load_rules(x, doc);
    load_packets(x, doc);
    load_flows(x, doc);
    load_captures(x, doc);
    load_actions(x, doc);
    load_verify(c, doc, &s);
    if (doc.contains("until"))
      if (auto t = c.duration(doc["until"], "/until", s.hz)) s.until = *t;
  }
  if (c.ok()) return Status::OK();
  return Status::InvalidArgument(render_errors(file, text, c, positions));
}

Status load_scenario(const std::string& path, Scenario* out, const ScenarioLoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open the scenario file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("{}: read error", path));
  return parse_scenario(path, ss.str(), out, options);
}

}  // namespace ctsim
