#include "sim/cli/live_run_step.h"

#include <cstdio>

#include "sim/cli/command.h"
#include "sim/verify/kernel_run.h"
#include "sim/verify/run_record_files.h"

namespace ctsim::cli {

namespace {

constexpr int kExitInterrupted = 130;

int fail(const Status& st, int code) {
  std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
  return code;
}

}  // namespace

int plan_live(const LiveRunArgs& args, verify::LiveRunPlan* plan) {
  SimTime max = 0;
  if (Status st = verify::prepare_live_run(args.scenario, args.kernel, args.max_duration, plan, &max); !st.ok())
    return fail(st, kExitUsage);
  return 0;
}

int play_live(const LiveRunArgs& args, const verify::LiveRunPlan& plan, verify::RunRecord* rec) {
  verify::KernelRunOptions opts;
  Parsed<SimTime> max = parse_duration(args.max_duration, 250);
  if (max.ok()) opts.max_duration = *max;  // plan_live refused it otherwise
  if (!args.quiet) opts.note = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
  bool interrupted = false;
  if (Status st = verify::kernel_run(plan.scenario, plan.injected, plan.end, opts, rec, &interrupted); !st.ok())
    return fail(st, interrupted ? kExitInterrupted : kExitUsage);
  return 0;
}

int write_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (const auto& [path, text] : outputs) {
    if (path.empty()) continue;
    if (Status st = verify::write_text_output(path, text); !st.ok()) return fail(st, kExitUsage);
  }
  return 0;
}

}  // namespace ctsim::cli
