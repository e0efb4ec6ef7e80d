// Turns a run's JSONL trace into the small whitespace-separated tables the
// gnuplot scripts in plots/ draw (gnuplot cannot read JSON):
//
//   lifecycle.dat  one row per stretch of a conn's life, for the lane chart:
//                  lane conn t_from_s t_to_s phase phase_name
//                  (phases: unconfirmed, each TCP state or "confirmed" for
//                  stateless protocols, dying; the first kMaxLanes conns)
//   gc.dat         one row per gc record: t_s scanned expired buckets next_run
//   chains.dat     the chain-length histogram of the table at the last
//                  snapshot (chains records), or, without one, of the
//                  lookup walks: length buckets
//   events.dat     one row per event record: t_s delivered(0/1) listener
//
// Threading: pure function of its input.
#ifndef CTSIM_SIM_OUTPUT_PLOT_DATA_H_
#define CTSIM_SIM_OUTPUT_PLOT_DATA_H_

#include <string>

#include "sim/engine/status.h"

namespace ctsim {

constexpr int kMaxLanes = 60;

// Reads `trace_path` and writes the .dat files into `out_dir` (which must
// exist). Returns what went wrong (bad trace, unwritable file) otherwise OK.
Status write_plot_data(const std::string& trace_path, const std::string& out_dir);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_PLOT_DATA_H_
