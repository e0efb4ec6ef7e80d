// The options of `ctsim run` that say what a run writes and how it is
// checked, shared by every command that runs a simulation (run, replay):
// one option table, one validation, one end-of-run summary.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_CLI_RUN_OUTPUT_OPTIONS_H_
#define CTSIM_SIM_CLI_RUN_OUTPUT_OPTIONS_H_

#include <string>
#include <vector>

#include "sim/cli/command.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace ctsim::cli {

class RunOutputOptions {
 public:
  // Adds the options, bound to this object's fields.
  void add_options(po::options_description& opts);
  // The options among them that name a file or directory to write.
  static std::vector<const char*> path_options();
  // Checks the option values that need no scenario. Returns kExitOk or
  // the usage error's exit code (after printing it).
  int validate();
  // Runs `s` with these options: the progress line, the run, the plots,
  // the summary on stderr. Returns the exit code.
  int run(const Scenario& s);
  // --kernel: what load_scenario is to apply (a name validate() checked).
  ScenarioLoadOptions load_options() const { return {kernel_}; }

 private:
  RunOptions ro_;
  std::string trace_gc_ = "reaping";
  std::string series_every_ = "1s";
  std::string check_every_;
  std::string snapshots_format_ = "conntrack";
  std::string pcap_format_ = "pcapng";
  std::string plots_dir_;
  std::string stats_path_;
  std::string kernel_;
  bool quiet_ = false;
};

}  // namespace ctsim::cli

#endif  // CTSIM_SIM_CLI_RUN_OUTPUT_OPTIONS_H_
