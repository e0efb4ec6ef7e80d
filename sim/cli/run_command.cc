// `ctsim run SCENARIO [options]`.
#include <cstdio>
#include <string>

#include "sim/cli/command.h"
#include "sim/cli/run_output_options.h"
#include "sim/scenario/scenario.h"

namespace ctsim::cli {

namespace {

class RunCommand : public Command {
 public:
  const char* name() const override { return "run"; }
  const char* synopsis() const override { return "ctsim run SCENARIO [options]"; }
  const char* positional_name() const override { return "scenario"; }
  std::vector<const char*> path_options() const override { return RunOutputOptions::path_options(); }
  void add_options(po::options_description& opts) override { out_.add_options(opts); }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("scenario")) return usage_error("run needs a SCENARIO file");
    if (int rc = out_.validate(); rc != kExitOk) return rc;
    ctsim::Scenario s;
    ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s, out_.load_options());
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return kExitUsage;
    }
    return out_.run(s);
  }

 private:
  RunOutputOptions out_;
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace ctsim::cli
