// `ctsim check SCENARIO`.
#include <cstdio>
#include <string>

#include "sim/cli/command.h"
#include "sim/scenario/scenario.h"

namespace ctsim::cli {

namespace {

class CheckCommand : public Command {
 public:
  const char* name() const override { return "check"; }
  const char* synopsis() const override { return "ctsim check SCENARIO"; }
  const char* epilogue() const override { return "\nValidates the scenario; prints every problem found.\n"; }
  const char* positional_name() const override { return "scenario"; }
  void add_options(po::options_description&) override {}
  int execute(const po::variables_map& vm) override {
    if (!vm.count("scenario")) return usage_error("check needs a SCENARIO file");
    ctsim::Scenario s;
    ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return kExitUsage;
    }
    std::printf("%s: ok (%zu namespaces, %zu packets, %zu actions)\n", vm["scenario"].as<std::string>().c_str(),
                s.namespaces.size(), s.packets.size(), s.actions.size());
    return kExitOk;
  }
};

}  // namespace

std::unique_ptr<Command> make_check_command() { return std::make_unique<CheckCommand>(); }

}  // namespace ctsim::cli
