// Draws the charts of a run: runs gnuplot (Debian's gnuplot-nox) on each
// script of plots/ over the .dat tables (plot_data.h) and series.csv of a
// run directory. gnuplot is started with an argument vector, no shell, so
// a path may hold any character.
//
// Threading: one call at a time (it waits for each gnuplot it starts).
#ifndef CTSIM_SIM_OUTPUT_PLOT_RENDER_H_
#define CTSIM_SIM_OUTPUT_PLOT_RENDER_H_

#include <string>

#include "sim/engine/status.h"

namespace ctsim {

// Runs the gnuplot scripts of `plots_dir` over `data_dir` (which holds the
// .dat files and series.csv), writing PNG and SVG charts into `data_dir`.
// `gnuplot`: the program to run, looked up in PATH when it has no '/'.
// Returns an error naming the program when it is not installed, and the
// script and its log (left in `data_dir`) when it failed.
Status render_plots(const std::string& plots_dir, const std::string& data_dir, const std::string& gnuplot = "gnuplot");

// A path as a gnuplot single-quoted string literal (a quote is doubled).
std::string gnuplot_string(const std::string& s);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_PLOT_RENDER_H_
