// W1 (one established UDP flow through the whole simulator) and W4 (TCP
// life cycles from the flow generator, trace off and on): the simulator
// path, built from scenario text as `ctsim run` would load it.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/bench_util.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace bench {

namespace {

struct SimRun {
  double seconds = 0;
  uint64_t packets = 0;
  uint64_t allocations = 0;
  uint64_t trace_records = 0;
};

uint64_t count_lines(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  uint64_t lines = 0;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) lines += std::count(buf, buf + n, '\n');
  std::fclose(f);
  return lines;
}

SimRun run_scenario(const std::string& text, const std::string& trace_path) {
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("<bench>", text, &s);
  if (!st.ok()) {
    std::printf("!! scenario: %s\n", st.ToString().c_str());
    return {};
  }
  ctsim::RunOptions ro;
  ro.trace_path = trace_path;
  ctsim::Simulator sim(s, ro);
  ctsim::RunSummary sum;
  const uint64_t a0 = allocations();
  const auto t0 = SteadyClock::now();
  st = sim.run(&sum);
  SimRun r;
  r.seconds = seconds_since(t0);
  r.allocations = allocations() - a0;
  r.packets = sum.packets;
  if (!st.ok()) std::printf("!! run: %s\n", st.ToString().c_str());
  if (!trace_path.empty()) r.trace_records = count_lines(trace_path);
  return r;
}

SimRun best_of(int reps, const std::string& text, const std::string& trace_path = "") {
  SimRun best;
  for (int r = 0; r < reps; ++r) {
    SimRun x = run_scenario(text, trace_path);
    if (r == 0 || x.seconds < best.seconds) best = x;
  }
  return best;
}

}  // namespace

void run_w1(const Options& o) {
  // One UDP tuple: `count` flow connections of 10000 exchanges each on the
  // same fixed endpoints, back to back, so conntrack sees one conn. (A flow
  // entry holds at most 10000 exchanges: FlowConn::steps is 16 bits.)
  const uint64_t flows = o.smoke ? 10 : 500;
  const uint64_t packets = flows * 20000;
  const std::string text = fmt::format(R"({{
    "ctsim": 1, "name": "bench-w1", "seed": 1, "hz": 250, "cpus": 1,
    "table": {{ "buckets": 1024, "max": 4096, "hash_rnd": 305419896 }},
    "namespaces": [ {{ "name": "init", "hash_mix": 0 }} ],
    "flows": [ {{ "at": "0s", "kind": "udp", "netns": "init", "cpu": 0, "count": {},
                  "interval": "20ms", "src": "10.0.0.1:40000", "dst": "192.0.2.1:53",
                  "rtt": "1us", "data_packets": 10000, "reply": true }} ]
  }})",
                                       flows);
  std::printf(
      "W1 hit path: one established UDP flow, %llu packets through the simulator\n"
      "   (event queue, hooks, lookup, UDP tracker, confirm check), trace off. best of %d\n",
      (unsigned long long)packets, o.reps);
  SimRun r = best_of(o.reps, text);
  if (r.packets != packets)
    std::printf("!! %llu packets, want %llu\n", (unsigned long long)r.packets, (unsigned long long)packets);
  const double ns = r.seconds * 1e9 / r.packets;
  print_figure("simulator hit path", ns, "ns/packet", "<= 65 ns", ns <= 65);
  print_figure("heap allocations per packet", static_cast<double>(r.allocations) / r.packets, "allocs", "~0",
               r.allocations * 1000 < r.packets);
}

void run_w4(const Options& o) {
  const uint64_t conns = o.smoke ? 2000 : 50000;
  const std::string text = fmt::format(R"({{
    "ctsim": 1, "name": "bench-w4", "seed": 1, "hz": 250, "cpus": 1,
    "table": {{ "buckets": 65536, "max": 262144, "hash_rnd": 305419896 }},
    "namespaces": [ {{ "name": "init", "hash_mix": 0 }} ],
    "flows": [ {{ "at": "0s", "kind": "tcp", "netns": "init", "cpu": 0, "count": {},
                  "interval": "10us", "src": "10.0.0.0/8", "dst": "192.0.2.1:80",
                  "rtt": "100us", "data_packets": 1, "close": "fin" }} ],
    "until": "{}us"
  }})",
                                       conns, conns * 10 + 1000);
  std::printf(
      "W4 TCP life cycle: %llu conns x 8 packets (SYN, SYN-ACK, ACK, data, ACK, FIN,\n"
      "   FIN, ACK) from the flow generator through the simulator. best of %d\n",
      (unsigned long long)conns, o.reps);
  if (o.w4_trace_off) {
    SimRun off = best_of(o.reps, text);
    if (off.packets != conns * 8)
      std::printf("!! %llu packets, want %llu\n", (unsigned long long)off.packets, (unsigned long long)(conns * 8));
    print_figure("trace off", off.seconds * 1e9 / off.packets, "ns/packet", "<= 150 ns",
                 off.seconds * 1e9 / off.packets <= 150);
    print_figure("heap allocations per packet, trace off", static_cast<double>(off.allocations) / off.packets, "allocs",
                 "-", true);
  }
  if (!o.w4_trace_on) return;
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string path = fmt::format("{}/ctsim_bench_trace.{}.jsonl", tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp",
                                       static_cast<long>(getpid()));
  SimRun on = best_of(o.reps, text, path);
  std::remove(path.c_str());
  print_figure("JSONL trace on (temp file)", on.seconds * 1e9 / on.packets, "ns/packet", "-", true);
  std::printf(" W6b: %llu trace records in %.3f s\n", (unsigned long long)on.trace_records, on.seconds);
  const double rate = on.trace_records / on.seconds / 1e6;
  print_figure("trace records written per second", rate, "M/s", ">= 2 M/s", rate >= 2.0);
}

}  // namespace bench
