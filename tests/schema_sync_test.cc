// scenarios/schema.json (JSON Schema 2020-12, for editors) must say what the
// loader says: at every level the same keys and required keys as the
// loader's table (sim/scenario/scenario_keys.h), the same enumerations, the same
// per-namespace sysctls as core's table, a description on every key; and
// every scenario under scenarios/ must validate against it and load.
//
// The same for scenarios/sweep-schema.json and the sweep files under
// scenarios/sweeps/ (the sweep loader: sim/sweep/sweep_spec.h).
//
// The validator below covers the subset of JSON Schema the files use:
// type (a name or a list), const, enum, required, properties,
// additionalProperties (false or a schema), propertyNames, minProperties,
// items, minItems, maxItems, minLength, minimum, maximum, exclusiveMinimum,
// pattern, oneOf, allOf, if/then, local $ref and "schema.json" (the
// scenario schema, which the sweep schema refers to).
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/nf_conntrack_sysctl.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_checker.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/run_util.h"

using nlohmann::json;

namespace {

const json& schema() {
  static const json s = json::parse(ctest::read_file(ctest::source_path("scenarios/schema.json")));
  return s;
}

const json& deref(const json& node) {
  if (node.is_object() && node.contains("$ref")) {
    const std::string ref = node["$ref"].get<std::string>();
    if (ref == "schema.json") return schema();
    REQUIRE(ref.rfind("#/", 0) == 0);
    return deref(schema().at(json::json_pointer(ref.substr(1))));
  }
  return node;
}

bool type_ok(const std::string& t, const json& v) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  return false;
}

double num(const json& v) { return v.get<double>(); }

// Appends "pointer: what" for each violation of `sch` by `v`.
void validate(const json& sch_in, const json& v, const std::string& ptr, std::vector<std::string>* errs) {
  const json& sch = deref(sch_in);
  auto err = [&](const std::string& what) { errs->push_back((ptr.empty() ? "/" : ptr) + ": " + what); };
  if (sch.contains("$ref")) validate(sch["$ref"], v, ptr, errs);
  if (sch.contains("type")) {
    bool ok = false;
    for (const json& t : sch["type"].is_array() ? sch["type"] : json::array({sch["type"]}))
      ok = ok || type_ok(t.get<std::string>(), v);
    if (!ok) {
      err("not of type " + sch["type"].dump());
      return;
    }
  }
  if (sch.contains("const") && v != sch["const"]) err("not " + sch["const"].dump());
  if (sch.contains("enum")) {
    bool found = false;
    for (const json& e : sch["enum"]) found = found || e == v;
    if (!found) err(v.dump() + " not in enum");
  }
  if (v.is_number()) {
    if (sch.contains("minimum") && num(v) < num(sch["minimum"])) err("below minimum");
    if (sch.contains("maximum") && num(v) > num(sch["maximum"])) err("above maximum");
    if (sch.contains("exclusiveMinimum") && num(v) <= num(sch["exclusiveMinimum"])) err("not above the minimum");
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (sch.contains("minLength") && s.size() < sch["minLength"].get<size_t>()) err("too short");
    if (sch.contains("pattern") && !std::regex_search(s, std::regex(sch["pattern"].get<std::string>())))
      err("\"" + s + "\" does not match the pattern");
  }
  if (v.is_array()) {
    if (sch.contains("minItems") && v.size() < sch["minItems"].get<size_t>()) err("too few items");
    if (sch.contains("maxItems") && v.size() > sch["maxItems"].get<size_t>()) err("too many items");
    if (sch.contains("items"))
      for (size_t i = 0; i < v.size(); ++i) validate(sch["items"], v[i], ptr + "/" + std::to_string(i), errs);
  }
  if (v.is_object()) {
    if (sch.contains("required"))
      for (const json& k : sch["required"])
        if (!v.contains(k.get<std::string>())) err("missing " + k.get<std::string>());
    if (sch.contains("minProperties") && v.size() < sch["minProperties"].get<size_t>()) err("too few members");
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string p = ptr + "/" + it.key();
      if (sch.contains("properties") && sch["properties"].contains(it.key()))
        validate(sch["properties"][it.key()], it.value(), p, errs);
      else if (sch.contains("additionalProperties") && sch["additionalProperties"].is_object())
        validate(sch["additionalProperties"], it.value(), p, errs);
      else if (sch.value("additionalProperties", true) == false)
        errs->push_back(p + ": not allowed");
      if (sch.contains("propertyNames")) validate(sch["propertyNames"], it.key(), p, errs);
    }
  }
  if (sch.contains("oneOf")) {
    int ok = 0;
    for (const json& alt : sch["oneOf"]) {
      std::vector<std::string> sub;
      validate(alt, v, ptr, &sub);
      ok += sub.empty();
    }
    if (ok != 1) err("matches " + std::to_string(ok) + " of oneOf");
  }
  if (sch.contains("allOf"))
    for (const json& part : sch["allOf"]) validate(part, v, ptr, errs);
  if (sch.contains("if")) {
    std::vector<std::string> cond;
    validate(sch["if"], v, ptr, &cond);
    if (cond.empty() && sch.contains("then")) validate(sch["then"], v, ptr, errs);
  }
}

std::vector<std::string> validate(const json& doc) {
  std::vector<std::string> errs;
  validate(schema(), doc, "", &errs);
  return errs;
}

// The schema node that describes the loader level `pointer` ("/flows/*").
const json& node_at(const std::string& pointer) {
  const json* n = &schema();
  size_t i = 1;
  while (i <= pointer.size() && !pointer.empty()) {
    size_t next = pointer.find('/', i);
    const std::string tok = pointer.substr(i, next == std::string::npos ? std::string::npos : next - i);
    n = &deref(*n);
    if (tok == "*")
      n = &(*n)["items"];
    else
      n = &(*n)["properties"][tok];
    if (next == std::string::npos) break;
    i = next + 1;
  }
  return deref(*n);
}

std::set<std::string> keys_of(const json& obj) {
  std::set<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.insert(it.key());
  return out;
}

std::set<std::string> strings(const json& arr) {
  std::set<std::string> out;
  for (const json& s : arr) out.insert(s.get<std::string>());
  return out;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("schema keys and required keys match the loader's table, level by level") {
  int levels = 0;
  for (const ctsim::ScenarioLevel& l : ctsim::scenario_key_table()) {
    CAPTURE(l.pointer);
    const size_t q = l.pointer.find("?do=");
    if (q == std::string::npos) {
      const json& n = node_at(l.pointer);
      REQUIRE(n.contains("properties"));
      CHECK(keys_of(n["properties"]) == as_set(l.keys));
      CHECK(strings(n.value("required", json::array())) == as_set(l.required));
      CHECK(n.value("additionalProperties", true) == false);
    } else {
      // One action kind: an allOf entry "if do == X then only these keys".
      const std::string kind = l.pointer.substr(q + 4);
      const json& n = node_at(l.pointer.substr(0, q));
      int found = 0;
      for (const json& part : n["allOf"]) {
        if (part["if"]["properties"]["do"]["const"] != kind) continue;
        ++found;
        CHECK(strings(part["then"]["propertyNames"]["enum"]) == as_set(l.keys));
        CHECK(strings(part["then"]["required"]) == as_set(l.required));
      }
      CHECK(found == 1);
    }
    ++levels;
  }
  CHECK(levels == static_cast<int>(ctsim::scenario_key_table().size()));
  // And no action kind in the schema that the loader lacks.
  CHECK(node_at("/actions/*")["allOf"].size() == ctsim::scenario_enum("/actions/*/do").size());
}

TEST_CASE("schema names follow the loader's identifier rule") {
  const std::string pattern = "^[A-Za-z0-9_.-]{1," + std::to_string(ctsim::Checker::kMaxNameLength) + "}$";
  for (const char* at : {"/namespaces/*/name", "/listeners/*/name", "/actions/*/name"}) {
    CAPTURE(at);
    CHECK(node_at(at).value("pattern", "") == pattern);
  }
}

TEST_CASE("schema enumerations match the loader's") {
  for (const ctsim::ScenarioEnum& e : ctsim::scenario_enum_table()) {
    CAPTURE(e.pointer);
    const json& n = node_at(e.pointer);
    REQUIRE(n.contains("enum"));
    std::vector<std::string> in_schema;
    for (const json& s : n["enum"]) in_schema.push_back(s.get<std::string>());
    CHECK(in_schema == e.values);
  }
}

TEST_CASE("the schema's sysctl map is core's per-namespace sysctl table") {
  std::set<std::string> core;
  for (const auto& info : ctcore::nf_conntrack_sysctl_table()) core.insert(info.name);
  CHECK(keys_of(schema()["$defs"]["sysctl"]["properties"]) == core);
}

TEST_CASE("every key in the schema has a description") {
  std::vector<std::string> missing;
  std::function<void(const json&, const std::string&)> walk = [&](const json& n, const std::string& at) {
    if (!n.is_object()) return;
    if (n.contains("properties"))
      for (auto it = n["properties"].begin(); it != n["properties"].end(); ++it) {
        if (!it.value().contains("description")) missing.push_back(at + "/" + it.key());
        walk(it.value(), at + "/" + it.key());
      }
    if (n.contains("items")) walk(n["items"], at + "/*");
    if (n.contains("$defs"))
      for (auto it = n["$defs"].begin(); it != n["$defs"].end(); ++it) walk(it.value(), "#" + it.key());
  };
  walk(schema(), "");
  CHECK(missing.empty());
  for (const std::string& m : missing) MESSAGE(m);
}

TEST_CASE("every scenario under scenarios/ and tests/kernel/ validates against the schema and loads") {
  int n = 0;
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"scenarios", "tests/kernel"})
    for (const auto& entry : std::filesystem::directory_iterator(ctest::source_path(dir)))
      files.push_back(entry.path());
  for (const std::filesystem::path& path : files) {
    const std::string name = path.filename().string();
    if (path.extension() != ".json" || name == "schema.json" || name == "sweep-schema.json") continue;
    CAPTURE(path.string());
    const std::string text = ctest::read_file(path.string());
    const std::vector<std::string> errs = validate(json::parse(text));
    CHECK(errs.empty());
    for (const std::string& e : errs) MESSAGE(e);
    ctsim::Scenario s;
    ctsim::Status st = ctsim::parse_scenario(name, text, &s);
    INFO(st.message());
    CHECK(st.ok());
    ++n;
  }
  CHECK(n >= 26);  // scenarios/seed-walkthrough.json and the 25 or more of tests/kernel/
}

TEST_CASE("the schema validator rejects what the loader rejects (a sample)") {
  const char* kBad[] = {
      R"({})",
      R"({"ctsim": 2})",
      R"({"ctsim": 1, "pakets": []})",
      R"({"ctsim": 1, "until": "10"})",
      R"({"ctsim": 1, "namespaces": [{"name": "a", "sysctl": {"nf_conntrack_tcp_be_liberal": 2}}]})",
      R"({"ctsim": 1, "flows": [{"at": "0s", "kind": "tpc", "src": "1.1.1.1", "dst": "2.2.2.2:80"}]})",
      R"({"ctsim": 1, "flows": [{"at": "0s", "kind": "tcp", "loss": 1.5, "src": "1.1.1.1", "dst": "2.2.2.2:80"}]})",
      R"({"ctsim": 1, "actions": [{"at": "1s", "do": "flush", "tuple": "udp 1.2.3.4:1 > 5.6.7.8:2"}]})",
      R"({"ctsim": 1, "actions": [{"at": "1s", "do": "sysctl", "key": "nf_conntrack_udp_timeout"}]})",
      R"({"ctsim": 1, "listeners": [{"events": ["NEW", "DESTORY"]}]})",
      R"({"ctsim": 1, "rules": [{"hook": "forward"}]})",
      R"({"ctsim": 1, "flows": [{"at": "0s", "kind": "udp", "cpu": "spred", "src": "1.1.1.1", "dst": "2.2.2.2:80"}]})",
  };
  for (const char* text : kBad) {
    CAPTURE(text);
    CHECK_FALSE(validate(json::parse(text)).empty());
    ctsim::Scenario s;
    CHECK_FALSE(ctsim::parse_scenario("bad.json", text, &s).ok());
  }
  const char* kGood =
      R"({"ctsim": 1, "initial_jiffies": 0, "namespaces": [{"name": "init", "sysctl": {"nf_conntrack_udp_timeout": 10}}],
      "listeners": [{"name": "ev", "events": ["DESTROY"], "read_every": "j:25"}],
      "rules": [{"hook": "forward", "match": "tcp dport 23", "verdict": "queue", "delay": "2ms"}],
      "flows": [{"at": "1.5s", "kind": "mix", "count": 10, "rate": "2.5/s", "cpu": "spread", "src": "[2001:db8::/32]:1024-65535",
                 "dst": "[2001:db8::1]:443", "weights": {"tcp": 1}}],
      "actions": [{"at": "1s", "do": "delete", "tuple": "tcp 1.2.3.4:1 > 5.6.7.8:2"}, {"at": "2s", "do": "stats"}],
      "until": "1min"})";
  CHECK(validate(json::parse(kGood)).empty());
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("good.json", kGood, &s);
  INFO(st.message());
  CHECK(st.ok());
}

// docs/SCENARIO.md is the user's reference of the format: every property
// name of the schema, at every depth ($defs, sysctls and action keys
// included), must appear there as `key` in backticks.
TEST_CASE("docs/SCENARIO.md documents every key of the schema") {
  const std::string doc = ctest::read_file(ctest::source_path("docs/SCENARIO.md"));
  REQUIRE(!doc.empty());
  std::set<std::string> keys;
  std::function<void(const json&)> walk = [&](const json& n) {
    if (n.is_object()) {
      if (n.contains("properties") && n["properties"].is_object())
        for (auto it = n["properties"].begin(); it != n["properties"].end(); ++it) keys.insert(it.key());
      for (const auto& v : n) walk(v);
    } else if (n.is_array()) {
      for (const auto& v : n) walk(v);
    }
  };
  walk(schema());
  CHECK(keys.size() > 40);
  std::vector<std::string> missing;
  for (const std::string& k : keys)
    if (doc.find("`" + k + "`") == std::string::npos) missing.push_back(k);
  for (const std::string& m : missing) MESSAGE("not documented in docs/SCENARIO.md: `" << m << "`");
  CHECK(missing.empty());
}

namespace {

const json& sweep_schema() {
  static const json s = json::parse(ctest::read_file(ctest::source_path("scenarios/sweep-schema.json")));
  return s;
}

std::vector<std::string> validate_sweep(const json& doc) {
  std::vector<std::string> errs;
  validate(sweep_schema(), doc, "", &errs);
  return errs;
}

}  // namespace

TEST_CASE("every sweep file under scenarios/sweeps/ validates against the sweep schema and loads") {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ctest::source_path("scenarios/sweeps"))) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    const std::vector<std::string> errs = validate_sweep(json::parse(ctest::read_file(entry.path().string())));
    CHECK(errs.empty());
    for (const std::string& e : errs) MESSAGE(e);
    ctsim::sweep::SweepSpec s;
    ctsim::Status st = ctsim::sweep::load_sweep(entry.path().string(), &s);
    INFO(st.message());
    CHECK(st.ok());
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("the sweep schema's metric statistics are the loader's, and it rejects what the loader rejects") {
  std::set<std::string> stats;
  for (const json& alt : sweep_schema()["properties"]["metrics"]["additionalProperties"]["oneOf"])
    if (alt["properties"].contains("stat")) stats = strings(alt["properties"]["stat"]["enum"]);
  CHECK(stats == as_set(ctsim::sweep::end_stat_names()));
  const std::string base =
      R"("scenario": { "ctsim": 1, "table": { "max": 8 } }, "metrics": { "d": { "stat": "drop" } })";
  const char* kBad[] = {
      R"("axes": { "table/max": [1] })",                      // not a pointer, not seed
      R"("axes": { "/table/max": [] })",                      // no values
      R"("axes": { "/table/max": { "from": 1, "to": 2 } })",  // no steps
      R"("axes": { "/table/max": [1] }, "extra": 1)",         // unknown key
      R"("axes": { "seed": { "count": 0 } })",                // no seeds
  };
  for (const char* bad : kBad) {
    CAPTURE(bad);
    const std::string text = std::string("{ \"ctsim_sweep\": 1, ") + bad + ", " + base + " }";
    CHECK_FALSE(validate_sweep(json::parse(text)).empty());
    ctsim::sweep::SweepSpec s;
    CHECK_FALSE(ctsim::sweep::parse_sweep("bad.json", text, &s).ok());
  }
  const char* kBadMetric = R"({ "ctsim_sweep": 1, "scenario": { "ctsim": 1 }, "axes": { "seed": [1] },
      "metrics": { "d": { "stat": "drop", "reduce": "max" } } })";
  CHECK_FALSE(validate_sweep(json::parse(kBadMetric)).empty());
  ctsim::sweep::SweepSpec s;
  CHECK_FALSE(ctsim::sweep::parse_sweep("bad.json", kBadMetric, &s).ok());
}
