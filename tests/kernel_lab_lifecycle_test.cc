// ctsim's 6.18 profile against the live 6.18 kernel on the life-cycle cases
// recorded by tools/kernel-lab/lifecycle.sh (tests/data/kernel-lab/lifecycle/:
// its README tells how to record them again). Each case's scenario.json
// replays the lab's packets at the times of its steps.txt, under
// "kernel": "6.18"; what must be equal, line for line:
//   - the conntrack -E lines: NEW and UPDATE in order, timeouts included;
//     DESTROY as a set (the GC meets conns in bucket order, and the live
//     kernel's siphash key is unknown);
//   - every conntrack -L the lab took, as a set of lines (same reason),
//     timeouts included;
//   - the conntrack -S rows the lab took last.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

const std::string kLab = "tests/data/kernel-lab/lifecycle/";

// NEW and UPDATE lines in order, then the DESTROY lines sorted.
std::vector<std::string> comparable_events(const std::string& text) {
  std::vector<std::string> ordered, destroys;
  for (const std::string& l : nonempty_lines(text))
    (l.find("[DESTROY]") != std::string::npos ? destroys : ordered).push_back(l);
  std::sort(destroys.begin(), destroys.end());
  ordered.insert(ordered.end(), destroys.begin(), destroys.end());
  return ordered;
}

// ctsim's --snapshots text split into its blocks: the conntrack -L blocks
// (entry lines, sorted) and the conntrack -S blocks (rows as printed).
struct Snapshots {
  std::vector<std::vector<std::string>> tables;
  std::vector<std::vector<std::string>> stats;
};
Snapshots snapshots_of(const std::string& text) {
  Snapshots s;
  std::vector<std::string>* cur = nullptr;
  for (const std::string& l : nonempty_lines(text)) {
    if (l.starts_with("# snapshot")) {
      s.tables.emplace_back();
      cur = &s.tables.back();
    } else if (l.starts_with("# conntrack -S")) {
      s.stats.emplace_back();
      cur = &s.stats.back();
    } else if (!l.starts_with("#") && cur != nullptr) {
      cur->push_back(l);
    }
  }
  for (auto& t : s.tables) std::sort(t.begin(), t.end());
  return s;
}

// The lab's conntrack -L files in the order steps.txt took them.
std::vector<std::vector<std::string>> lab_tables(const std::string& dir) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& step : nonempty_lines(read_file(dir + "/steps.txt"))) {
    const size_t at = step.find("conntrack -L > ");
    if (at == std::string::npos) continue;
    std::vector<std::string> t = nonempty_lines(read_file(dir + "/" + step.substr(at + 15)));
    std::sort(t.begin(), t.end());
    out.push_back(t);
  }
  return out;
}

void check_case(const std::string& name) {
  CAPTURE(name);
  const std::string lab = source_path(kLab + name);
  const std::string dir = temp_dir();
  const RunResult r = run_ctsim("run " + shell_quote(lab + "/scenario.json") + " --quiet --check --events " + dir +
                                "/E.txt --snapshots " + dir + "/S.txt");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(comparable_events(read_file(dir + "/E.txt")) == comparable_events(read_file(lab + "/E.txt")));
  const Snapshots ours = snapshots_of(read_file(dir + "/S.txt"));
  const std::vector<std::vector<std::string>> theirs = lab_tables(lab);
  REQUIRE(ours.tables.size() == theirs.size());
  for (size_t i = 0; i < theirs.size(); ++i) {
    CAPTURE(i);
    CHECK(ours.tables[i] == theirs[i]);
  }
  // The scenario's stats action stands for the lab's last conntrack -S (the
  // run's own end-of-run block follows it).
  REQUIRE(ours.stats.size() >= 2);
  CHECK(ours.stats[ours.stats.size() - 2] == nonempty_lines(read_file(lab + "/S.txt")));
}

}  // namespace

TEST_CASE("live 6.18: the UDP stream rule (UPDATE lines and timeouts)") { check_case("udp-stream"); }
TEST_CASE("live 6.18: TCP, UDP and ICMP life cycles up to the GC's DESTROY") { check_case("basic"); }
