// Rows G1-G3 against the live kernel: the GC cases recorded by
// tools/kernel-lab/gc.sh on Linux 6.18.44 (HZ=250) in
// tests/data/kernel-lab/gc/ (its README tells how to record them again).
// Unreplied UDP flows (30 s) are made at the recorded times; what is
// compared is which flows each GC sweep reaped (the DESTROY lines, exactly,
// grouped by sweep), and the spacing of the sweeps: the kernel's 6.18 GC
// sleeps its averaged timeout, rounded up by the timer wheel to a multiple
// of 512 jiffies, so on these nearly idle tables consecutive sweeps are
// 14848 jiffies (59.392 s) apart. The GC's phase, which no scenario can
// know, is set in each scenario from the recording (table.gc_phase, and
// initial_jiffies from the recorded jiffies counter). Under v5.10 the same
// traffic is reaped flow by flow, each within 16 s of its expiry.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

const std::string kLab = "tests/data/kernel-lab/gc/";

struct Line {
  double t;          // seconds
  std::string text;  // the event line, without the timestamp
};

// `[seconds.micros]<tab>line` as conntrack -E -o timestamp and ctsim's
// --events --timestamps write them.
std::vector<Line> timed_lines(const std::string& text) {
  static const std::regex re(R"(^\[(\d+)\.(\d+)\]\s+(.*)$)");
  std::vector<Line> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    if (!std::regex_match(l, m, re)) continue;
    out.push_back({std::stod(m[1].str()) + std::stod("0." + m[2].str()), m[3].str()});
  }
  return out;
}

struct Sweep {
  double t;                        // from the first NEW, seconds
  std::vector<std::string> lines;  // DESTROY lines, sorted
};
struct Case {
  std::vector<std::string> news;
  std::vector<Sweep> sweeps;
};

// DESTROYs within 50 ms of each other belong to one sweep.
Case case_of(const std::vector<Line>& lines) {
  Case c;
  double t0 = -1;
  for (const Line& l : lines) {
    if (l.text.starts_with("[NEW]")) {
      if (t0 < 0) t0 = l.t;
      c.news.push_back(l.text);
    } else if (l.text.starts_with("[DESTROY]")) {
      const double t = l.t - t0;
      if (c.sweeps.empty() || t - c.sweeps.back().t > 0.05) c.sweeps.push_back({t, {}});
      c.sweeps.back().lines.push_back(l.text);
    }
  }
  for (Sweep& s : c.sweeps) std::sort(s.lines.begin(), s.lines.end());
  return c;
}

Case run_case(const std::string& name, const std::string& kernel) {
  const std::string dir = temp_dir();
  const std::string scenario = source_path(kLab + name + "/scenario.json");
  RunResult r = run_ctsim("run " + shell_quote(scenario) + " --kernel " + kernel + " --quiet --timestamps --events " +
                          dir + "/e");
  REQUIRE(r.code == 0);
  return case_of(timed_lines(read_file(dir + "/e")));
}

Case kernel_case(const std::string& name) {
  return case_of(timed_lines(read_file(source_path(kLab + name + "/E-ts.txt"))));
}

}  // namespace

TEST_CASE("live kernel: G3 sweeps 14848 jiffies apart reap eight flows in the kernel's two batches") {
  const Case kernel = kernel_case("eight-flows");
  const Case sim = run_case("eight-flows", "6.18");
  REQUIRE(kernel.sweeps.size() == 2);
  CHECK(sim.news == kernel.news);
  REQUIRE(sim.sweeps.size() == 2);
  CHECK(sim.sweeps[0].lines == kernel.sweeps[0].lines);  // flows 1-5
  CHECK(sim.sweeps[1].lines == kernel.sweeps[1].lines);  // flows 6-8
  // Sweep 1 is placed by the scenario (gc_phase); the spacing is ctsim's.
  CHECK(std::abs(sim.sweeps[0].t - kernel.sweeps[0].t) < 0.01);
  CHECK(sim.sweeps[1].t - sim.sweeps[0].t == doctest::Approx(14848.0 / 250).epsilon(1e-9));
  CHECK(std::abs((sim.sweeps[1].t - sim.sweeps[0].t) - (kernel.sweeps[1].t - kernel.sweeps[0].t)) < 0.012);
}

TEST_CASE("live kernel: G3 reaps three flows 7 s apart in one sweep, as the kernel did") {
  const Case kernel = kernel_case("three-flows");
  const Case sim = run_case("three-flows", "6.18");
  REQUIRE(kernel.sweeps.size() == 1);
  CHECK(sim.news == kernel.news);
  REQUIRE(sim.sweeps.size() == 1);
  CHECK(sim.sweeps[0].lines == kernel.sweeps[0].lines);
  CHECK(std::abs(sim.sweeps[0].t - kernel.sweeps[0].t) < 0.01);
}

TEST_CASE("v5.10 on the same traffic: the flows are reaped in more, smaller batches") {
  for (const std::string name : {"eight-flows", "three-flows"}) {
    CAPTURE(name);
    const Case kernel = kernel_case(name);
    const Case sim = run_case(name, "5.10");
    CHECK(sim.news == kernel.news);
    size_t destroys = 0;
    for (const Sweep& s : sim.sweeps) destroys += s.lines.size();
    CHECK(destroys == kernel.news.size());
    CHECK(sim.sweeps.size() > kernel.sweeps.size());
  }
}

TEST_CASE("table.gc_phase: a duration up to 1h; beyond it, a clear error and exit 2") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/s.json";
  write_file(path, R"({"ctsim": 1, "kernel": "6.18", "table": {"gc_phase": "2h"},
  "namespaces": [{"name": "fw"}], "packets": [{"at": "0s", "pkt": "udp 198.18.20.11:1 > 198.18.20.200:53",
  "netns": "fw", "path": "forward"}]})");
  RunResult r = run_ctsim("run " + shell_quote(path) + " --quiet --events " + dir + "/e");
  CHECK(r.code == 2);
  CHECK(r.err.find("/table/gc_phase") != std::string::npos);
  CHECK(r.err.find("at most 1h") != std::string::npos);
  CHECK(!file_exists(dir + "/e"));
  write_file(path, R"({"ctsim": 1, "kernel": "6.18", "table": {"gc_phase": "soon"},
  "namespaces": [{"name": "fw"}]})");
  r = run_ctsim("run " + shell_quote(path) + " --quiet");
  CHECK(r.code == 2);
  CHECK(r.err.find("/table/gc_phase") != std::string::npos);
}
