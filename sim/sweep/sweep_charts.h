// The charts of a collected sweep: for each metric and each non-seed axis,
// the metric's mean (with its 95% interval over the seeds as error bars)
// against the axis, one line per combination of the other axes. Each chart
// is a table (charts/METRIC-vs-AXIS.dat) and a gnuplot script (.gp, which
// `gnuplot -e "fmt='png'; outfile='x.png'" F.gp` renders again), rendered
// to PNG and SVG (Debian's gnuplot-nox, as `ctsim run --plots`).
//
// Threading: single-threaded; waits for each gnuplot it starts.
#ifndef CTSIM_SIM_SWEEP_SWEEP_CHARTS_H_
#define CTSIM_SIM_SWEEP_SWEEP_CHARTS_H_

#include <string>

#include "sim/engine/status.h"
#include "sim/sweep/sweep_collect.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// Writes and renders every chart into layout.charts_dir(). `gnuplot`: the
// program, looked up in PATH. An error names the chart and gnuplot's log.
Status render_sweep_charts(const SweepSpec& spec, const SweepLayout& layout, const Collected& collected,
                           const std::string& gnuplot = "gnuplot");

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_CHARTS_H_
