// `ctsim sweep plan|run-one|run|collect`: what-if sweeps (docs/SWEEPS.md).
// The model, the planning, the point runs and the collection live in
// sim/sweep/; this file is the command line and the engines: GNU parallel
// for `run`, a Slurm job array script for `plan --slurm`.
// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/cli/command.h"
#include "sim/sweep/child_process.h"
#include "sim/sweep/sweep_charts.h"
#include "sim/sweep/sweep_collect.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_plan.h"
#include "sim/sweep/sweep_point_run.h"
#include "sim/sweep/sweep_points.h"
#include "sim/sweep/sweep_slurm.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::cli {

namespace {

using namespace ctsim::sweep;

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  std::string a = std::filesystem::absolute(p, ec).lexically_normal().string();
  if (ec) return p;
  while (a.size() > 1 && a.back() == '/') a.pop_back();
  return a;
}

class SweepCommand : public Command {
 public:
  const char* name() const override { return "sweep"; }
  const char* synopsis() const override {
    return "ctsim sweep plan|run|run-one SWEEP.json [options] | ctsim sweep collect DIR [options]";
  }
  const char* epilogue() const override {
    return "\n"
           "Runs a scenario over a grid of settings and seeds (docs/SWEEPS.md):\n"
           "  plan SWEEP.json      derive and check every point's scenario; write DIR/plan.txt (one `ctsim run`\n"
           "                       line per point); with --slurm also DIR/sweep.sbatch, a job array script\n"
           "  run SWEEP.json       plan, run the points through GNU parallel (--jobs; its job log makes a\n"
           "                       killed sweep resume without redoing finished points), then collect\n"
           "  run-one SWEEP.json   run point --index N of a planned sweep into DIR/points/N/result.json\n"
           "  collect DIR          gather the points into DIR/results.csv, DIR/summary.csv (mean and 95%\n"
           "                       interval over seeds), DIR/failures.txt and DIR/charts/ (needs gnuplot)\n"
           "DIR is --out, by default sweep-NAME in the current folder. Exit: 0 every point done; 1 some\n"
           "point failed or has not run (collect lists them); 2 bad usage or a bad sweep file.\n";
  }
  const char* positional_name() const override { return "sweep-args"; }
  int max_positional() const override { return 2; }
  std::vector<const char*> path_options() const override { return {"out"}; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("out,o", po::value(&out_)->value_name("DIR"),
                       "the sweep's folder (plan, run, run-one; default sweep-NAME)")(
        "jobs,j", po::value(&jobs_)->value_name("N"), "run: points run at once (GNU parallel --jobs; default 1)")(
        "index", po::value(&index_)->value_name("N"), "run-one: the point to run (0 .. points-1)")(
        "slurm", po::bool_switch(&slurm_),
        "plan: also write DIR/sweep.sbatch, a Slurm job array of the points with limits from a pilot run")(
        "throttle", po::value(&throttle_)->value_name("N"),
        "plan --slurm: array tasks running at once (the array's %N; default 8)")(
        "pilot", po::value(&pilot_)->value_name("N"),
        "plan --slurm: the point measured for the limits (default the last, usually the largest)")(
        "partial", po::bool_switch(&partial_), "collect: leave out points not run yet instead of refusing")(
        "no-charts", po::bool_switch(&no_charts_), "collect, run: write the CSV files only");
  }
  int execute(const po::variables_map& vm) override;

 private:
  int load(const std::string& file, SweepSpec* spec);
  int plan(const SweepSpec& spec, const SweepLayout& layout);
  int run_one(const SweepSpec& spec, const SweepLayout& layout, const po::variables_map& vm);
  int run(const SweepSpec& spec, const SweepLayout& layout);
  int collect(const std::string& dir);

  std::string out_;
  unsigned jobs_ = 1;
  size_t index_ = 0;
  bool slurm_ = false;
  size_t throttle_ = 8;
  size_t pilot_ = 0;
  bool partial_ = false;
  bool no_charts_ = false;
};

int SweepCommand::load(const std::string& file, SweepSpec* spec) {
  Status st = load_sweep(file, spec);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return kExitUsage;
  }
  return kExitOk;
}

int SweepCommand::execute(const po::variables_map& vm) {
  std::vector<std::string> args;
  if (vm.count("sweep-args")) args = vm["sweep-args"].as<std::vector<std::string>>();
  if (args.size() != 2)
    return usage_error("sweep needs an action and a file: plan|run|run-one SWEEP.json, or collect DIR");
  const std::string& action = args[0];
  const bool is_plan = action == "plan", is_run = action == "run", is_one = action == "run-one",
             is_collect = action == "collect";
  if (!is_plan && !is_run && !is_one && !is_collect)
    return usage_error("sweep: unknown action '" + action + "' (plan, run, run-one or collect)");
  // Each option belongs to some actions only: refuse it elsewhere rather than ignore it.
  struct Only {
    const char* option;
    bool allowed;
    const char* where;
  };
  for (const Only& o :
       {Only{"out", !is_collect, "plan, run and run-one (collect takes DIR)"}, Only{"jobs", is_run, "run"},
        Only{"index", is_one, "run-one"}, Only{"throttle", is_plan && slurm_, "plan --slurm"},
        Only{"pilot", is_plan && slurm_, "plan --slurm"}, Only{"partial", is_collect, "collect"},
        Only{"no-charts", is_collect || is_run, "collect and run"}}) {
    if (!o.allowed && vm.count(o.option) && !vm[o.option].defaulted())
      return usage_error(fmt::format("--{} goes with sweep {}", o.option, o.where));
  }
  if (slurm_ && !is_plan) return usage_error("--slurm goes with sweep plan");
  if (is_one && !vm.count("index")) return usage_error("sweep run-one needs --index N");
  if (is_run && jobs_ == 0) return usage_error("--jobs must be 1 or more");
  if (throttle_ == 0) return usage_error("--throttle must be 1 or more");
  if (is_collect) return collect(args[1]);

  SweepSpec spec;
  if (int rc = load(args[1], &spec); rc != kExitOk) return rc;
  const SweepLayout layout(absolute_path(out_.empty() ? "sweep-" + spec.name : out_), spec.point_count());
  if (is_plan) {
    if (vm.count("pilot") && pilot_ >= spec.point_count())
      return usage_error(fmt::format("--pilot {}: the sweep has points 0 .. {}", pilot_, spec.point_count() - 1));
    if (!vm.count("pilot")) pilot_ = spec.point_count() - 1;
    return plan(spec, layout);
  }
  if (is_one) return run_one(spec, layout, vm);
  return run(spec, layout);
}

int SweepCommand::plan(const SweepSpec& spec, const SweepLayout& layout) {
  const std::string ctsim = self_executable();
  if (Status st = write_plan(spec, layout, ctsim); !st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return kExitUsage;
  }
  if (slurm_) {
    std::error_code ec;
    std::filesystem::create_directories(layout.dir() + "/slurm", ec);
    int point_exit = 0;
    ChildOutcome cost;
    if (Status st = run_point(spec, layout, ctsim, pilot_, &point_exit, &cost); !st.ok()) {
      std::fprintf(stderr, "ctsim: pilot run of point %zu: %s\n", pilot_, st.message().c_str());
      return kExitUsage;
    }
    if (point_exit != 0) {
      std::fprintf(stderr, "ctsim: the pilot run of point %zu (%s) failed with exit %d; see %s\n", pilot_,
                   point_label(spec, pilot_).c_str(), point_exit, layout.result(pilot_).c_str());
      return kExitBroken;
    }
    if (Status st = write_text(layout.sbatch(), slurm_script(spec, layout, ctsim, throttle_, pilot_, cost)); !st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
    std::fprintf(stderr, "ctsim: pilot point %zu took %.2f s and %ld KiB; submit with: sbatch %s\n", pilot_,
                 cost.wall_seconds, cost.max_rss_kib, layout.sbatch().c_str());
  }
  std::fprintf(stderr, "ctsim: sweep %s: %zu points planned in %s (run list: %s)\n", spec.name.c_str(),
               spec.point_count(), layout.dir().c_str(), layout.plan().c_str());
  return kExitOk;
}

int SweepCommand::run_one(const SweepSpec& spec, const SweepLayout& layout, const po::variables_map&) {
  if (index_ >= spec.point_count())
    return usage_error(fmt::format("--index {}: the sweep has points 0 .. {}", index_, spec.point_count() - 1));
  if (Status st = check_planned(spec, layout); !st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return kExitUsage;
  }
  int point_exit = 0;
  if (Status st = run_point(spec, layout, self_executable(), index_, &point_exit, nullptr); !st.ok()) {
    std::fprintf(stderr, "ctsim: point %zu: %s\n", index_, st.message().c_str());
    return kExitUsage;
  }
  if (point_exit != 0)
    std::fprintf(stderr, "ctsim: point %zu (%s) failed with exit %d (its stderr: %s)\n", index_,
                 point_label(spec, index_).c_str(), point_exit, layout.stderr_log(index_).c_str());
  return point_exit;
}

int SweepCommand::run(const SweepSpec& spec, const SweepLayout& layout) {
  if (int rc = plan(spec, layout); rc != kExitOk) return rc;
  // GNU parallel with its job log: a sweep killed and started again skips
  // the points the log says are done (--resume-failed also runs again the
  // ones that failed, or were interrupted by a signal).
  const std::vector<std::string> argv = {
      "parallel",        "--will-cite",       "--jobs",     std::to_string(jobs_), "--joblog",        layout.joblog(),
      "--resume-failed", "--quote",           "--arg-file", layout.indices(),      self_executable(), "sweep",
      "run-one",         layout.sweep_json(), "--out",      layout.dir(),          "--index",         "{}"};
  ChildOutcome outcome;
  if (Status st = run_child(argv, "", "", &outcome); !st.ok()) {
    std::fprintf(stderr,
                 "ctsim: sweep run needs GNU parallel, which cannot be run (%s); Debian: apt-get install parallel\n",
                 st.message().c_str());
    return kExitUsage;
  }
  // parallel's exit: the number of failed points (up to 100), or more when
  // it could not run; collect says which points failed either way.
  if (outcome.exit_code > 101) {
    std::fprintf(stderr, "ctsim: GNU parallel failed (exit %d)\n", outcome.exit_code);
    return kExitUsage;
  }
  return collect(layout.dir());
}

int SweepCommand::collect(const std::string& dir_arg) {
  const std::string dir = absolute_path(dir_arg);
  SweepSpec spec;
  {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/sweep.json", ec)) {
      std::fprintf(stderr, "ctsim: %s holds no planned sweep (no sweep.json): plan it with `ctsim sweep plan`\n",
                   dir_arg.c_str());
      return kExitUsage;
    }
  }
  if (int rc = load(dir + "/sweep.json", &spec); rc != kExitOk) return rc;
  const SweepLayout layout(dir, spec.point_count());
  Collected c;
  if (Status st = collect_results(spec, layout, partial_, &c); !st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return st.code() == Status::Code::kNotFound ? kExitBroken : kExitUsage;
  }
  if (!no_charts_) {
    if (Status st = render_sweep_charts(spec, layout, c); !st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
  }
  for (size_t i : c.failed)
    std::fprintf(stderr, "ctsim: point %zu (%s) failed; its exit code and stderr are in %s\n", i,
                 point_label(spec, i).c_str(), layout.failures().c_str());
  if (!c.missing.empty())
    std::fprintf(stderr, "ctsim: %zu of %zu points not run yet were left out (--partial)\n", c.missing.size(),
                 c.points);
  std::fprintf(stderr, "ctsim: sweep %s: %zu of %zu points done, %zu failed: %s, %s%s\n", spec.name.c_str(),
               c.points - c.missing.size() - c.failed.size(), c.points, c.failed.size(), layout.results_csv().c_str(),
               layout.summary_csv().c_str(), no_charts_ ? "" : fmt::format(", {}/", layout.charts_dir()).c_str());
  return c.failed.empty() && c.missing.empty() ? kExitOk : kExitBroken;
}

}  // namespace

std::unique_ptr<Command> make_sweep_command() { return std::make_unique<SweepCommand>(); }

}  // namespace ctsim::cli
