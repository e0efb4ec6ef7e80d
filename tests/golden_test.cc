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
