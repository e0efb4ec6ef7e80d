// Runs a program and waits for it: an argument vector (no shell), its
// stderr to a file, and what it cost (wall time and peak memory, from
// wait4's rusage). The cost is for sizing Slurm limits only; nothing a
// sweep writes into its results depends on it.
//
// Threading: one call at a time per caller; it waits for its child.
#ifndef CTSIM_SIM_SWEEP_CHILD_PROCESS_H_
#define CTSIM_SIM_SWEEP_CHILD_PROCESS_H_

#include <string>
#include <vector>

#include "sim/engine/status.h"

namespace ctsim::sweep {

struct ChildOutcome {
  int exit_code = -1;       // its exit status, or 128 + the signal that killed it (as a shell reports it)
  double wall_seconds = 0;  // from start to exit
  long max_rss_kib = 0;     // its peak resident memory
};

// Runs `argv` (argv[0] looked up in PATH when it has no '/') with its
// stdout written to `stdout_path` and its stderr to `stderr_path` (each
// created or truncated; "" leaves that stream as ours).
// Returns an error only when the program could not be started.
Status run_child(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path,
                 ChildOutcome* out);

// The path of the running program (/proc/self/exe), so that a sweep runs
// the same ctsim as the one planning it.
std::string self_executable();

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_CHILD_PROCESS_H_
