// W1 (one established UDP flow through the whole simulator), W4 (TCP life
// cycles from the flow generator: trace off, the whole process, and every
// output writer on) and W6b (the JSONL trace's record rate): the simulator
// path, built from scenario text as `ctsim run` would load it.
//
// Every figure comes with a reference measured in the same run, and their
// ratio: absolute times drift 10-30% between runs on a shared machine, the
// ratio much less.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/sim_run.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace bench {

namespace {

std::string temp_path(const std::string& name) {
  const char* tmpdir = std::getenv("TMPDIR");
  return fmt::format("{}/ctsim_bench.{}.{}", tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp",
                     static_cast<long>(getpid()), name);
}

std::string read_all(const std::string& path) {
  std::string out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

// W1's traffic under kernel profile `kernel` (a siphash kernel gets a fixed 128-bit key).
std::string w1_text(uint64_t flows, const char* kernel = "5.10") {
  const bool jhash = ctcore::kernel_profile_find(kernel)->profile.hash == ctcore::ct_hash_form::kJhash2;
  return fmt::format(R"({{
    "ctsim": 1, "name": "bench-w1", "seed": 1, "hz": 250, "cpus": 1, "kernel": "{}",
    "table": {{ "buckets": 1024, "max": 4096, "hash_rnd": {} }},
    "namespaces": [ {{ "name": "init", "hash_mix": 0 }} ],
    "flows": [ {{ "at": "0s", "kind": "udp", "netns": "init", "cpu": 0, "count": {},
                  "interval": "20ms", "src": "10.0.0.1:40000", "dst": "192.0.2.1:53",
                  "rtt": "1us", "data_packets": 10000, "reply": true }} ]
  }})",
                     kernel, jhash ? "305419896" : "\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"", flows);
}

// W4's traffic; `extra` adds top-level keys (listeners, actions).
std::string w4_text(uint64_t conns, const std::string& extra = "") {
  return fmt::format(R"({{
    "ctsim": 1, "name": "bench-w4", "seed": 1, "hz": 250, "cpus": 1,
    "table": {{ "buckets": 65536, "max": 262144, "hash_rnd": 305419896 }},
    "namespaces": [ {{ "name": "init", "hash_mix": 0 }} ],{}
    "flows": [ {{ "at": "0s", "kind": "tcp", "netns": "init", "cpu": 0, "count": {},
                  "interval": "10us", "src": "10.0.0.0/8", "dst": "192.0.2.1:80",
                  "rtt": "100us", "data_packets": 1, "close": "fin" }} ],
    "until": "{}us"
  }})",
                     extra, conns, conns * 10 + 1000);
}

// The hit path's cost through the simulator (W1's traffic, `flows` x 20000
// packets): the reference of W4's per-packet figures.
double hit_path_ns(int reps, uint64_t flows) {
  const SimRun r = best_of(reps, w1_text(flows));
  return r.seconds * 1e9 / static_cast<double>(r.packets);
}

// The references of an output of `bytes`: copying the same bytes in memory
// (1 MiB at a time, into a buffer already touched), and writing them to a
// temporary file with write() (1 MiB a call), which is what the kernel
// costs at the least. CPU seconds, best of `reps`.
struct ByteReferences {
  double memcpy_seconds = 0;
  double write_seconds = 0;
};
ByteReferences byte_references(int reps, const std::string& bytes) {
  constexpr size_t kChunk = size_t{1} << 20;
  ByteReferences r{1e300, 1e300};
  std::vector<char> dst(kChunk);
  std::memset(dst.data(), 1, dst.size());
  uint64_t sink = 0;
  for (int k = 0; k < reps; ++k) {
    const auto t0 = SteadyClock::now();
    for (size_t off = 0; off < bytes.size(); off += kChunk) {
      const size_t n = std::min(kChunk, bytes.size() - off);
      std::memcpy(dst.data(), bytes.data() + off, n);
      sink += static_cast<unsigned char>(dst[n - 1]);
    }
    r.memcpy_seconds = std::min(r.memcpy_seconds, seconds_since(t0));
  }
  if (sink == 1) std::printf(" ");  // keeps the copies
  const std::string path = temp_path("write-reference");
  for (int k = 0; k < reps; ++k) {
    const auto t0 = SteadyClock::now();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    for (size_t off = 0; fd >= 0 && off < bytes.size(); off += kChunk) {
      const size_t n = std::min(kChunk, bytes.size() - off);
      if (::write(fd, bytes.data() + off, n) != static_cast<ssize_t>(n)) break;
    }
    if (fd >= 0) ::close(fd);
    r.write_seconds = std::min(r.write_seconds, seconds_since(t0));
    std::remove(path.c_str());
  }
  return r;
}

// `ctsim run FILE --quiet` as a child process: its CPU time (user +
// system, from wait4) and its wall time, best of `reps` each. Returns
// false if ctsim could not be run or failed.
bool whole_process(int reps, const std::string& scenario_path, double* cpu_seconds, double* wall_seconds) {
  *cpu_seconds = *wall_seconds = 1e300;
  for (int k = 0; k < reps; ++k) {
    const auto w0 = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, STDERR_FILENO);
      ::execl(CTSIM_BINARY, CTSIM_BINARY, "run", scenario_path.c_str(), "--quiet", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    struct rusage ru {};
    if (::wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    *cpu_seconds = std::min(*cpu_seconds, cpu);
    *wall_seconds = std::min(*wall_seconds, wall);
  }
  return true;
}

uint64_t count_lines(const std::string& bytes) { return std::count(bytes.begin(), bytes.end(), '\n'); }

// One output writer on W4's traffic: its cost per packet against the same
// scenario with every output off, and its byte rate against copying and
// writing the same bytes.
struct WriterCase {
  const char* name;                                                    // the figure's label
  const char* unit;                                                    // what a line of its output is
  std::string text;                                                    // the scenario
  std::function<void(ctsim::RunOptions&, const std::string&)> enable;  // turns the output on, to the path
};

struct WriterFigures {
  double on_ns = 0, off_ns = 0, lines_per_s = 0;
};

WriterFigures run_writer(const Options& o, const WriterCase& c) {
  const SimRun off = best_of(o.reps, c.text);
  const std::string path = temp_path(c.name);
  ctsim::RunOptions ro;
  c.enable(ro, path);
  const SimRun on = best_of(o.reps, c.text, ro);
  const std::string bytes = read_all(path);
  std::remove(path.c_str());
  const ByteReferences ref = byte_references(o.reps, bytes);
  WriterFigures f;
  f.off_ns = off.seconds * 1e9 / static_cast<double>(off.packets);
  f.on_ns = on.seconds * 1e9 / static_cast<double>(on.packets);
  const uint64_t lines = count_lines(bytes);
  f.lines_per_s = static_cast<double>(lines) / on.seconds;
  std::printf(" %s: %llu %s, %.1f MB, in %.3f s (outputs off: %.3f s)\n", c.name, (unsigned long long)lines, c.unit,
              static_cast<double>(bytes.size()) / 1e6, on.seconds, off.seconds);
  print_figure(fmt::format("{} on", c.name).c_str(), f.on_ns, "ns/packet", "-", true);
  print_figure("  ratio on / outputs off", f.on_ns / f.off_ns, "x", "-", true);
  print_figure(fmt::format("  {} written per second", c.unit).c_str(), f.lines_per_s / 1e6, "M/s", "-", true);
  const double added = std::max(on.seconds - off.seconds, 1e-9);
  print_figure("  added time / memcpy of the same bytes", added / std::max(ref.memcpy_seconds, 1e-9), "x", "-", true);
  print_figure("  added time / write() of the same bytes", added / std::max(ref.write_seconds, 1e-9), "x", "-", true);
  // The figures above are the simulating thread's CPU time; the output's
  // writer thread (its write() calls: the kernel's copy into the page
  // cache) is not in them. Here it is.
  print_figure("  process CPU, all threads: on / outputs off", on.process_seconds / off.process_seconds, "x", "-",
               true);
  print_figure("  wall time: on / outputs off", on.wall_seconds / off.wall_seconds, "x", "-", true);
  print_figure(fmt::format("  {} per second of process CPU", c.unit).c_str(),
               static_cast<double>(lines) / on.process_seconds / 1e6, "M/s", "-", true);
  print_figure(fmt::format("  {} per second of wall time", c.unit).c_str(),
               static_cast<double>(lines) / on.wall_seconds / 1e6, "M/s", "-", true);
  return f;
}

}  // namespace

double w1_hit_path_ns(int reps, uint64_t flows, const char* kernel) {
  const SimRun r = best_of(reps, w1_text(flows, kernel));
  return r.seconds * 1e9 / static_cast<double>(r.packets);
}

void run_w1(const Options& o) {
  // One UDP tuple: `count` flow connections of 10000 exchanges each on the
  // same fixed endpoints, back to back, so conntrack sees one conn. (A flow
  // entry holds at most 10000 exchanges: FlowConn::steps is 16 bits.)
  const uint64_t flows = o.smoke ? 10 : 500;
  const uint64_t packets = flows * 20000;
  std::printf(
      "W1 hit path: one established UDP flow, %llu packets through the simulator\n"
      "   (event queue, hooks, lookup, UDP tracker, confirm check), trace off; against the\n"
      "   core alone on the same packets (nf_conntrack_in + confirm, no simulator). best of %d\n",
      (unsigned long long)packets, o.reps);
  SimRun r = best_of(o.reps, w1_text(flows));
  if (r.packets != packets)
    std::printf("!! %llu packets, want %llu\n", (unsigned long long)r.packets, (unsigned long long)packets);
  const double ns = r.seconds * 1e9 / static_cast<double>(r.packets);
  // The reference: one established conn, its request and reply in turn.
  Table t(1, 1);
  double core = 1e300;
  for (int k = 0; k < o.reps; ++k) {
    const ctcore::Packet req = flow(0), rep = flow_reply(0);
    unsigned accepted = 0;
    const auto t0 = SteadyClock::now();
    for (uint64_t i = 0; i < packets; i += 2) {
      accepted += packet_through(*t.ct, *t.n, req);
      accepted += packet_through(*t.ct, *t.n, rep);
    }
    core = std::min(core, seconds_since(t0) * 1e9 / static_cast<double>(packets));
    if (accepted != packets * ctcore::NF_ACCEPT) std::printf("!! the core dropped packets\n");
  }
  print_figure("simulator hit path", ns, "ns/packet", "<= 65 ns", ns <= 65);
  print_figure("reference: the core alone", core, "ns/packet", "-", true);
  print_figure("ratio simulator / core alone", ns / core, "x", "-", true);
  print_figure("heap allocations per packet", static_cast<double>(r.allocations) / r.packets, "allocs", "~0",
               r.allocations * 1000 < r.packets);
}

void run_w4(const Options& o) {
  const uint64_t conns = o.smoke ? 2000 : 50000;
  const std::string text = w4_text(conns);
  std::printf(
      "W4 TCP life cycle: %llu conns x 8 packets (SYN, SYN-ACK, ACK, data, ACK, FIN,\n"
      "   FIN, ACK) from the flow generator through the simulator; against the hit path\n"
      "   (W1's traffic) measured in the same run. best of %d\n",
      (unsigned long long)conns, o.reps);
  const double hit = hit_path_ns(o.reps, o.smoke ? 10 : 100);
  print_figure("reference: simulator hit path (W1)", hit, "ns/packet", "-", true);
  SimRun off;
  if (o.w4_trace_off) {
    off = best_of(o.reps, text);
    if (off.packets != conns * 8)
      std::printf("!! %llu packets, want %llu\n", (unsigned long long)off.packets, (unsigned long long)(conns * 8));
    const double ns = off.seconds * 1e9 / static_cast<double>(off.packets);
    print_figure("trace off", ns, "ns/packet", "<= 150 ns", ns <= 150);
    print_figure("ratio trace off / hit path", ns / hit, "x", "-", true);
    print_figure("heap allocations per packet, trace off", static_cast<double>(off.allocations) / off.packets, "allocs",
                 "-", true);

    // The whole process: `ctsim run w4.json --quiet` (load, table, run,
    // exit) against the run alone in this process.
    const std::string path = temp_path("w4.json");
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
    double cpu = 0, wall = 0;
    const bool ran = whole_process(o.reps, path, &cpu, &wall);
    std::remove(path.c_str());
    if (!ran) {
      std::printf("!! could not run %s\n", CTSIM_BINARY);
    } else {
      print_figure("whole process: ctsim run --quiet, CPU", cpu * 1e9 / static_cast<double>(off.packets), "ns/packet",
                   "-", true);
      print_figure("  wall", wall * 1e9 / static_cast<double>(off.packets), "ns/packet", "-", true);
      print_figure("  ratio whole process CPU / in-process", cpu / off.seconds, "x", "<= 1.15x",
                   cpu / off.seconds <= 1.15);
    }
  }
  if (!o.w4_trace_on) return;

  // W6b: the JSONL trace.
  const WriterFigures trace = run_writer(
      o, {"W6b JSONL trace", "records", text, [](ctsim::RunOptions& ro, const std::string& p) { ro.trace_path = p; }});
  print_figure("W6b trace records written per second", trace.lines_per_s / 1e6, "M/s", ">= 10 M/s",
               trace.lines_per_s >= 10e6);
  print_figure("W4 ratio trace on / trace off", trace.on_ns / trace.off_ns, "x", "<= 5x",
               trace.on_ns / trace.off_ns <= 5);
  if (!o.w4_writers) return;

  // The other writers, each alone.
  run_writer(
      o, {"events (conntrack -E)", "lines", w4_text(conns, R"( "listeners": [ { "name": "tail", "netns": "init" } ],)"),
          [](ctsim::RunOptions& ro, const std::string& p) { ro.events_path = p; }});
  std::string actions = R"( "actions": [)";
  const uint64_t snapshots = 10;
  for (uint64_t k = 1; k <= snapshots; ++k)
    actions += fmt::format(R"({}{{ "at": "{}us", "do": "snapshot" }})", k == 1 ? "" : ", ", k * conns * 10 / snapshots);
  actions += "],";
  run_writer(o, {"snapshots (conntrack -L)", "lines", w4_text(conns, actions),
                 [](ctsim::RunOptions& ro, const std::string& p) { ro.snapshots_path = p; }});
  run_writer(o, {"series (CSV, a row per 10us)", "rows", text, [](ctsim::RunOptions& ro, const std::string& p) {
                   ro.series_path = p;
                   ro.series_every = 10'000;
                 }});
  run_writer(o, {"explain", "lines", text, [](ctsim::RunOptions& ro, const std::string& p) { ro.explain_path = p; }});
}

}  // namespace bench
