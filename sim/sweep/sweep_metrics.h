// The metrics of one finished run, from the files `ctsim run` wrote for it:
// the end statistics (`--stats`, JSON) and the time series (`--series`,
// CSV). Human text (the summary line) is never read.
//
// A value that is undefined (a ratio over 0, a rate of a run that lasted
// no time) is NaN; the CSV shows it as an empty cell.
//
// Threading: pure functions (they read files).
#ifndef CTSIM_SIM_SWEEP_SWEEP_METRICS_H_
#define CTSIM_SIM_SWEEP_SWEEP_METRICS_H_

#include <string>
#include <vector>

#include "sim/engine/status.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// One value per metric of `spec`, in its order. `series_path` is read only
// when a metric needs it.
Status compute_metrics(const SweepSpec& spec, const std::string& stats_path, const std::string& series_path,
                       std::vector<double>* out);

// A metric's value as a CSV cell: integers without a fraction, others with
// at most four decimals (trailing zeros dropped), NaN as "".
std::string format_value(double v);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_METRICS_H_
