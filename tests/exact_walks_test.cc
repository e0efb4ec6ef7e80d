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
// Files go to a fresh directory under $TMPDIR (default /tmp), removed when
// the test ends, failed or not.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

using namespace ctest;
namespace fs = std::filesystem;

namespace {

// Every scenario file, relative to the source tree, sorted.
std::vector<std::string> all_scenarios() {
  std::vector<std::string> out;
  const fs::path src = source_path("");
  for (const auto& e : fs::recursive_directory_iterator(src / "scenarios")) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    if (e.path().filename() == "schema.json") continue;
    out.push_back(fs::relative(e.path(), src).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A directory of its own under $TMPDIR; removed with everything in it when
// the guard goes (also when a REQUIRE throws).
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t != nullptr && *t != 0 ? t : "/tmp") + "/ctsim-exact-walks-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

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
  const std::string in = quoted(source_path(scenario));
  const RunResult a = run_ctsim("run " + in + " -q" + flag + " --trace " + quoted(base + ".trace") + " --events " +
                                quoted(base + ".events") + " --snapshots " + quoted(base + ".snapshots") +
                                " --series " + quoted(base + ".series"));
  if (a.code != 0) MESSAGE(scenario << " (" << mode << "): " << a.err);
  const RunResult b = run_ctsim("run " + in + " -q" + flag + " --explain " + quoted(base + ".explain"));
  if (b.code != 0) MESSAGE(scenario << " (" << mode << ", explain): " << b.err);
  return a.code + b.code;
}

}  // namespace

TEST_CASE("every scenario: the same outputs with and without the bucket hints") {
  const std::vector<std::string> scenarios = all_scenarios();
  REQUIRE(!scenarios.empty());
  TempDir tmp;
  REQUIRE(!tmp.path().empty());
  for (const std::string& s : scenarios) {
    CAPTURE(s);
    for (const char* mode : {"hints", "exact"}) {
      for (const char* out : kOutputs) fs::remove(tmp.path() + "/" + mode + "." + out);
      CHECK(run_mode(s, tmp.path(), mode) == 0);
    }
    for (const std::string out : kOutputs) {
      CAPTURE(out);
      const std::string hints_path = tmp.path() + "/hints." + out;
      const std::string exact_path = tmp.path() + "/exact." + out;
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
