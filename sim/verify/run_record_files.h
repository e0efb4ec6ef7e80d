// A RunRecord written as ctsim's own outputs (docs/VERIFY.md "kernel-run's
// files"): the `conntrack -E` stream (--events), the `conntrack -L` /
// `conntrack -S` dumps (--snapshots) and a JSONL trace of what can be seen
// from outside (--trace). Each is published all-or-nothing.
//
// Threading: pure functions of their inputs (plus the files they write).
#ifndef CTSIM_SIM_VERIFY_RUN_RECORD_FILES_H_
#define CTSIM_SIM_VERIFY_RUN_RECORD_FILES_H_

#include <string>

#include "sim/engine/status.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/run_record.h"

namespace ctsim::verify {

// As `ctsim run --events`: one listener's lines bare, several listeners'
// each prefixed by "NAME: ".
std::string events_text(const Scenario& s, const RunRecord& r);
// As `ctsim run --snapshots`: "# snapshot at T (netns N)", the lines,
// "# K flow entries have been shown."; "# conntrack -S at T (netns N)", the
// rows; in time order.
std::string snapshots_text(const RunRecord& r);
// The trace: a header line (schema 1, "source": "kernel", the release),
// then `pkt` and `verdict` records (the verdict with the packet's
// `ct_state`), `event`, `snapshot` and `stats` records, and `end`.
std::string trace_text(const Scenario& s, const RunRecord& r, const std::string& kernel_release);

// Writes `text` to `path` ("-": stdout) all-or-nothing.
Status write_text_output(const std::string& path, const std::string& text);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_RUN_RECORD_FILES_H_
