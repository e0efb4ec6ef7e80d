// One scenario run through the Simulator, timed by three clocks: the
// simulating thread's CPU time (the benchmark's figure), the process's CPU
// time (every thread's: an output file's writer thread) and the wall time.
#ifndef CTSIM_BENCH_SIM_RUN_H_
#define CTSIM_BENCH_SIM_RUN_H_

#include <cstdint>
#include <string>

#include "sim/world/simulator.h"

namespace bench {

struct SimRun {
  double seconds = 0;  // this thread's CPU time (the figure)
  uint64_t packets = 0;
  uint64_t allocations = 0;
  // What the thread's CPU time leaves out when other threads work for the
  // run: the process's CPU time, every thread's, and the wall time. Best
  // of the runs, each alone.
  double process_seconds = 0;
  double wall_seconds = 0;
};

// The process's CPU time so far, every thread's, in seconds.
double process_cpu_now();

// Parses `text` and runs it with `ro` (a scenario error is printed, and
// gives a run of 0 packets).
SimRun run_scenario(const std::string& text, const ctsim::RunOptions& ro);
// The best of `reps` runs: by the thread's CPU time, and each other clock
// by its own best.
SimRun best_of(int reps, const std::string& text, const ctsim::RunOptions& ro = {});

}  // namespace bench

#endif  // CTSIM_BENCH_SIM_RUN_H_
