// Where a sweep's files live under its output folder (docs/SWEEPS.md):
//
//   DIR/sweep.json            the sweep, resolved (what `plan` made the runs from)
//   DIR/plan.txt              one `ctsim run` command line per point
//   DIR/indices.txt           0..N-1, one a line: GNU parallel's input
//   DIR/joblog                GNU parallel's job log (`sweep run`)
//   DIR/sweep.sbatch          the Slurm job array script (`plan --slurm`)
//   DIR/points/NNNN/          one folder per point: scenario.json, stats.json,
//                             series.csv, stderr.txt, result.json
//   DIR/results.csv, DIR/summary.csv, DIR/failures.txt, DIR/charts/  (`collect`)
//
// Threading: value type.
#ifndef CTSIM_SIM_SWEEP_SWEEP_LAYOUT_H_
#define CTSIM_SIM_SWEEP_SWEEP_LAYOUT_H_

#include <cstddef>
#include <string>

namespace ctsim::sweep {

class SweepLayout {
 public:
  // `points`: how many points the sweep has (it sets the width of the
  // point folders' names, so that they sort in index order).
  SweepLayout(std::string dir, size_t points);

  const std::string& dir() const { return dir_; }
  std::string sweep_json() const { return dir_ + "/sweep.json"; }
  std::string plan() const { return dir_ + "/plan.txt"; }
  std::string indices() const { return dir_ + "/indices.txt"; }
  std::string joblog() const { return dir_ + "/joblog"; }
  std::string sbatch() const { return dir_ + "/sweep.sbatch"; }
  std::string points_dir() const { return dir_ + "/points"; }
  std::string point_dir(size_t i) const;
  std::string scenario(size_t i) const { return point_dir(i) + "/scenario.json"; }
  std::string stats(size_t i) const { return point_dir(i) + "/stats.json"; }
  std::string series(size_t i) const { return point_dir(i) + "/series.csv"; }
  std::string stderr_log(size_t i) const { return point_dir(i) + "/stderr.txt"; }
  std::string result(size_t i) const { return point_dir(i) + "/result.json"; }
  std::string results_csv() const { return dir_ + "/results.csv"; }
  std::string summary_csv() const { return dir_ + "/summary.csv"; }
  std::string failures() const { return dir_ + "/failures.txt"; }
  std::string charts_dir() const { return dir_ + "/charts"; }

 private:
  std::string dir_;
  int width_;
};

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_LAYOUT_H_
