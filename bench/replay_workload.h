// W7: replaying a capture (issue 17), in its own file beside the other
// workloads: the W4 traffic written as a pcap by the exporter, then run
// as a scenario (W4, trace off) and replayed from the capture, in the same
// process, so the ratio compares like with like.
#ifndef CTSIM_BENCH_REPLAY_WORKLOAD_H_
#define CTSIM_BENCH_REPLAY_WORKLOAD_H_

#include "bench/bench_util.h"

namespace bench {

void run_w7(const Options& o);

}  // namespace bench

#endif  // CTSIM_BENCH_REPLAY_WORKLOAD_H_
