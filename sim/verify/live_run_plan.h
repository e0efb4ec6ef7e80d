// What `ctsim kernel-run` and `ctsim verify` both do first: load the
// scenario under the profile of the kernel they compare with, run it once
// in ctsim for the packets it injects (flows and captures expanded, each
// with its time, namespace, CPU and path), and fix the run's end.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_VERIFY_LIVE_RUN_PLAN_H_
#define CTSIM_SIM_VERIFY_LIVE_RUN_PLAN_H_

#include <string>
#include <vector>

#include "sim/engine/status.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/kernel_profile_auto.h"
#include "sim/verify/run_record.h"

namespace ctsim::verify {

struct LiveRunPlan {
  Scenario scenario;  // its `until` set to `end`
  ProfileChoice profile;
  std::vector<InjectedPacket> injected;
  SimTime end = 0;
};

// `kernel`: "auto" (the profile of `uname -r`) or a profile name.
Status plan_live_run(const std::string& scenario_path, const std::string& kernel, LiveRunPlan* plan);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_LIVE_RUN_PLAN_H_
