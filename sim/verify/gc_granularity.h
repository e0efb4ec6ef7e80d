// How late the GC worker may reap an expired conn under a kernel profile:
// the longest time from a conn's expiry to the GC run that finds it, for
// any phase of the GC's cycle. The live kernel's phase is unknowable (it
// depends on when conntrack started and on every other conn of the
// machine's global table), so a DESTROY caused by the GC may come anywhere
// in that window on the kernel and elsewhere in it in ctsim: `ctsim verify`
// tolerates DESTROY times differing by up to this much (run_compare.h).
//
//   v5.10 (`slices`): 1/128 of the buckets per run, runs at most
//     16 * HZ / 128 jiffies apart (GC_MAX_SCAN_JIFFIES / GC_MAX_BUCKETS_DIV,
//     each fired a jiffy late by the timer wheel's level 0): every bucket
//     within 128 runs, 16.384 s at HZ=250. (Assumes a table of a multiple
//     of 128 buckets, as every default size is; a smaller table is swept
//     sooner.)
//   5.14..5.17 (G1, `whole_table`): a cycle, then a 120 s sleep
//     (GC_SCAN_INTERVAL), which the timer wheel ends up to one of its
//     level's granules late: 122.048 s at HZ=250.
//   5.18+ (G2, G3): the sleep is at most GC_SCAN_INTERVAL_MAX (60 s), up
//     to a granule late: 62.048 s at HZ=250 (an idle empty table's sweeps
//     are 61.44 s apart, docs/KERNELS.md).
// A cycle's own length (a 10 ms budget per run) is small against these
// and not added.
//
// Threading: pure function.
#ifndef CTSIM_SIM_VERIFY_GC_GRANULARITY_H_
#define CTSIM_SIM_VERIFY_GC_GRANULARITY_H_

#include <cstdint>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/engine/sim_time.h"

namespace ctsim::verify {

// REQUIRES: hz > 0.
SimTime gc_granularity(const ctcore::kernel_profile& profile, uint32_t hz);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_GC_GRANULARITY_H_
