// libFuzzer target: the whole simulation. A scenario loaded from the input
// and, within the caps of fuzz/simulation_run.h, run with the core's
// invariants checked after every event and every output writer on. A run
// must end with OK and no broken invariant: no crash, hang, leak or UB, and
// no error from a scenario the loader accepted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/simulation_run.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const ctsim::fuzz::SimulationResult r = ctsim::fuzz::run_fuzzed_simulation(text);
  if (r.outcome != ctsim::fuzz::SimulationOutcome::kRan) return 0;
  if (!r.status.ok()) {
    std::fprintf(stderr, "run failed: %s\n", r.status.message().c_str());
    std::abort();
  }
  if (!r.invariant_error.empty()) {
    std::fprintf(stderr, "invariant broken %s\n", r.invariant_error.c_str());
    std::abort();
  }
  return 0;
}
