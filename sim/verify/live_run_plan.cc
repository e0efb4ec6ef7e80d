#include "sim/verify/live_run_plan.h"

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/verify/kernel_run.h"
#include "sim/verify/simulated_run.h"

namespace ctsim::verify {

Status plan_live_run(const std::string& scenario_path, const std::string& kernel, LiveRunPlan* plan) {
  if (kernel == "auto") {
    plan->profile = kernel_profile_for_release(kernel_release());
    if (plan->profile.profile.empty())
      return Status::InvalidArgument("--kernel auto: " + plan->profile.why + "; give --kernel V");
  } else {
    if (!ctcore::kernel_profile_find(kernel))
      return Status::InvalidArgument("--kernel " + kernel + ": no such profile (ctsim kernels --names lists them)");
    plan->profile = {kernel, "given by --kernel"};
  }
  ScenarioLoadOptions load;
  load.kernel = plan->profile.profile;
  if (Status st = load_scenario(scenario_path, &plan->scenario, load); !st.ok()) return st;
  RunRecord unused;
  if (Status st = record_simulated_run(plan->scenario, &unused, &plan->injected); !st.ok()) return st;
  plan->end = kernel_run_end(plan->scenario, plan->injected);
  if (!plan->scenario.until || *plan->scenario.until != plan->end) {
    // A run cut at `end` injects the same packets up to it (the run is
    // deterministic); those after it are not sent.
    plan->scenario.until = plan->end;
    std::erase_if(plan->injected, [&](const InjectedPacket& p) { return p.at > plan->end; });
  }
  return Status::OK();
}

}  // namespace ctsim::verify
