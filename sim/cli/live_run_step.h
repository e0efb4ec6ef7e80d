// The part `ctsim kernel-run` and `ctsim verify` share on the command line:
// the scenario planned for the live kernel (prepare_live_run), played on it
// (kernel_run) with progress notes unless quiet, each failure printed with
// its exit code; and their text outputs written all-or-nothing.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_CLI_LIVE_RUN_STEP_H_
#define CTSIM_SIM_CLI_LIVE_RUN_STEP_H_

#include <string>
#include <utility>
#include <vector>

#include "sim/verify/live_run_plan.h"
#include "sim/verify/run_record.h"

namespace ctsim::cli {

struct LiveRunArgs {
  std::string scenario, kernel, max_duration;
  bool quiet = false;
};

// Plans the run into *plan; 0 when it can go on, else the exit code (the
// reason printed).
int plan_live(const LiveRunArgs& args, verify::LiveRunPlan* plan);
// Plays *plan on the live kernel into *rec; 0, or the exit code (2, or
// 130 when interrupted; the reason printed).
int play_live(const LiveRunArgs& args, const verify::LiveRunPlan& plan, verify::RunRecord* rec);
// Writes each (path, text) whose path is not empty; 0, or 2 (printed).
int write_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace ctsim::cli

#endif  // CTSIM_SIM_CLI_LIVE_RUN_STEP_H_
