// `ctsim sweep plan`: the folder a sweep runs in. Every point's scenario is
// derived and validated first (a bad value is refused before anything is
// written); then the point folders, their scenario.json, plan.txt (one
// complete `ctsim run` command line per point), indices.txt, and last
// sweep.json, the resolved sweep that marks the plan complete.
//
// Planning again into the same folder with the same sweep rewrites the
// same bytes and keeps the results and the job log (so a sweep resumes);
// a folder planned from a different sweep is refused.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_SWEEP_SWEEP_PLAN_H_
#define CTSIM_SIM_SWEEP_SWEEP_PLAN_H_

#include <cstddef>
#include <string>
#include <vector>

#include "sim/engine/status.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// The `ctsim run` command that runs point `i`: its arguments, the first
// being `ctsim` (the program to run).
std::vector<std::string> run_arguments(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim,
                                       size_t i);

// `args` as one shell command line (each word single-quoted when needed).
std::string shell_words(const std::vector<std::string>& args);

// Validates every point and writes the plan (see above). `ctsim`: the
// program plan.txt names.
Status write_plan(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim);

// OK when layout.dir() holds the plan of `spec`; else says what to do.
Status check_planned(const SweepSpec& spec, const SweepLayout& layout);

// Reads a whole file; false when it cannot be opened.
bool read_text(const std::string& path, std::string* out);
// Writes `text` to `path` all or nothing (sim/output/output_file.h).
Status write_text(const std::string& path, const std::string& text);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_PLAN_H_
