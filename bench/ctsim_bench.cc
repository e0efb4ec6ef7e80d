// ctsim_bench: the performance workloads of issue 9 (W1-W6), capture replay
// (W7, issue 17), NAT (W8, issue 16) and the kernel profiles' hash and
// table shape (W9, issue 14), each printing its figure next to its
// reference or target.
//
//   ctsim_bench [--smoke] [--reps N] [--w4 off|on] [--w2-conns N] [W1 W2 ... W9]
//
// --smoke runs every workload at a small size once (seconds; CTest runs it
// as bench_smoke). Figures are the benchmark thread's CPU time, best of N
// (default 3): the machine may be shared, and CPU time leaves out the waits
// for a core while the minimum is the least disturbed run. --w4 off|on runs
// only one half of W4 (for profiling); --w2-conns N runs W2 at N conns only.
// Exit code 0 unless the arguments are wrong.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "bench/bench_util.h"
#include "bench/replay_workload.h"

int main(int argc, char** argv) {
  bench::Options o;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      o.smoke = true;
      o.reps = 1;
    } else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--w4") == 0 && i + 1 < argc) {
      ++i;
      o.w4_trace_off = std::strcmp(argv[i], "on") != 0;
      o.w4_trace_on = std::strcmp(argv[i], "off") != 0;
    } else if (std::strcmp(argv[i], "--w2-conns") == 0 && i + 1 < argc) {
      o.w2_conns = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (argv[i][0] == 'W' && argv[i][1] >= '1' && argv[i][1] <= '9' && argv[i][2] == 0) {
      only.insert(argv[i]);
    } else {
      std::fprintf(stderr,
                   "usage: ctsim_bench [--smoke] [--reps N] [--w4 off|on] [--w2-conns N] "
                   "[W1 .. W9]\n");
      return 2;
    }
  }
  std::printf("ctsim_bench%s: sizeof(nf_conn)=%zu\n", o.smoke ? " --smoke" : "", sizeof(ctcore::nf_conn));
  auto want = [&](const char* w) { return only.empty() || only.count(w) != 0; };
  // W6 first: its children fork from a small parent.
  if (want("W6")) bench::run_w6(o);
  if (want("W1")) bench::run_w1(o);
  if (want("W2")) bench::run_w2(o);
  if (want("W3")) bench::run_w3(o);
  if (want("W4")) bench::run_w4(o);
  if (want("W5")) bench::run_w5(o);
  if (want("W7")) bench::run_w7(o);
  if (want("W8")) bench::run_w8(o);
  if (want("W9")) bench::run_w9(o);
  return 0;
}
