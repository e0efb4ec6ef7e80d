// `ctsim sweep run-one`: runs one point of a planned sweep. It runs the
// point's line of plan.txt (a `ctsim run` child, its stderr kept in the
// point's stderr.txt), computes the metrics from the files the run wrote,
// and writes the point's result.json all or nothing:
//
//   {"index":N,"exit":0,"metrics":{"drops":12,...}}
//   {"index":N,"exit":2,"stderr":"..."}          (a failed point)
//
// result.json depends only on the point (never on the wall clock, the
// engine or the order), so every engine gives the same bytes; running a
// point again rewrites the same bytes.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_SWEEP_SWEEP_POINT_RUN_H_
#define CTSIM_SIM_SWEEP_SWEEP_POINT_RUN_H_

#include <cstddef>
#include <string>

#include "sim/engine/status.h"
#include "sim/sweep/child_process.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// Runs point `i` with the program `ctsim`. *point_exit: the point's exit
// code as result.json records it (0: done; else the run's exit code, or 2
// when its outputs could not be read). `cost`: what the run took (may be
// null). Returns an error only when nothing could be recorded.
// REQUIRES: the plan is written (check_planned), i < spec.point_count().
Status run_point(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim, size_t i, int* point_exit,
                 ChildOutcome* cost);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_POINT_RUN_H_
