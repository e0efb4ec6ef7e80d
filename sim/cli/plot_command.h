// The charts of a saved run (`ctsim plot`, `ctsim run --plots`).
#ifndef CTSIM_SIM_CLI_PLOT_COMMAND_H_
#define CTSIM_SIM_CLI_PLOT_COMMAND_H_

#include <string>

namespace ctsim::cli {

// Writes the chart data of DIR/trace.jsonl and renders every chart into
// `dir` (gnuplot scripts from CTSIM_PLOTS_DIR, else the source tree's
// plots/). Returns the exit code (kExitUsage, with a message, when an input
// is missing or gnuplot fails).
int render_run_dir(const std::string& dir);

}  // namespace ctsim::cli

#endif  // CTSIM_SIM_CLI_PLOT_COMMAND_H_
