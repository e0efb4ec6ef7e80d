// The Slurm job array script of a planned sweep (`ctsim sweep plan
// --slurm`): one array task per point ($SLURM_ARRAY_TASK_ID is the point's
// index, run by `ctsim sweep run-one`), at most `throttle` at once (%N),
// with time and memory limits sized from a pilot run measured on this
// machine: 4 x its wall time + 1 minute, and 2 x its peak memory + 64 MiB.
// The tasks read the sweep from DIR/sweep.json, so DIR (on a filesystem
// the nodes share) is all they need; their Slurm logs go to DIR/slurm/.
//
// Threading: pure function.
#ifndef CTSIM_SIM_SWEEP_SWEEP_SLURM_H_
#define CTSIM_SIM_SWEEP_SWEEP_SLURM_H_

#include <cstddef>
#include <string>

#include "sim/sweep/child_process.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

struct SlurmLimits {
  long seconds = 60;  // --time
  long mem_mib = 64;  // --mem
};

// The limits for tasks like the pilot `cost`.
SlurmLimits limits_from_pilot(const ChildOutcome& cost);

// The sbatch script. `layout`'s folder and `ctsim` must be absolute paths
// that the compute nodes see. `pilot`: the index of the measured point.
std::string slurm_script(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim, size_t throttle,
                         size_t pilot, const ChildOutcome& cost);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_SLURM_H_
