// `ctsim kernel-run SCENARIO`: the scenario played through this machine's
// own conntrack in network namespaces, in real time, and what the kernel
// did written in ctsim's output formats (docs/VERIFY.md). Root only.
#include <cstdio>
#include <string>

#include "sim/cli/command.h"
#include "sim/cli/live_run_step.h"
#include "sim/verify/kernel_run.h"
#include "sim/verify/run_record_files.h"

namespace ctsim::cli {

namespace {

class KernelRunCommand : public Command {
 public:
  const char* name() const override { return "kernel-run"; }
  const char* synopsis() const override { return "ctsim kernel-run SCENARIO [options]"; }
  const char* epilogue() const override {
    return "\nRoot only. Builds one network namespace per scenario namespace (ctsim-<pid>-*), maps the scenario's\n"
           "addresses into 198.18.0.0/15 and 2001:db8::/32 and back, writes every packet raw at its time on its\n"
           "CPU, runs `conntrack -E` for each listener, and tears everything down on success, failure and\n"
           "Ctrl-C. Exit 2 when it cannot run (not root, nft or conntrack missing, a feature with no kernel\n"
           "counterpart: each is named), 130 when interrupted. docs/VERIFY.md has the details.\n";
  }
  const char* positional_name() const override { return "scenario"; }
  std::vector<const char*> path_options() const override { return {"events", "snapshots", "trace"}; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("events", po::value(&events_)->value_name("FILE"), "write what conntrack -E printed")(
        "snapshots", po::value(&snapshots_)->value_name("FILE"), "write the conntrack -L and -S dumps")(
        "trace", po::value(&trace_)->value_name("FILE"),
        "write a JSONL trace of what was seen: packets with their ct state and verdict, events, dumps")(
        "kernel", po::value(&kernel_)->value_name("VERSION"),
        "the profile the packets are generated under (flows react to drops): 'auto' (default: `uname -r`)")(
        "max-duration", po::value(&max_duration_)->value_name("DURATION"),
        "refuse a run longer than this (default 180s: it takes as long in real time)")(
        "quiet", po::bool_switch(&quiet_), "no progress notes on stderr");
  }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("scenario")) return usage_error("kernel-run needs a SCENARIO file");
    const LiveRunArgs args{vm["scenario"].as<std::string>(), kernel_, max_duration_, quiet_};
    verify::LiveRunPlan plan;
    verify::RunRecord rec;
    if (int code = plan_live(args, &plan)) return code;
    if (int code = play_live(args, plan, &rec)) return code;
    if (int code = write_outputs({{events_, verify::events_text(plan.scenario, rec)},
                                  {snapshots_, verify::snapshots_text(rec)},
                                  {trace_, verify::trace_text(plan.scenario, rec, verify::kernel_release())}}))
      return code;
    return kExitOk;
  }

 private:
  std::string events_, snapshots_, trace_;
  std::string kernel_ = "auto";
  std::string max_duration_ = "180s";
  bool quiet_ = false;
};

}  // namespace

std::unique_ptr<Command> make_kernel_run_command() { return std::make_unique<KernelRunCommand>(); }

}  // namespace ctsim::cli
