// ctsim's side of `ctsim verify`: runs a scenario on the Simulator and
// fills the RunRecord the comparison reads (run_compare.h), and the list of
// packets the run injected, which `ctsim kernel-run` sends to the live
// kernel byte for byte.
//
// The facts come through the outputs layer in memory (OutputOptions::facts,
// sim/output/run_facts_observer.h), in the words the file outputs use: the
// per-packet outcome of --pcap-out's comment, the event lines of --events,
// the -L and -S lines of --snapshots. No file is written.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_VERIFY_SIMULATED_RUN_H_
#define CTSIM_SIM_VERIFY_SIMULATED_RUN_H_

#include <vector>

#include "sim/engine/status.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/run_record.h"

namespace ctsim::verify {

// Runs `s` (the caller sets s.until to the run's end) and fills *out
// (source "ctsim <profile>", end, packets in id order, events, snapshots,
// stats) and, unless null, *injected (in id order). A packet still in
// flight when the run ends (held by a `queue` rule) has an empty verdict.
// Returns the run's error (a capture file that cannot be read); *out is
// then unspecified.
Status record_simulated_run(const Scenario& s, RunRecord* out, std::vector<InjectedPacket>* injected);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_SIMULATED_RUN_H_
