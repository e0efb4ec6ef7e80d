// `ctsim run SCENARIO [options]`.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "sim/cli/command.h"
#include "sim/cli/plot_command.h"
#include "sim/cli/progress_line.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace ctsim::cli {

namespace {

// Built with AddressSanitizer (gcc and clang spell it differently).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

class RunCommand : public Command {
 public:
  const char* name() const override { return "run"; }
  const char* synopsis() const override { return "ctsim run SCENARIO [options]"; }
  const char* positional_name() const override { return "scenario"; }
  std::vector<const char*> path_options() const override {
    return {"trace", "events", "snapshots", "explain", "series", "plots"};
  }
  void add_options(po::options_description& opts) override {
    opts.add_options()("trace", po::value(&ro_.trace_path)->value_name("FILE"),
                       "write the JSONL trace to FILE (- for stdout)")(
        "events", po::value(&ro_.events_path)->value_name("FILE"), "write the conntrack -E event stream to FILE")(
        "snapshots", po::value(&ro_.snapshots_path)->value_name("FILE"),
        "write conntrack -L / -S text at snapshot and stats actions to FILE")(
        "timestamps", po::bool_switch(&ro_.event_timestamps),
        "prefix event lines with the virtual time, as conntrack -E -o timestamp")(
        "event-id", po::bool_switch(&ro_.event_ids), "end event lines with id=CONN, as conntrack -E -o id")(
        "snapshots-format", po::value(&snapshots_format_)->value_name("FORMAT"),
        "'conntrack' (conntrack -L / -S, default) or 'proc' (/proc/net/nf_conntrack, /proc/net/stat/nf_conntrack)")(
        "trace-gc", po::value(&trace_gc_)->value_name("WHICH"),
        "gc records: 'reaping' (runs that reaped, default) or 'all'")(
        "check", po::bool_switch(&ro_.check_invariants),
        "check the core's invariants after every event (slow); exit 1 if one breaks")(
        "check-every", po::value(&check_every_)->value_name("DURATION"),
        "check the core's invariants once per DURATION of virtual time (for long runs); exit 1 if one breaks")(
        "exact-walks", po::bool_switch(&ro_.exact_walks),
        "walk every chain as v5.10 does, without ctsim's bucket-hint shortcuts (same outputs, slower)")(
        "explain", po::value(&ro_.explain_path)->value_name("FILE"),
        "write a numbered narrative of every step, in the kernel's function names, to FILE (- for stdout)")(
        "series", po::value(&ro_.series_path)->value_name("FILE"),
        "write a CSV time series (one row per --series-every) to FILE")(
        "series-every", po::value(&series_every_)->value_name("DURATION"),
        "virtual time between series rows (default 1s)")(
        "plots", po::value(&plots_dir_)->value_name("DIR"),
        "write trace.jsonl and series.csv into DIR and render every chart there (PNG and SVG; needs gnuplot)")(
        "quiet,q", po::bool_switch(&quiet_), "no progress line and no summary on stderr");
  }
  int execute(const po::variables_map& vm) override;

 private:
  ctsim::RunOptions ro_;
  std::string trace_gc_ = "reaping";
  std::string series_every_ = "1s";
  std::string check_every_;
  std::string snapshots_format_ = "conntrack";
  std::string plots_dir_;
  bool quiet_ = false;
};

int RunCommand::execute(const po::variables_map& vm) {
  if (!vm.count("scenario")) return usage_error("run needs a SCENARIO file");
  if (trace_gc_ != "reaping" && trace_gc_ != "all")
    return usage_error("--trace-gc takes 'reaping' or 'all', not '" + trace_gc_ + "'");
  ro_.trace_all_gc = trace_gc_ == "all";
  if (snapshots_format_ != "conntrack" && snapshots_format_ != "proc")
    return usage_error("--snapshots-format takes 'conntrack' or 'proc', not '" + snapshots_format_ + "'");
  ro_.snapshots_proc = snapshots_format_ == "proc";
  if (!plots_dir_.empty()) {
    if (!ro_.trace_path.empty() || !ro_.series_path.empty())
      return usage_error(
          "--plots writes its own trace.jsonl and series.csv into its directory; leave out --trace and --series");
    if (::mkdir(plots_dir_.c_str(), 0777) != 0 && errno != EEXIST)
      return usage_error("--plots " + plots_dir_ + ": cannot create the directory: " + std::strerror(errno));
    ro_.trace_path = plots_dir_ + "/trace.jsonl";
    ro_.series_path = plots_dir_ + "/series.csv";
  }

  ctsim::Scenario s;
  ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return kExitUsage;
  }
  {
    auto every = ctsim::parse_duration(series_every_, s.hz);
    if (!every) return usage_error("--series-every " + series_every_ + ": " + every.error().what);
    if (*every <= 0) return usage_error("--series-every must be more than 0");
    ro_.series_every = *every;
  }
  if (!check_every_.empty()) {
    auto every = ctsim::parse_duration(check_every_, s.hz);
    if (!every) return usage_error("--check-every " + check_every_ + ": " + every.error().what);
    if (*every <= 0) return usage_error("--check-every must be more than 0");
    ro_.check_every = *every;
  }
  ProgressLine progress;
  if (!quiet_ && ::isatty(STDERR_FILENO)) ro_.progress = [&](const ctsim::RunProgress& p) { progress.update(p); };
  // A process about to exit need not free the table, the slabs and the
  // pools piece by piece: the simulator is left to the exit, except when
  // checking and under the sanitizers, where everything is freed so that
  // a leak shows.
  auto sim = std::make_unique<ctsim::Simulator>(s, ro_);
  ctsim::RunSummary sum;
  st = sim->run(&sum);
  if (!kSanitized && !ro_.check_invariants && ro_.check_every == 0) (void)sim.release();
  progress.clear();
  if (!st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return kExitUsage;
  }
  if (!sum.invariant_error.empty()) {
    std::fprintf(stderr, "ctsim: invariant broken %s\n", sum.invariant_error.c_str());
    return kExitBroken;
  }
  if (!plots_dir_.empty()) {
    if (int rc = render_run_dir(plots_dir_); rc != kExitOk) return rc;
  }
  if (quiet_) return kExitOk;
  std::fprintf(stderr, "ctsim: %s: %llu packets, %llu conns created, %llu freed, %llu events, ended at %s\n",
               s.name.c_str(), static_cast<unsigned long long>(sum.packets),
               static_cast<unsigned long long>(sum.conns_created), static_cast<unsigned long long>(sum.conns_freed),
               static_cast<unsigned long long>(sum.events), ctsim::format_duration(sum.end_time).c_str());
  for (const auto& [what, path] : {std::pair<const char*, std::string>{"trace", ro_.trace_path},
                                   {"events", ro_.events_path},
                                   {"snapshots", ro_.snapshots_path},
                                   {"explain", ro_.explain_path},
                                   {"series", ro_.series_path}}) {
    if (!path.empty() && path != "-") std::fprintf(stderr, "ctsim: %s written to %s\n", what, path.c_str());
  }
  if (!plots_dir_.empty()) std::fprintf(stderr, "ctsim: charts written to %s (*.png, *.svg)\n", plots_dir_.c_str());
  return kExitOk;
}

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace ctsim::cli
