#include "bench/sim_run.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/bench_util.h"
#include "sim/scenario/scenario.h"

namespace bench {

double process_cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

SimRun run_scenario(const std::string& text, const ctsim::RunOptions& ro) {
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("<bench>", text, &s);
  if (!st.ok()) {
    std::printf("!! scenario: %s\n", st.ToString().c_str());
    return {};
  }
  ctsim::Simulator sim(s, ro);
  ctsim::RunSummary sum;
  const uint64_t a0 = allocations();
  const auto w0 = std::chrono::steady_clock::now();
  const double p0 = process_cpu_now();
  const auto t0 = SteadyClock::now();
  st = sim.run(&sum);
  SimRun r;
  r.seconds = seconds_since(t0);
  r.process_seconds = process_cpu_now() - p0;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  r.allocations = allocations() - a0;
  r.packets = sum.packets;
  if (!st.ok()) std::printf("!! run: %s\n", st.ToString().c_str());
  return r;
}

SimRun best_of(int reps, const std::string& text, const ctsim::RunOptions& ro) {
  SimRun best;
  for (int r = 0; r < reps; ++r) {
    SimRun x = run_scenario(text, ro);
    const double process = r == 0 ? x.process_seconds : std::min(best.process_seconds, x.process_seconds);
    const double wall = r == 0 ? x.wall_seconds : std::min(best.wall_seconds, x.wall_seconds);
    if (r == 0 || x.seconds < best.seconds) best = x;
    best.process_seconds = process;
    best.wall_seconds = wall;
  }
  return best;
}

}  // namespace bench
