// The bucket hints (core/nf_conntrack_bucket_hint.h) are shortcuts v5.10
// does not have; they must never show. Every scenario in the repository
// (`find scenarios -name '*.json' ! -name schema.json`, found when the test
// runs) is replayed twice, as is and with `--exact-walks`, and every output
// must be byte-identical: trace, events, snapshots, series and explain.
//
// Two runs per mode: --explain asks the core for each chain's detail, which
// makes every lookup walk exactly (the lookup's hint shortcut is off then),
// so the explain gets a run of its own and the other outputs are written by
// a run in which every shortcut is live.
//
// Files go to a temporary directory of tests/run_util.h, removed when the
// test process ends, failed or not.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

using namespace ctest;
namespace fs = std::filesystem;

namespace {

// The first line where a and b differ.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    const bool ga = static_cast<bool>(std::getline(ia, la));
    const bool gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) return "(only the final newline differs)";
    if (ga != gb || la != lb)
      return "line " + std::to_string(n) + ":\n  hints:       " + (ga ? la : "(end of file)") +
             "\n  exact walks: " + (gb ? lb : "(end of file)");
  }
}

const char* const kOutputs[] = {"trace", "events", "snapshots", "series", "explain"};

// Runs `scenario` into dir/<mode>.<output> files; returns the exit codes'
// sum (0 when both runs succeeded).
int run_mode(const std::string& scenario, const std::string& dir, const std::string& mode) {
  const std::string base = dir + "/" + mode;
  const std::string flag = mode == "exact" ? " --exact-walks" : "";
  const std::string in = shell_quote(source_path(scenario));
  const RunResult a = run_ctsim("run " + in + " -q" + flag + " --trace " + shell_quote(base + ".trace") + " --events " +
                                shell_quote(base + ".events") + " --snapshots " + shell_quote(base + ".snapshots") +
                                " --series " + shell_quote(base + ".series"));
  if (a.code != 0) MESSAGE(scenario << " (" << mode << "): " << a.err);
  const RunResult b = run_ctsim("run " + in + " -q" + flag + " --explain " + shell_quote(base + ".explain"));
  if (b.code != 0) MESSAGE(scenario << " (" << mode << ", explain): " << b.err);
  return a.code + b.code;
}

}  // namespace

TEST_CASE("every scenario: the same outputs with and without the bucket hints") {
  const std::vector<std::string> scenarios = repo_scenarios();
  REQUIRE(!scenarios.empty());
  const std::string dir = temp_dir();
  for (const std::string& s : scenarios) {
    CAPTURE(s);
    for (const char* mode : {"hints", "exact"}) {
      for (const char* out : kOutputs) fs::remove(dir + "/" + mode + "." + out);
      CHECK(run_mode(s, dir, mode) == 0);
    }
    for (const std::string out : kOutputs) {
      CAPTURE(out);
      const std::string hints_path = dir + "/hints." + out;
      const std::string exact_path = dir + "/exact." + out;
      CHECK(file_exists(hints_path) == file_exists(exact_path));
      const std::string hints = read_file(hints_path), exact = read_file(exact_path);
      if (hints != exact) FAIL_CHECK(s << ": " << out << " differs, " << first_difference(hints, exact));
    }
  }
}

// The scenario key and the run option turn on the one switch in the core.
TEST_CASE("table.exact_walks and --exact-walks both set ConntrackConfig::exact_walks") {
  auto core_exact = [](const std::string& text, bool option) {
    ctsim::Scenario s;
    const ctsim::Status st = ctsim::parse_scenario("t.json", text, &s);
    INFO(st.message());
    REQUIRE(st.ok());
    ctsim::RunOptions ro;
    ro.exact_walks = option;
    ctsim::Simulator sim(s, ro);
    return sim.core().exact_walks();
  };
  CHECK_FALSE(core_exact(R"({"ctsim": 1})", false));
  CHECK_FALSE(core_exact(R"({"ctsim": 1, "table": {"exact_walks": false}})", false));
  CHECK(core_exact(R"({"ctsim": 1, "table": {"exact_walks": true}})", false));
  CHECK(core_exact(R"({"ctsim": 1})", true));
  ctsim::Scenario s;
  const ctsim::Status st = ctsim::parse_scenario("t.json", R"({"ctsim": 1, "table": {"exact_walks": 1}})", &s);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("/table/exact_walks") != std::string::npos);
}
