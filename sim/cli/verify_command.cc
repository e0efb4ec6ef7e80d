// `ctsim verify SCENARIO`: the scenario on the live kernel (kernel-run)
// and in ctsim under the profile of that kernel, compared (docs/VERIFY.md).
// Exit 0 when they agree, 1 with the differences listed, 2 when it cannot
// run, 130 when interrupted.
#include <cstdio>
#include <string>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/cli/command.h"
#include "sim/cli/live_run_step.h"
#include "sim/engine/sim_time.h"
#include "sim/verify/kernel_run.h"
#include "sim/verify/gc_granularity.h"
#include "sim/verify/nat_port_alignment.h"
#include "sim/verify/run_compare.h"
#include "sim/verify/run_record_files.h"
#include "sim/verify/simulated_run.h"

namespace ctsim::cli {

namespace {

class VerifyCommand : public Command {
 public:
  const char* name() const override { return "verify"; }
  const char* synopsis() const override { return "ctsim verify SCENARIO [options]"; }
  const char* epilogue() const override {
    return "\nRoot only (it runs `ctsim kernel-run`). Exit 0 when ctsim and the kernel agree, 1 with the\n"
           "differences listed, 2 when it cannot run, 130 when interrupted. docs/VERIFY.md says what is compared\n"
           "and what is tolerated.\n";
  }
  const char* positional_name() const override { return "scenario"; }
  std::vector<const char*> path_options() const override { return {"report", "kernel-events", "kernel-trace"}; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("kernel", po::value(&kernel_)->value_name("VERSION"),
                       "the profile ctsim runs under: 'auto' (default: the one of `uname -r`) or a profile name")(
        "max-duration", po::value(&max_duration_)->value_name("DURATION"),
        "refuse a run longer than this (default 180s: the kernel run takes as long in real time)")(
        "report", po::value(&report_)->value_name("FILE"), "write the comparison there too")(
        "kernel-events", po::value(&kernel_events_)->value_name("FILE"), "write what the kernel's conntrack -E printed")(
        "kernel-trace", po::value(&kernel_trace_)->value_name("FILE"), "write kernel-run's trace")(
        "quiet", po::bool_switch(&quiet_), "print only the result line and the differences");
  }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("scenario")) return usage_error("verify needs a SCENARIO file");
    const LiveRunArgs args{vm["scenario"].as<std::string>(), kernel_, max_duration_, quiet_};
    verify::LiveRunPlan plan;
    if (int code = plan_live(args, &plan)) return code;
    verify::RunRecord sim;
    if (Status st = verify::record_simulated_run(plan.scenario, &sim, nullptr); !st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
    verify::RunRecord kernel;
    if (int code = play_live(args, plan, &kernel)) return code;
    verify::CompareOptions co;
    co.gc_granularity = verify::gc_granularity(plan.scenario.kernel, plan.scenario.hz);
    co.counts_only = plan.scenario.verify_compare == VerifyCompare::kCounts;
    const std::vector<std::string> aligned = verify::align_random_nat_ports(sim, &kernel);
    verify::Comparison cmp = verify::compare_runs(sim, kernel, co);
    cmp.tolerated.insert(cmp.tolerated.begin(), aligned.begin(), aligned.end());
    std::string head = "verify: " + plan.scenario.name + ": ctsim " + plan.profile.profile + " (" + plan.profile.why +
                       ") vs kernel " + verify::kernel_release() + "\n";
    if (co.counts_only) head += "compared on counts only: " + plan.scenario.verify_because + "\n";
    const std::string text = head + verify::format_comparison(cmp, sim, kernel, co);
    std::fputs(text.c_str(), stdout);
    if (int code = write_outputs({{report_, text},
                                  {kernel_events_, verify::events_text(plan.scenario, kernel)},
                                  {kernel_trace_, verify::trace_text(plan.scenario, kernel, verify::kernel_release())}}))
      return code;
    return cmp.agree ? kExitOk : kExitBroken;
  }

 private:
  std::string kernel_ = "auto";
  std::string max_duration_ = "180s";
  std::string report_, kernel_events_, kernel_trace_;
  bool quiet_ = false;
};

}  // namespace

std::unique_ptr<Command> make_verify_command() { return std::make_unique<VerifyCommand>(); }

}  // namespace ctsim::cli
