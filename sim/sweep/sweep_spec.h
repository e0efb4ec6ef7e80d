// A sweep file (docs/SWEEPS.md, scenarios/sweep-schema.json): a base
// scenario, axes that set values in it by JSON pointer, and the metrics to
// collect from each run. Loading checks everything (the axes' pointers,
// value lists and ranges, the metrics' sources and reductions) and reports
// every problem as FILE:LINE:COL: /pointer: what was found; what was
// expected, like the scenario loader.
//
// Invariants of a loaded SweepSpec:
//   (1) axes keep the file's order, except that the seed axis (if any) is
//       last; every axis has at least one value and no value twice.
//   (2) a ratio metric names two metrics defined before it.
//
// Threading: value types; parse_sweep is a pure function of its input.
#ifndef CTSIM_SIM_SWEEP_SWEEP_SPEC_H_
#define CTSIM_SIM_SWEEP_SWEEP_SPEC_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/engine/status.h"

namespace ctsim::sweep {

// One axis: the values a place of the base scenario takes.
struct Axis {
  std::string pointer;   // JSON pointer into the scenario ("/table/max"); "/seed" for the seed axis
  std::string column;    // its CSV column: the pointer without the first '/', '/' as '.' ("table.max")
  bool is_seed = false;  // the replicate axis: summaries aggregate over it
  std::vector<nlohmann::json> values;
};

// How a series column becomes one number.
enum class Reduce {
  kFinal,  // the last row (stats: the end value)
  kMax,    // the largest row
  kMean,   // the mean of the rows
  kRate,   // per second of virtual time: the final value (for gc_*, the sum of rows) over the run's length
};

struct Metric {
  enum class Kind { kStat, kSeries, kRatio };
  std::string name;
  Kind kind = Kind::kStat;
  std::string field;  // kStat: an end statistic; kSeries: a series column
  Reduce reduce = Reduce::kFinal;
  size_t numerator = 0, denominator = 0;  // kRatio: indices of earlier metrics
  double per = 1;                         // kRatio: numerator / denominator * per
};

struct SweepSpec {
  std::string file;  // as given (messages)
  std::string name;
  std::string description;
  nlohmann::json base;  // the base scenario
  std::vector<Axis> axes;
  std::vector<Metric> metrics;
  std::string series_every = "1s";  // series rows, when a metric reads the series

  bool needs_series() const;
  // The number of runs: the product of the axes' value counts.
  size_t point_count() const;
  // The sweep with everything resolved (inline base, expanded values), as
  // one JSON text: two sweeps with the same text make the same runs.
  std::string canonical() const;
};

// Parses and validates the text of a sweep file. `file` names it in
// messages; a base scenario given as a path is read relative to its folder.
Status parse_sweep(const std::string& file, const std::string& text, SweepSpec* out);
// Reads the file, then parse_sweep.
Status load_sweep(const std::string& path, SweepSpec* out);

// The names a `stat` metric may read: the end record's counts and the
// summed ip_conntrack_stat fields (docs/TRACE_SCHEMA.md, `end`).
std::vector<std::string> end_stat_names();
// The series columns every run has (docs/TRACE_SCHEMA.md section 5); the
// per-namespace and per-listener ones are added by name.
const std::vector<std::string>& fixed_series_columns();
// True for the series columns that count since the previous row (gc_*).
bool series_column_is_interval(const std::string& column);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_SPEC_H_
