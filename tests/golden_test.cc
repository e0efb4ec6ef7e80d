// Golden regression and determinism over every scenario under scenarios/.
//
// The scenarios are discovered when the test runs (not when it is built),
// so a scenario added later is covered without touching this file. For
// each scenarios/<rel>.json:
//   - it runs with --check (invariants after every event) and exits 0;
//   - its trace equals tests/golden/<rel>.jsonl by `ctsim diff`;
//   - its event stream equals tests/golden/<rel>.events byte for byte;
//   - a second run gives the same bytes (trace and events).
// A missing golden fails with the command that creates it.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

// Every scenario, relative to scenarios/ and without ".json".
std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  const std::string dir = "scenarios/", ext = ".json";
  for (const std::string& path : repo_scenarios())
    out.push_back(path.substr(dir.size(), path.size() - dir.size() - ext.size()));
  return out;
}

// The first line where a and b differ, for a readable failure.
std::string first_line_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    const bool ga = static_cast<bool>(std::getline(ia, la));
    const bool gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) return "(they differ only in the final newline)";
    if (ga != gb || la != lb) {
      return "line " + std::to_string(n) + ":\n  expected: " + (ga ? la : "(end of file)") +
             "\n  actual:   " + (gb ? lb : "(end of file)");
    }
  }
}

struct Outputs {
  int code = -1;
  std::string err, trace_path, trace, events;
};

Outputs run_scenario(const std::string& name, const std::string& dir, const std::string& tag, bool check) {
  Outputs o;
  o.trace_path = dir + "/" + tag + ".jsonl";
  const std::string events = dir + "/" + tag + ".events";
  RunResult r = run_ctsim("run '" + source_path("scenarios/" + name + ".json") + "'" + (check ? " --check" : "") +
                          " --quiet --trace " + o.trace_path + " --events " + events);
  o.code = r.code;
  o.err = r.err;
  o.trace = read_file(o.trace_path);
  o.events = read_file(events);
  return o;
}

}  // namespace

TEST_CASE("golden: every scenario matches its golden trace and event stream") {
  const auto names = scenario_names();
  REQUIRE_MESSAGE(!names.empty(), "no scenarios found under scenarios/");
  CHECK(std::find(names.begin(), names.end(), "seed-walkthrough") != names.end());
  for (const std::string& name : names) {
    CAPTURE(name);
    const std::string dir = temp_dir();
    Outputs o = run_scenario(name, dir, "run", true);
    CHECK_MESSAGE(o.code == 0, "ctsim run --check failed: " << o.err);
    const std::string golden = source_path("tests/golden/" + name);
    if (!file_exists(golden + ".jsonl") || !file_exists(golden + ".events")) {
      FAIL_CHECK("no golden for scenarios/" << name << ".json: run `make goldens` to create tests/golden/" << name
                                            << ".jsonl and .events, check them, and commit them");
      continue;
    }
    RunResult d = run_ctsim("diff " + golden + ".jsonl " + o.trace_path);
    CHECK_MESSAGE(d.code == 0, "trace differs from tests/golden/" << name << ".jsonl (exit " << d.code << "):\n"
                                                                  << d.out << d.err
                                                                  << "If the change is intended, run `make goldens` "
                                                                     "and explain the behaviour change in the "
                                                                     "commit message.");
    const std::string want_events = read_file(golden + ".events");
    const bool same_events = o.events == want_events;
    CHECK_MESSAGE(same_events, "event stream differs from tests/golden/"
                                   << name << ".events at " << first_line_difference(want_events, o.events));
  }
}

TEST_CASE("trace: a verdict's hook and reason on every path, with and without another output watching packets") {
  // With the trace the only watcher, Outputs takes its fast path and a
  // core verdict's tail comes from a memo kept by its words' addresses;
  // with --explain on as well, every step goes through the general path.
  // The goldens are forwarded packets only: here each path's two verdict
  // steps (four different tails) and a rule's verdict, in turn.
  const std::string dir = temp_dir();
  const std::string scenario = dir + "/paths.json";
  {
    std::ofstream f(scenario);
    f << R"({ "ctsim": 1, "name": "paths", "seed": 1, "hz": 250, "cpus": 1,
      "table": { "buckets": 64, "max": 256, "hash_rnd": 1 },
      "namespaces": [ { "name": "init", "hash_mix": 0 } ],
      "rules": [ { "netns": "init", "hook": "forward", "match": "udp dport 99", "verdict": "drop" } ],
      "packets": [
        { "at": "0ms", "netns": "init", "cpu": 0, "path": "forward", "pkt": "udp 10.0.0.1:1000 > 10.0.0.2:53 len 8" },
        { "at": "1ms", "netns": "init", "cpu": 0, "path": "input", "pkt": "udp 10.0.0.3:1000 > 10.0.0.4:53 len 8" },
        { "at": "2ms", "netns": "init", "cpu": 0, "path": "output", "pkt": "udp 10.0.0.4:2000 > 10.0.0.5:53 len 8" },
        { "at": "3ms", "netns": "init", "cpu": 0, "path": "input", "pkt": "udp 10.0.0.6:1000 > 10.0.0.4:53 len 8" },
        { "at": "4ms", "netns": "init", "cpu": 0, "path": "forward", "pkt": "udp 10.0.0.1:1000 > 10.0.0.2:99 len 8" }
      ],
      "until": "1s" })";
  }
  auto verdicts = [&](const std::string& extra) {
    const RunResult r = run_ctsim("run " + scenario + " --quiet --trace " + dir + "/t.jsonl" + extra);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string trace = read_file(dir + "/t.jsonl");
    std::vector<std::string> found;
    const std::regex verdict(R"re("kind":"verdict".*"hook":"(\w+)","verdict":"(\w+)","reason":"((?:[^"\\]|\\.)*)")re");
    std::istringstream in(trace);
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, verdict)) found.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str());
    }
    return std::make_pair(found, trace);
  };
  const std::vector<std::string> want = {
      "prerouting accept nf_conntrack_in", "postrouting accept nf_conntrack_confirm",  // forward
      "prerouting accept nf_conntrack_in", "input accept nf_conntrack_confirm",        // input
      "output accept nf_conntrack_in",     "postrouting accept nf_conntrack_confirm",  // output
      "prerouting accept nf_conntrack_in", "input accept nf_conntrack_confirm",        // input again
      "prerouting accept nf_conntrack_in", R"(forward drop rule \"udp dport 99\")",  // a rule's reason
  };
  const auto alone = verdicts("");
  CHECK(alone.first == want);
  const auto both = verdicts(" --explain " + dir + "/t.explain");
  CHECK(both.second == alone.second);
}

TEST_CASE("determinism: every scenario run twice gives the same bytes") {
  for (const std::string& name : scenario_names()) {
    CAPTURE(name);
    const std::string dir = temp_dir();
    // Without --check: the golden test above already checks invariants.
    Outputs a = run_scenario(name, dir, "a", false);
    Outputs b = run_scenario(name, dir, "b", false);
    REQUIRE(a.code == 0);
    CHECK(!a.trace.empty());
    const bool same_trace = a.trace == b.trace, same_events = a.events == b.events;
    CHECK_MESSAGE(same_trace, "trace differs between two runs at " << first_line_difference(a.trace, b.trace));
    CHECK_MESSAGE(same_events, "events differ between two runs at " << first_line_difference(a.events, b.events));
  }
}
