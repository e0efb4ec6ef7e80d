// Before <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/cli/run_output_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "sim/cli/plot_command.h"
#include "sim/cli/progress_line.h"
#include "sim/output/output_file.h"

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

// `--stats`: the end record's fields (docs/TRACE_SCHEMA.md, `end`) with the
// scenario's name and the run's length, as one JSON line.
std::string end_stats_json(const ctsim::Scenario& s, const ctsim::RunSummary& sum) {
  std::string out = fmt::format(
      "{{\"scenario\":{},\"end_ns\":{},\"packets\":{},\"conns_created\":{},\"conns_freed\":{},\"events\":{},"
      "\"stats\":{{",
      nlohmann::json(s.name).dump(), sum.end_time, sum.packets, sum.conns_created, sum.conns_freed, sum.events);
  bool first = true;
  for (const ctcore::IpConntrackStatField& f : ctcore::kIpConntrackStatFields) {
    if (!ctcore::ip_conntrack_stat_shown(f, s.kernel.stat_chaintoolong)) continue;
    out += fmt::format("{}\"{}\":{}", first ? "" : ",", f.name, sum.stats.*f.member);
    first = false;
  }
  return out + "}}\n";
}

}  // namespace

void RunOutputOptions::add_options(po::options_description& opts) {
  opts.add_options()("kernel", po::value(&kernel_)->value_name("VERSION"),
                     "behave as this kernel's conntrack, replacing the scenario's \"kernel\": 5.10 (default), "
                     "5.15, 6.1, 6.6, 6.12, 6.18, or a -late stable profile (ctsim kernels lists them)")(
      "trace", po::value(&ro_.trace_path)->value_name("FILE"),
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
      "html", po::value(&ro_.html_path)->value_name("FILE"),
      "write the explorer: one self-contained HTML page to click through the run (docs/EXPLORER.md)")(
      "series-every", po::value(&series_every_)->value_name("DURATION"),
      "virtual time between series rows (default 1s)")(
      "stats", po::value(&stats_path_)->value_name("FILE"),
      "write the end statistics (the trace's end record: counts and the summed conntrack -S counters) to FILE, one "
      "JSON object")(
      "plots", po::value(&plots_dir_)->value_name("DIR"),
      "write trace.jsonl and series.csv into DIR and render every chart there (PNG and SVG; needs gnuplot)")(
      "pcap-out", po::value(&ro_.pcap_out_path)->value_name("FILE"),
      "write every packet as it leaves the simulated stack (after NAT, with its verdict) to FILE, one interface "
      "per namespace and path, each with a comment saying what conntrack did")(
      "pcap-out-format", po::value(&pcap_format_)->value_name("FORMAT"),
      "'pcapng' (default, with comments) or 'pcap' (classic, via libpcap, no comments)")(
      "quiet,q", po::bool_switch(&quiet_), "no progress line and no summary on stderr");
}

std::vector<const char*> RunOutputOptions::path_options() {
  return {"trace", "events", "snapshots", "explain", "series", "plots", "stats", "html", "pcap-out"};
}

int RunOutputOptions::validate() {
  if (!kernel_.empty() && ctcore::kernel_profile_find(kernel_) == nullptr) {
    std::string names;
    for (const ctcore::kernel_profile_entry& e : ctcore::kernel_profiles())
      names += (names.empty() ? "" : ", ") + std::string(e.name);
    return usage_error("--kernel takes one of " + names + ", not '" + kernel_ + "'");
  }
  if (trace_gc_ != "reaping" && trace_gc_ != "all")
    return usage_error("--trace-gc takes 'reaping' or 'all', not '" + trace_gc_ + "'");
  ro_.trace_all_gc = trace_gc_ == "all";
  if (snapshots_format_ != "conntrack" && snapshots_format_ != "proc")
    return usage_error("--snapshots-format takes 'conntrack' or 'proc', not '" + snapshots_format_ + "'");
  ro_.snapshots_proc = snapshots_format_ == "proc";
  if (pcap_format_ != "pcapng" && pcap_format_ != "pcap")
    return usage_error("--pcap-out-format takes 'pcapng' or 'pcap', not '" + pcap_format_ + "'");
  ro_.pcap_out_format = pcap_format_ == "pcap" ? PcapFormat::kPcap : PcapFormat::kPcapng;
  if (!plots_dir_.empty()) {
    if (!ro_.trace_path.empty() || !ro_.series_path.empty())
      return usage_error(
          "--plots writes its own trace.jsonl and series.csv into its directory; leave out --trace and --series");
    if (::mkdir(plots_dir_.c_str(), 0777) != 0 && errno != EEXIST)
      return usage_error("--plots " + plots_dir_ + ": cannot create the directory: " + std::strerror(errno));
    ro_.trace_path = plots_dir_ + "/trace.jsonl";
    ro_.series_path = plots_dir_ + "/series.csv";
  }
  return kExitOk;
}

int RunOutputOptions::run(const Scenario& s) {
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
  // Opened before the run so that a bad path fails before any work; written
  // and published after the other outputs, so it is there only when the
  // whole run succeeded (a sweep takes it as the mark of a finished run).
  OutputFile stats_out;
  if (!stats_path_.empty()) {
    if (ctsim::Status st = stats_out.open(stats_path_); !st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
  }
  ProgressLine progress;
  if (!quiet_ && ::isatty(STDERR_FILENO)) ro_.progress = [&](const ctsim::RunProgress& p) { progress.update(p); };
  // A process about to exit need not free the table, the slabs and the
  // pools piece by piece: the simulator is left to the exit, except when
  // checking and under the sanitizers, where everything is freed so that
  // a leak shows.
  auto sim = std::make_unique<ctsim::Simulator>(s, ro_);
  ctsim::RunSummary sum;
  ctsim::Status st = sim->run(&sum);
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
  if (stats_out.is_open()) {
    stats_out.write(end_stats_json(s, sum));
    if (st = stats_out.finish(); st.ok()) st = stats_out.publish();
    if (!st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
  }
  if (quiet_) return kExitOk;
  std::fprintf(stderr, "ctsim: %s: %llu packets, %llu conns created, %llu freed, %llu events, ended at %s\n",
               s.name.c_str(), static_cast<unsigned long long>(sum.packets),
               static_cast<unsigned long long>(sum.conns_created), static_cast<unsigned long long>(sum.conns_freed),
               static_cast<unsigned long long>(sum.events), ctsim::format_duration(sum.end_time).c_str());
  // Each capture: frames read, replayed, and every reason one was skipped.
  for (const ctsim::CaptureSummary& c : sum.captures) {
    std::string skipped;
    for (size_t r = 0; r < c.skipped.size(); ++r)
      if (c.skipped[r] != 0)
        skipped += (skipped.empty() ? "" : ", ") + std::to_string(c.skipped[r]) + " " + ctsim::kFrameSkipNames[r];
    std::fprintf(stderr, "ctsim: capture %s: %llu frames, %llu replayed%s%s%s\n", c.file.c_str(),
                 static_cast<unsigned long long>(c.frames), static_cast<unsigned long long>(c.replayed),
                 skipped.empty() ? "" : ", skipped: ", skipped.c_str(),
                 c.error.empty() ? "" : ("; the file ends in a damaged record: " + c.error).c_str());
  }
  for (const auto& [what, path] : {std::pair<const char*, std::string>{"trace", ro_.trace_path},
                                   {"events", ro_.events_path},
                                   {"snapshots", ro_.snapshots_path},
                                   {"explain", ro_.explain_path},
                                   {"series", ro_.series_path},
                                   {"stats", stats_path_},
                                   {"explorer page", ro_.html_path},
                                   {"packets", ro_.pcap_out_path}}) {
    if (!path.empty() && path != "-") std::fprintf(stderr, "ctsim: %s written to %s\n", what, path.c_str());
  }
  if (!plots_dir_.empty()) std::fprintf(stderr, "ctsim: charts written to %s (*.png, *.svg)\n", plots_dir_.c_str());
  return kExitOk;
}

}  // namespace ctsim::cli
