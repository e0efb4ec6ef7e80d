// `ctsim sweep collect DIR`: the finished points of a planned sweep into
//   results.csv   one row per run: index, the axes' values, exit, the metrics
//   summary.csv   one row per combination of the non-seed axes: the runs,
//                 the failed runs, and each metric's mean with a 95%
//                 interval over the seeds (Student's t)
//   failures.txt  each failed point: its values, exit code and stderr
// all published together or not at all. A failed point is a row with its
// exit code and empty metric cells, never a missing row. Points not run
// yet are refused (listed) unless `partial`, which leaves them out.
//
// The files depend only on the points' result.json, so any engine, order
// or parallelism gives the same bytes.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_SWEEP_SWEEP_COLLECT_H_
#define CTSIM_SIM_SWEEP_SWEEP_COLLECT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "sim/engine/status.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// The collected table, as the charts read it.
struct SummaryRow {
  std::vector<size_t> value_index;  // per non-seed axis
  size_t runs = 0, failed = 0;
  std::vector<double> mean, lo, hi;  // per metric; NaN when undefined
};

struct Collected {
  size_t points = 0;
  std::vector<size_t> failed;   // indices of failed points
  std::vector<size_t> missing;  // indices with no result.json
  std::vector<SummaryRow> summary;
};

Status collect_results(const SweepSpec& spec, const SweepLayout& layout, bool partial, Collected* out);

// The two-sided 95% quantile of Student's t with `dof` degrees of freedom
// (a table up to 30, then the next lower tabulated value: conservative).
double student_t95(size_t dof);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_COLLECT_H_
