// The comparison behind `ctsim verify`: two RunRecords of one scenario
// (ctsim's and the live kernel's, or any two), what differs, what differs
// only within a tolerance (and is reported as such), and a report a person
// reads. docs/VERIFY.md is the user's description of every rule here.
//
// What is compared:
//   - packets, by id: ct_state, verdict, by (a packet on one side only is a
//     difference);
//   - events, per listener: the NEW and UPDATE lines in order, the DESTROY
//     lines as a multiset, the ENOBUFS warnings by count;
//   - conntrack -S dumps (pairwise in order): their lines exactly;
//   - conntrack -L dumps (pairwise in order): as multisets of lines.
// Tolerated, and reported as "tolerated: ..." entries, never silently:
//   - a timeout field (conntrack -E and -L lines) one second off: the live
//     run's clock is some milliseconds off ctsim's virtual time;
//   - a DESTROY at a time up to `gc_granularity` away from the other
//     side's (the kernel's GC phase is unknowable; gc_granularity.h);
//   - a DESTROY on one side only when the other side's run ended less than
//     `gc_granularity` after it (its GC may not have come yet).
// A DESTROY time within `time_slack` of the other's counts as the same
// time (no entry).
// counts_only (scenarios that race two CPUs at one instant): only totals
// are compared -- per namespace each conntrack -S column summed over CPUs,
// per listener the number of lines of each kind, per namespace the packets
// accepted and dropped, the number of entries of each -L dump; the
// per-item differences are reported as information.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_VERIFY_RUN_COMPARE_H_
#define CTSIM_SIM_VERIFY_RUN_COMPARE_H_

#include <string>
#include <vector>

#include "sim/engine/sim_time.h"
#include "sim/verify/run_record.h"

namespace ctsim::verify {

struct CompareOptions {
  // How far apart the two sides' GC may reap one conn (gc_granularity()
  // of the profile the simulation ran under).
  SimTime gc_granularity = 0;
  // Event times this close are the same time (a live run's clock jitter).
  SimTime time_slack = kNsPerSec;
  bool counts_only = false;
};

struct Comparison {
  bool agree = true;  // no difference (tolerated entries and information allowed)
  // Each names what differs and both values ("packet 3 at ...: ct_state:
  // ctsim 6.18 \"new orig\", kernel 6.18.44 \"invalid\"").
  std::vector<std::string> differences;
  std::vector<std::string> tolerated;    // each starts with "tolerated: "
  std::vector<std::string> information;  // counts_only: the per-item differences
  // What was compared, for the report's first lines.
  size_t packets = 0, event_lines = 0, listeners = 0, snapshots = 0, stats = 0;
};

// `a` is the reference (ctsim's run), `b` the other (the kernel's); their
// `source` names them in the entries ("ctsim"/"kernel" when empty).
Comparison compare_runs(const RunRecord& a, const RunRecord& b, const CompareOptions& options);

// The report: a header naming both sources and what was compared, the
// differences ("differs: "), the tolerated entries, the information
// ("info: "), and a last line "result: agree" or "result: N differences".
std::string format_comparison(const Comparison& c, const RunRecord& a, const RunRecord& b,
                              const CompareOptions& options);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_RUN_COMPARE_H_
