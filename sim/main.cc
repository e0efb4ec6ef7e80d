// ctsim: the command line. `ctsim --help` prints every command's options
// (the man page is generated from it); each command parses its arguments
// with Boost.Program_options.
//
// Exit codes: 0 success; 1 a broken invariant (or, for diff, a difference);
// 2 bad usage or bad input (nothing run, nothing written).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/output/plot_data.h"
#include "sim/output/plot_render.h"
#include "sim/output/trace_diff.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBroken = 1;
constexpr int kExitUsage = 2;

// The kernel versions this build simulates; the first is the default.
const char* const kKernelProfiles[] = {"5.10"};

const char* const kCommands =
    "commands:\n"
    "  run SCENARIO    replay a scenario and write the outputs asked for\n"
    "  check SCENARIO  validate a scenario without running it\n"
    "  diff EXP ACT    compare two JSONL traces record by record\n"
    "  plot RUN_DIR    render the charts of a run saved with `run --plots RUN_DIR`\n";

const char* const kExitCodes = "Exit codes: 0 ok, 1 broken invariant or difference, 2 bad usage or input.\n";

void print_usage(std::FILE* to) {
  std::fprintf(
      to, "usage: ctsim <command> [options]\n\n%s\nRun `ctsim --help` or `ctsim <command> --help` for the options.\n%s",
      kCommands, kExitCodes);
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ctsim: %s\n\n", msg.c_str());
  print_usage(stderr);
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

// Prints `opts` as `--help` shows them: the caption, then each option and
// its argument, two spaces, and its description wrapped at word boundaries
// (help2man needs the two spaces to tell an option from its description).
std::string format_options(const std::string& caption, const po::options_description& opts) {
  constexpr size_t kWidth = 100;
  std::vector<std::pair<std::string, std::string>> rows;
  size_t col = 0;
  for (const auto& o : opts.options()) {
    std::string left = "  " + o->format_name();
    const std::string param = o->format_parameter();
    if (!param.empty()) left += " " + param;
    col = std::max(col, left.size() + 2);
    rows.emplace_back(left, o->description());
  }
  std::string out = caption + ":\n";
  for (const auto& [left, desc] : rows) {
    std::string line = left + std::string(col - left.size(), ' ');
    std::istringstream words(desc);
    std::string w;
    bool first = true;
    while (words >> w) {
      if (!first && line.size() + 1 + w.size() > kWidth) {
        out += line + "\n";
        line = std::string(col, ' ');
        first = true;
      }
      if (!first) line += ' ';
      line += w;
      first = false;
    }
    out += line + "\n";
  }
  return out;
}

// One subcommand: its options (bound to its own fields), its positional
// arguments and what it does.
class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  // The synopsis, e.g. "ctsim run SCENARIO [options]".
  virtual const char* synopsis() const = 0;
  // Text after the options in --help (may be empty).
  virtual const char* epilogue() const { return ""; }
  // The positional arguments: their name and how many at most.
  virtual const char* positional_name() const = 0;
  virtual int max_positional() const { return 1; }
  // Options that name a file or directory to write: a value that looks
  // like an option ("--quiet") is refused, not taken as a file name.
  virtual std::vector<const char*> path_options() const { return {}; }
  virtual void add_options(po::options_description& opts) = 0;
  // Runs with the parsed arguments. Returns the exit code.
  virtual int execute(const po::variables_map& vm) = 0;

  po::options_description describe() {
    po::options_description opts(synopsis());
    opts.add_options()("help,h", "show this help");
    add_options(opts);
    return opts;
  }

  int main(const std::vector<std::string>& args) {
    po::options_description opts = describe();
    po::options_description hidden;
    if (max_positional() == 1)
      hidden.add_options()(positional_name(), po::value<std::string>(), "positional argument");
    else
      hidden.add_options()(positional_name(), po::value<std::vector<std::string>>(), "positional arguments");
    po::positional_options_description pos;
    pos.add(positional_name(), max_positional());
    po::options_description all;
    all.add(opts).add(hidden);
    po::variables_map vm;
    try {
      po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      return usage_error(e.what());
    }
    if (vm.count("help")) {
      std::cout << format_options(synopsis(), opts) << epilogue();
      return kExitOk;
    }
    for (const char* o : path_options()) {
      if (!vm.count(o)) continue;
      const std::string& v = vm[o].as<std::string>();
      if (v.size() > 1 && v[0] == '-')
        return usage_error(std::string("--") + o + " needs a file name, not '" + v +
                           "' (to name a file that starts with '-', write ./" + v + ")");
    }
    return execute(vm);
  }
};

class CheckCommand : public Command {
 public:
  const char* name() const override { return "check"; }
  const char* synopsis() const override { return "ctsim check SCENARIO"; }
  const char* epilogue() const override { return "\nValidates the scenario; prints every problem found.\n"; }
  const char* positional_name() const override { return "scenario"; }
  void add_options(po::options_description&) override {}
  int execute(const po::variables_map& vm) override {
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
};

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
  ProgressLine progress;
  if (!quiet_ && ::isatty(STDERR_FILENO)) ro_.progress = [&](const ctsim::RunProgress& p) { progress.update(p); };
  ctsim::Simulator sim(s, ro_);
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

// `ctsim plot DIR`: the charts of a saved run (DIR/trace.jsonl, DIR/series.csv).
class PlotCommand : public Command {
 public:
  const char* name() const override { return "plot"; }
  const char* synopsis() const override { return "ctsim plot RUN_DIR"; }
  const char* epilogue() const override {
    return "\nRenders the charts of a run saved with `ctsim run S --plots RUN_DIR` (or with\n"
           "--trace RUN_DIR/trace.jsonl --series RUN_DIR/series.csv) into RUN_DIR. Needs gnuplot.\n";
  }
  const char* positional_name() const override { return "run-dir"; }
  void add_options(po::options_description&) override {}
  int execute(const po::variables_map& vm) override {
    if (!vm.count("run-dir")) return usage_error("plot needs one RUN_DIR");
    return render_run_dir(vm["run-dir"].as<std::string>());
  }
};

class DiffCommand : public Command {
 public:
  const char* name() const override { return "diff"; }
  const char* synopsis() const override { return "ctsim diff EXPECTED ACTUAL [options]"; }
  const char* epilogue() const override {
    return "\nExit codes: 0 same, 1 different (the first difference is printed), 2 bad input.\n";
  }
  const char* positional_name() const override { return "files"; }
  int max_positional() const override { return 2; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("ignore-field", po::value(&o_.ignore_fields)->value_name("NAME"),
                       "do not compare field NAME (repeatable)")(
        "ignore-kind", po::value(&o_.ignore_kinds)->value_name("KIND"),
        "skip records of kind KIND on both sides (repeatable)")(
        "from", po::value(&o_.from)->value_name("T"), "compare only records with t >= T (e.g. 1.5s, 200ms, j:123)")(
        "to", po::value(&o_.to)->value_name("T"), "compare only records with t <= T")(
        "context", po::value(&o_.context)->default_value(3)->value_name("N"), "records of context shown either side");
  }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("files") || vm["files"].as<std::vector<std::string>>().size() != 2)
      return usage_error("diff needs two trace files: EXPECTED ACTUAL");
    if (o_.context < 0) return usage_error("--context must be >= 0");
    const auto& files = vm["files"].as<std::vector<std::string>>();
    const ctsim::TraceDiffResult r = ctsim::diff_trace_files(files[0], files[1], o_);
    if (r.outcome == ctsim::TraceDiffResult::Outcome::kBadInput) {
      std::fprintf(stderr, "ctsim diff: %s\n", r.report.c_str());
    } else if (r.outcome == ctsim::TraceDiffResult::Outcome::kDifferent) {
      std::fputs(r.report.c_str(), stdout);
    }
    return r.exit_code();
  }

 private:
  ctsim::TraceDiffOptions o_;
};

// `ctsim --help`: the commands, then every command's options. help2man
// turns this into the man page (ctsim.1), so it is the whole reference.
void print_full_help() {
  std::ostringstream out;
  out << "usage: ctsim <command> [options]\n       ctsim --version\n\n" << kCommands << "\n";
  RunCommand run;
  CheckCommand check;
  DiffCommand diff;
  PlotCommand plot;
  for (Command* c : std::initializer_list<Command*>{&run, &check, &diff, &plot})
    out << format_options(c->synopsis(), c->describe()) << c->epilogue() << "\n";
  out << kExitCodes;
  std::fputs(out.str().c_str(), stdout);
}

void print_version() {
#if defined(__clang__)
  const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char* compiler = "GCC " __VERSION__;
#else
  const char* compiler = "unknown compiler";
#endif
  std::string profiles;
  for (const char* p : kKernelProfiles) {
    if (!profiles.empty()) profiles += ", ";
    profiles += p;
    if (p == kKernelProfiles[0]) profiles += " (default)";
  }
  std::printf("ctsim %s\nbuild: %s, %s\nkernel profiles: %s\n", CTSIM_VERSION, CTSIM_BUILD_TYPE, compiler,
              profiles.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  RunCommand run;
  CheckCommand check;
  DiffCommand diff;
  PlotCommand plot;
  for (Command* c : std::initializer_list<Command*>{&run, &check, &diff, &plot})
    if (cmd == c->name()) return c->main(rest);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_full_help();
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    print_version();
    return kExitOk;
  }
  return usage_error("unknown command '" + cmd + "'");
}
