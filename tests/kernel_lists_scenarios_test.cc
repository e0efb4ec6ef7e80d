// Kernel profile rows L1-L4 through whole runs: scenarios/kernels/
// events-2-missed-destroy.json under --kernel 5.10 and under its own 6.18,
// both outcomes pinned (events, trace, explain). The explorer's lists are
// in explorer_page_test.cc; the live kernel's DESTROY lines are compared in
// nat_kernel_lab_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

const std::string kScenario = "scenarios/kernels/events-2-missed-destroy.json";

struct Run {
  std::string events, trace, explain;
};

Run run_under(const std::string& kernel) {
  const std::string dir = temp_dir() + "/events2-" + kernel;
  RunResult r = run_ctsim("run " + shell_quote(source_path(kScenario)) + " --check --quiet --kernel " + kernel +
                          " --events " + dir + ".e --trace " + dir + ".t --explain " + dir + ".x");
  REQUIRE(r.code == 0);
  return {read_file(dir + ".e"), read_file(dir + ".t"), read_file(dir + ".x")};
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

const char* const kConn1 = "src=198.18.30.1 dst=198.18.30.53 sport=5000 dport=53";
const char* const kConn2 = "src=198.18.30.1 dst=198.18.30.53 sport=5001 dport=53";

}  // namespace

TEST_CASE("L3: a conn made before conntrack -E started reports its DESTROY under 5.10 and never under 6.18") {
  const Run v510 = run_under("5.10");
  const Run v618 = run_under("6.18");
  // Conn 1 (1 s, the listener binds at 5 s): its end is seen only by 5.10.
  CHECK(has(v510.events, std::string("[DESTROY] udp      17 ") + kConn1));
  CHECK_FALSE(has(v618.events, std::string("sport=5000")));
  // It dies all the same: all three conns have their dying record under both.
  auto deaths = [](const std::string& trace) {
    size_t n = 0;
    for (size_t at = trace.find(R"("kind":"dying")"); at != std::string::npos;
         at = trace.find(R"("kind":"dying")", at + 1))
      ++n;
    return n;
  };
  CHECK(deaths(v510.trace) == 3);
  CHECK(deaths(v618.trace) == 3);
  CHECK(has(v618.trace, R"("events":false)"));
  CHECK_FALSE(has(v510.trace, R"("events":false)"));
  CHECK(has(v618.explain, "no event cache: nf_conntrack_events=2 and no ctnetlink listener existed"));
  // Conn 2 (10 s) reports under both.
  CHECK(has(v510.events, std::string("[NEW] udp      17 30 ") + kConn2));
  CHECK(has(v618.events, std::string("[NEW] udp      17 30 ") + kConn2));
}

TEST_CASE("L4: DESTROY carries the timeout left (omitted at 0) and the TCP state under 6.18, neither under 5.10") {
  const Run v510 = run_under("5.10");
  const Run v618 = run_under("6.18");
  // Conn 2, deleted at 20 s with 20 s left.
  CHECK(has(v618.events, std::string("[DESTROY] udp      17 20 ") + kConn2));
  CHECK(has(v510.events, std::string("[DESTROY] udp      17 ") + kConn2));
  // Conn 3, reset at 12 s (CLOSE, 10 s), reaped after it expired: no timeout.
  CHECK(has(v618.events, "[DESTROY] tcp      6 CLOSE src=198.18.30.1 dst=198.18.30.80 sport=40000 dport=80"));
  CHECK(has(v510.events, "[DESTROY] tcp      6 src=198.18.30.1 dst=198.18.30.80 sport=40000 dport=80"));
}

TEST_CASE("L1: the explain narrative shows no unconfirmed or per-CPU dying list under 6.18") {
  const Run v510 = run_under("5.10");
  const Run v618 = run_under("6.18");
  CHECK(has(v510.explain, "it joins the unconfirmed list"));
  CHECK_FALSE(has(v618.explain, "it joins the unconfirmed list"));
  CHECK(has(v618.explain, "it is on no list; use 1 (the skb's reference)"));
  CHECK(has(v510.explain, "leaves the dying list"));
  CHECK_FALSE(has(v618.explain, "leaves the dying list"));
  CHECK(has(v618.explain, "is on no list"));
}

namespace {

// The lines of a conntrack -E text; " [USERSPACE] portid=N" (what conntrack
// prints for an event a process caused: the random netlink port of the
// `conntrack -D` that deleted the conn; ctsim does not model it) removed.
std::vector<std::string> event_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    const size_t user = line.find(" [USERSPACE] portid=");
    if (user != std::string::npos) line.erase(user);
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("L1/L3/L4: the live 6.18 kernel's conntrack -E lines (tests/data/kernel-lab/lists) under --kernel 6.18") {
  const std::string lab = "tests/data/kernel-lab/lists/";
  const std::vector<std::string> kernel = event_lines(read_file(source_path(lab + "E.txt")));
  REQUIRE(kernel.size() == 8);
  // What the recording shows: conn 1 (made before the listener) absent, the
  // deleted UDP conn's DESTROY with 27 s left, the reset TCP conn's with CLOSE.
  CHECK(kernel[6].find("[DESTROY] udp      17 27 src=198.18.30.12 ") == 0);
  CHECK(kernel[7].find("[DESTROY] tcp      6 CLOSE src=198.18.30.13 ") == 0);
  CHECK(read_file(source_path(lab + "Lu.txt")).empty());  // conntrack -L unconfirmed
  CHECK(read_file(source_path(lab + "Ld.txt")).empty());  // conntrack -L dying
  const std::string dir = temp_dir();
  for (const char* k : {"6.18", "5.10"}) {
    CAPTURE(k);
    const std::string events = dir + "/lab-" + k + ".e";
    RunResult r = run_ctsim("run " + shell_quote(source_path(lab + "scenario.json")) + " --check --quiet --kernel " +
                            k + " --events " + events);
    REQUIRE(r.code == 0);
    const std::vector<std::string> sim = event_lines(read_file(events));
    if (std::string(k) == "6.18") {
      CHECK(sim == kernel);
    } else {
      // 5.10: conn 1 reports its DESTROY, and no DESTROY carries a timeout
      // or state.
      CHECK(sim.size() == kernel.size() + 1);
      CHECK(std::count_if(sim.begin(), sim.end(),
                          [](const std::string& l) { return l.find("sport=5000") != std::string::npos; }) == 1);
      for (const std::string& l : sim)
        if (l.starts_with("[DESTROY]")) CHECK(l.find("CLOSE") == std::string::npos);
    }
  }
}

TEST_CASE("L1: conntrack -L unconfirmed shows a queued new conn under 5.10 and nothing under 6.18") {
  // A new conn's first packet waits 2 s in a queue rule before confirm.
  const std::string dir = temp_dir();
  const std::string scenario = dir + "/queued.json";
  write_file(scenario, R"({"ctsim": 1, "cpus": 1,
    "rules": [ { "hook": "forward", "match": "udp dport 53", "verdict": "queue", "delay": "2s" } ],
    "packets": [ { "at": "1s", "pkt": "udp 198.18.30.1:5000 > 198.18.30.53:53" } ],
    "actions": [ { "at": "2s", "do": "snapshot", "list": "unconfirmed" },
                 { "at": "2s", "do": "snapshot", "list": "dying" },
                 { "at": "4s", "do": "snapshot", "list": "unconfirmed" } ] })");
  for (const char* k : {"5.10", "6.18"}) {
    CAPTURE(k);
    const std::string snaps = dir + "/" + k + ".s", trace = dir + "/" + k + ".t";
    RunResult r = run_ctsim("run " + shell_quote(scenario) + " --check --quiet --kernel " + k + " --snapshots " +
                            snaps + " --trace " + trace);
    REQUIRE(r.code == 0);
    const std::string s = read_file(snaps);
    const bool v510 = std::string(k) == "5.10";
    // (The timeout of an unconfirmed conn is whatever ctnetlink computes
    // from its relative timeout: not compared.)
    const std::string head = "# conntrack -L unconfirmed at 2.000000000s (all namespaces)\n";
    REQUIRE(has(s, head));
    const std::string block = s.substr(s.find(head) + head.size());
    if (v510) {
      CHECK(block.starts_with("[init] udp      17 "));
      CHECK(block.find("src=198.18.30.1 dst=198.18.30.53 sport=5000 dport=53 [UNREPLIED]") < block.find('\n'));
      CHECK(block.substr(block.find('\n') + 1).starts_with("# 1 flow entries"));
    } else {
      CHECK(block.starts_with("# 0 flow entries"));
    }
    CHECK(has(s, "# conntrack -L dying at 2.000000000s (all namespaces)\n# 0 flow entries"));
    CHECK(has(s, "# conntrack -L unconfirmed at 4.000000000s (all namespaces)\n# 0 flow entries"));  // confirmed at 3 s
    CHECK(has(read_file(trace), R"("list":"unconfirmed","count":)" + std::string(v510 ? "1" : "0")));
  }
}
