// ctsim: command line.
//
//   ctsim run SCENARIO [--trace F] [--events F] [--snapshots F] [--timestamps]
//                      [--check] [--trace-gc all|reaping] [--explain F]
//                      [--series F.csv] [--series-every D] [--quiet]
//   ctsim check SCENARIO
//   ctsim diff EXPECTED ACTUAL [--ignore-field F]... [--ignore-kind K]...
//                              [--from T] [--to T] [--context N]
//
// Exit codes: 0 success; 1 a broken invariant (or, for diff, a difference);
// 2 bad usage or bad input (nothing run, nothing written).
#include <unistd.h>

#include <boost/program_options.hpp>
#include "sim/output/plot_data.h"
#include <cstring>
#include <cerrno>
#include <sys/stat.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"
#include "sim/output/trace_diff.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBroken = 1;
constexpr int kExitUsage = 2;

const char* const kUsage =
    "usage: ctsim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run SCENARIO    replay a scenario and write the outputs asked for\n"
    "  check SCENARIO  validate a scenario without running it\n"
    "  diff EXP ACT    compare two JSONL traces record by record\n"
    "  plot RUN_DIR    render the charts of a run saved with `run --plots RUN_DIR`\n"
    "\n"
    "Run `ctsim <command> --help` for the command's options.\n"
    "Exit codes: 0 ok, 1 broken invariant or difference, 2 bad usage or input.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ctsim: %s\n\n%s", msg.c_str(), kUsage);
  return kExitUsage;
}

// The progress line: shown on a terminal once a run has taken about two
// seconds of wall time, refreshed a few times a second, erased at the end.
// The wall clock is read here only, for this display; no output file
// depends on it.
// TEST_ hook: CTSIM_TEST_PROGRESS_AFTER_MS overrides the two seconds (and
// the refresh interval), so a test can see the line on a short run.
class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressLine() {
    if (const char* ms = std::getenv("CTSIM_TEST_PROGRESS_AFTER_MS")) {
      after_ = std::chrono::milliseconds(std::atoi(ms));
      every_ = after_;
    }
  }
  void update(const ctsim::RunProgress& p) {
    const Clock::time_point now = Clock::now();
    if (now - start_ < after_ || now - last_ < every_) return;
    const double secs = std::chrono::duration<double>(now - start_).count();
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\rctsim: virtual time %s, %.0f events/s, table %llu conns   ",
                 ctsim::format_duration(p.now).c_str(), static_cast<double>(p.engine_events) / secs,
                 static_cast<unsigned long long>(p.table));
    std::fflush(stderr);
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
  std::chrono::milliseconds after_{2000}, every_{250};
  bool shown_ = false;
};

// The gnuplot scripts: CTSIM_PLOTS_DIR in the environment, else the source
// tree's plots/ (compiled in).
std::string plots_scripts_dir() {
  if (const char* d = std::getenv("CTSIM_PLOTS_DIR")) return d;
  return CTSIM_DEFAULT_PLOTS_DIR;
}

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

// Parses a command's arguments: the visible options plus positional
// arguments collected under `positional_name` (at most `max_positional`).
// Returns false after reporting a usage error (the command then exits 2).
bool parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* positional_name, int max_positional, po::variables_map* vm) {
  po::options_description hidden;
  if (max_positional == 1) {
    hidden.add_options()(positional_name, po::value<std::string>(), "positional argument");
  } else {
    hidden.add_options()(positional_name, po::value<std::vector<std::string>>(), "positional arguments");
  }
  po::positional_options_description pos;
  pos.add(positional_name, max_positional);
  po::options_description all;
  all.add(opts).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), *vm);
    po::notify(*vm);
  } catch (const po::error& e) {
    usage_error(e.what());
    return false;
  }
  return true;
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description opts("ctsim check SCENARIO");
  opts.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!parse_command(args, opts, "scenario", 1, &vm)) return kExitUsage;
  if (vm.count("help")) {
    std::cout << opts << "\nValidates the scenario; prints every problem found.\n";
    return kExitOk;
  }
  if (!vm.count("scenario")) return usage_error("check needs a SCENARIO file");
  ctsim::Scenario s;
  ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return kExitUsage;
  }
  std::printf("%s: ok (%zu namespaces, %zu packets, %zu actions)\n", vm["scenario"].as<std::string>().c_str(),
              s.namespaces.size(), s.packets.size(), s.actions.size());
  return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
  ctsim::RunOptions ro;
  std::string trace_gc = "reaping";
  std::string series_every = "1s";
  std::string snapshots_format = "conntrack";
  std::string plots_dir;
  bool quiet = false;
  po::options_description opts("ctsim run SCENARIO [options]");
  opts.add_options()
      ("help,h", "show this help")
      ("trace", po::value(&ro.trace_path), "write the JSONL trace to FILE (- for stdout)")
      ("events", po::value(&ro.events_path), "write the conntrack -E event stream to FILE")
      ("snapshots", po::value(&ro.snapshots_path),
       "write conntrack -L / -S text at snapshot and stats actions to FILE")
      ("timestamps", po::bool_switch(&ro.event_timestamps),
       "prefix event lines with the virtual time, as conntrack -E -o timestamp")
      ("event-id", po::bool_switch(&ro.event_ids), "end event lines with id=CONN, as conntrack -E -o id")
      ("snapshots-format", po::value(&snapshots_format),
       "'conntrack' (conntrack -L / -S, default) or 'proc' (/proc/net/nf_conntrack, /proc/net/stat/nf_conntrack)")
      ("trace-gc", po::value(&trace_gc), "gc records: 'reaping' (runs that reaped, default) or 'all'")
      ("check", po::bool_switch(&ro.check_invariants),
       "check the core's invariants after every event (slow); exit 1 if one breaks")
      ("explain", po::value(&ro.explain_path),
       "write a numbered narrative of every step, in the kernel's function names, to FILE")
      ("series", po::value(&ro.series_path), "write a CSV time series (one row per --series-every) to FILE")
      ("series-every", po::value(&series_every), "virtual time between series rows (default 1s)")
      ("plots", po::value(&plots_dir),
       "write trace.jsonl and series.csv into DIR and render every chart there (PNG and SVG; needs gnuplot)")
      ("quiet,q", po::bool_switch(&quiet), "no progress line and no summary on stderr");
  po::variables_map vm;
  if (!parse_command(args, opts, "scenario", 1, &vm)) return kExitUsage;
  if (vm.count("help")) {
    std::cout << opts;
    return kExitOk;
  }
  if (!vm.count("scenario")) return usage_error("run needs a SCENARIO file");
  if (trace_gc != "reaping" && trace_gc != "all")
    return usage_error("--trace-gc takes 'reaping' or 'all', not '" + trace_gc + "'");
  ro.trace_all_gc = trace_gc == "all";
  if (snapshots_format != "conntrack" && snapshots_format != "proc")
    return usage_error("--snapshots-format takes 'conntrack' or 'proc', not '" + snapshots_format + "'");
  ro.snapshots_proc = snapshots_format == "proc";
  if (!plots_dir.empty()) {
    if (!ro.trace_path.empty() || !ro.series_path.empty())
      return usage_error("--plots writes its own trace.jsonl and series.csv into its directory; leave out --trace and --series");
    if (::mkdir(plots_dir.c_str(), 0777) != 0 && errno != EEXIST)
      return usage_error("--plots " + plots_dir + ": cannot create the directory: " + std::strerror(errno));
    ro.trace_path = plots_dir + "/trace.jsonl";
    ro.series_path = plots_dir + "/series.csv";
  }

  ctsim::Scenario s;
  ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return kExitUsage;
  }
  {
    auto every = ctsim::parse_duration(series_every, s.hz);
    if (!every) return usage_error("--series-every " + series_every + ": " + every.error().what);
    if (*every <= 0) return usage_error("--series-every must be more than 0");
    ro.series_every = *every;
  }
  ProgressLine progress;
  if (!quiet && ::isatty(STDERR_FILENO)) ro.progress = [&](const ctsim::RunProgress& p) { progress.update(p); };
  ctsim::Simulator sim(s, ro);
  ctsim::RunSummary sum;
  st = sim.run(&sum);
  progress.clear();
  if (!st.ok()) {
    std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
    return kExitUsage;
  }
  if (!sum.invariant_error.empty()) {
    std::fprintf(stderr, "ctsim: invariant broken %s\n", sum.invariant_error.c_str());
    return kExitBroken;
  }
  if (!plots_dir.empty()) {
    if (int rc = render_run_dir(plots_dir); rc != kExitOk) return rc;
  }
  if (quiet) return kExitOk;
  std::fprintf(stderr, "ctsim: %s: %llu packets, %llu conns created, %llu freed, %llu events, ended at %s\n",
               s.name.c_str(), static_cast<unsigned long long>(sum.packets),
               static_cast<unsigned long long>(sum.conns_created), static_cast<unsigned long long>(sum.conns_freed),
               static_cast<unsigned long long>(sum.events), ctsim::format_duration(sum.end_time).c_str());
  for (const auto& [what, path] : {std::pair<const char*, std::string>{"trace", ro.trace_path},
                                   {"events", ro.events_path}, {"snapshots", ro.snapshots_path},
                                   {"explain", ro.explain_path}, {"series", ro.series_path}}) {
    if (!path.empty() && path != "-") std::fprintf(stderr, "ctsim: %s written to %s\n", what, path.c_str());
  }
  if (!plots_dir.empty()) std::fprintf(stderr, "ctsim: charts written to %s (*.png, *.svg)\n", plots_dir.c_str());
  return kExitOk;
}

// `ctsim plot DIR`: the charts of a saved run (DIR/trace.jsonl, DIR/series.csv).
int cmd_plot(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
    if (args.size() == 1) {
      std::fputs("usage: ctsim plot RUN_DIR\n\nRenders the charts of a run saved with `ctsim run S --plots RUN_DIR`\n"
                 "(or with --trace RUN_DIR/trace.jsonl --series RUN_DIR/series.csv) into RUN_DIR.\n", stdout);
      return kExitOk;
    }
    return usage_error("plot needs one RUN_DIR");
  }
  return render_run_dir(args[0]);
}

int cmd_diff(const std::vector<std::string>& args) {
  ctsim::TraceDiffOptions o;
  po::options_description opts("ctsim diff EXPECTED ACTUAL [options]");
  opts.add_options()
      ("help,h", "show this help")
      ("ignore-field", po::value(&o.ignore_fields), "do not compare field NAME (repeatable)")
      ("ignore-kind", po::value(&o.ignore_kinds), "skip records of kind KIND on both sides (repeatable)")
      ("from", po::value(&o.from), "compare only records with t >= T (e.g. 1.5s, 200ms, j:123)")
      ("to", po::value(&o.to), "compare only records with t <= T")
      ("context", po::value(&o.context)->default_value(3), "records of context shown either side");
  po::variables_map vm;
  if (!parse_command(args, opts, "files", 2, &vm)) return kExitUsage;
  if (vm.count("help")) {
    std::cout << opts
              << "\nExit codes: 0 same, 1 different (the first difference is printed), 2 bad input.\n";
    return kExitOk;
  }
  if (!vm.count("files") || vm["files"].as<std::vector<std::string>>().size() != 2)
    return usage_error("diff needs two trace files: EXPECTED ACTUAL");
  if (o.context < 0) return usage_error("--context must be >= 0");
  const auto& files = vm["files"].as<std::vector<std::string>>();
  const ctsim::TraceDiffResult r = ctsim::diff_trace_files(files[0], files[1], o);
  if (r.outcome == ctsim::TraceDiffResult::Outcome::kBadInput) {
    std::fprintf(stderr, "ctsim diff: %s\n", r.report.c_str());
  } else if (r.outcome == ctsim::TraceDiffResult::Outcome::kDifferent) {
    std::fputs(r.report.c_str(), stdout);
  }
  return r.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "run") return cmd_run(rest);
  if (cmd == "check") return cmd_check(rest);
  if (cmd == "diff") return cmd_diff(rest);
  if (cmd == "plot") return cmd_plot(rest);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  return usage_error("unknown command '" + cmd + "'");
}
