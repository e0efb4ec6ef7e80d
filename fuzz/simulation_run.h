// The simulation fuzzer's one run (fuzz/simulation_fuzzer.cc), shared with
// the regression test that replays its findings
// (tests/fuzz_regressions_test.cc): load a scenario from arbitrary bytes
// and, if it loads and fits the caps below, run it with the core's
// invariants checked after every event and every output writer on.
//
// The caps keep one input to milliseconds under the sanitizers. An input
// above them is refused (not run), except that a scenario without "until"
// is cut at kMaxVirtualTime (a run would otherwise last until its last conn
// timed out: days of virtual GC work), and every run ends after
// kMaxEngineEvents (a reader every microsecond would be millions of events,
// each followed by the invariant walk).
//
// Threading: pure function of its input (it writes only to /dev/null).
#ifndef CTSIM_FUZZ_SIMULATION_RUN_H_
#define CTSIM_FUZZ_SIMULATION_RUN_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace ctsim::fuzz {

constexpr uint64_t kMaxPackets = 2000;  // notation packets plus every flow's scripted packets
constexpr uint64_t kMaxFlows = 1000;    // flow connections (the sum of the entries' counts)
constexpr SimTime kMaxVirtualTime = 10 * 60 * kNsPerSec;
// The invariant check walks the whole table after every event.
constexpr uint32_t kMaxBuckets = 1024;
constexpr uint32_t kMaxConns = 4096;
constexpr uint64_t kMaxEngineEvents = 10000;

enum class SimulationOutcome { kNotLoaded, kRefused, kRan };

struct SimulationResult {
  SimulationOutcome outcome = SimulationOutcome::kNotLoaded;
  Status status;                // the run's status (kRan)
  std::string invariant_error;  // non-empty: a core invariant broke
  RunSummary summary;
};

// An upper bound of the packets a flow entry scripts (before loss
// retransmissions): the TCP handshake, data and ACKs, a FIN close.
inline uint64_t flow_packets_bound(const FlowSpec& f) {
  return f.count * (6 + 2 * uint64_t{std::max<uint32_t>(f.data_packets, 1)});
}

inline SimulationResult run_fuzzed_simulation(const std::string& text) {
  SimulationResult r;
  Scenario s;
  if (!parse_scenario("fuzz.json", text, &s).ok()) return r;
  r.outcome = SimulationOutcome::kRefused;
  uint64_t packets = s.packets.size(), flows = 0;
  for (const FlowSpec& f : s.flows) {
    if (f.count > kMaxFlows || f.data_packets > kMaxPackets) return r;
    flows += f.count;
    packets += flow_packets_bound(f);
  }
  if (flows > kMaxFlows || packets > kMaxPackets) return r;
  if (s.buckets > kMaxBuckets || s.max > kMaxConns) return r;
  if (s.until && *s.until > kMaxVirtualTime) return r;
  for (const ActionSpec& a : s.actions) {
    // A table resized at run time is the same walk cost as a big one.
    if (a.kind == ActionSpec::Kind::kSysctl && a.value > kMaxConns) return r;
  }
  if (!s.until) s.until = kMaxVirtualTime;
  RunOptions ro;
  ro.check_invariants = true;
  ro.max_events = kMaxEngineEvents;
  ro.trace_path = ro.events_path = ro.snapshots_path = ro.explain_path = ro.series_path = "/dev/null";
  ro.trace_all_gc = true;
  ro.event_timestamps = ro.event_ids = true;
  ro.series_every = kNsPerSec;
  r.outcome = SimulationOutcome::kRan;
  Simulator sim(s, ro);
  r.status = sim.run(&r.summary);
  r.invariant_error = r.summary.invariant_error;
  return r;
}

}  // namespace ctsim::fuzz

#endif  // CTSIM_FUZZ_SIMULATION_RUN_H_
