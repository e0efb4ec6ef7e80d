// `ctsim plot RUN_DIR`, and the rendering `ctsim run --plots` shares.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/cli/command.h"
#include "sim/cli/plot_command.h"
#include "sim/output/plot_data.h"
#include "sim/output/plot_render.h"

namespace ctsim::cli {

namespace {

// The gnuplot scripts: CTSIM_PLOTS_DIR in the environment, else the source
// tree's plots/ (compiled in).
std::string plots_scripts_dir() {
  if (const char* d = std::getenv("CTSIM_PLOTS_DIR")) return d;
  return CTSIM_DEFAULT_PLOTS_DIR;
}

}  // namespace

int render_run_dir(const std::string& dir) {
  for (const char* f : {"trace.jsonl", "series.csv"}) {
    const std::string path = dir + "/" + f;
    if (::access(path.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "ctsim: %s is missing (make it with: ctsim run SCENARIO --plots %s)\n", path.c_str(),
                   dir.c_str());
      return kExitUsage;
    }
  }
  ctsim::Status st = ctsim::write_plot_data(dir + "/trace.jsonl", dir);
  if (st.ok()) st = ctsim::render_plots(plots_scripts_dir(), dir);
  if (!st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return kExitUsage;
  }
  return kExitOk;
}

namespace {

// `ctsim plot DIR`: the charts of a saved run (DIR/trace.jsonl, DIR/series.csv).
class PlotCommand : public Command {
 public:
  const char* name() const override { return "plot"; }
  const char* synopsis() const override { return "ctsim plot RUN_DIR"; }
  const char* epilogue() const override {
    return "\nRenders the charts of a run saved with `ctsim run S --plots RUN_DIR` (or with\n"
           "--trace RUN_DIR/trace.jsonl --series RUN_DIR/series.csv) into RUN_DIR. Needs gnuplot.\n";
  }
  const char* positional_name() const override { return "run-dir"; }
  void add_options(po::options_description&) override {}
  int execute(const po::variables_map& vm) override {
    if (!vm.count("run-dir")) return usage_error("plot needs one RUN_DIR");
    return render_run_dir(vm["run-dir"].as<std::string>());
  }
};

}  // namespace

std::unique_ptr<Command> make_plot_command() { return std::make_unique<PlotCommand>(); }

}  // namespace ctsim::cli
