// `ctsim diff EXPECTED ACTUAL`.
#include <cstdio>
#include <string>
#include <vector>

#include "sim/cli/command.h"
#include "sim/output/trace_diff.h"

namespace ctsim::cli {

namespace {

class DiffCommand : public Command {
 public:
  const char* name() const override { return "diff"; }
  const char* synopsis() const override { return "ctsim diff EXPECTED ACTUAL [options]"; }
  const char* epilogue() const override {
    return "\nExit codes: 0 same, 1 different (the first difference is printed), 2 bad input.\n";
  }
  const char* positional_name() const override { return "files"; }
  int max_positional() const override { return 2; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("ignore-field", po::value(&o_.ignore_fields)->value_name("NAME"),
                       "do not compare field NAME (repeatable)")(
        "ignore-kind", po::value(&o_.ignore_kinds)->value_name("KIND"),
        "skip records of kind KIND on both sides (repeatable)")(
        "from", po::value(&o_.from)->value_name("T"), "compare only records with t >= T (e.g. 1.5s, 200ms, j:123)")(
        "to", po::value(&o_.to)->value_name("T"), "compare only records with t <= T")(
        "context", po::value(&o_.context)->default_value(3)->value_name("N"), "records of context shown either side");
  }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("files") || vm["files"].as<std::vector<std::string>>().size() != 2)
      return usage_error("diff needs two trace files: EXPECTED ACTUAL");
    if (o_.context < 0) return usage_error("--context must be >= 0");
    const auto& files = vm["files"].as<std::vector<std::string>>();
    const ctsim::TraceDiffResult r = ctsim::diff_trace_files(files[0], files[1], o_);
    if (r.outcome == ctsim::TraceDiffResult::Outcome::kBadInput) {
      std::fprintf(stderr, "ctsim diff: %s\n", r.report.c_str());
    } else if (r.outcome == ctsim::TraceDiffResult::Outcome::kDifferent) {
      std::fputs(r.report.c_str(), stdout);
    }
    return r.exit_code();
  }

 private:
  ctsim::TraceDiffOptions o_;
};

}  // namespace

std::unique_ptr<Command> make_diff_command() { return std::make_unique<DiffCommand>(); }

}  // namespace ctsim::cli
