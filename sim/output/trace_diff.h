// `ctsim diff EXPECTED ACTUAL`: compares two JSONL traces (schema 1) record
// by record and reports the first divergence with context.
//
// What is compared: the header lines (line 1) and then the records that
// pass the filters, pairwise in order: record k of EXPECTED against record
// k of ACTUAL. Two records are equal iff they have the same keys with equal
// values (key order is not compared; the writer's order is fixed anyway),
// ignoring the fields named by --ignore-field. Records whose kind is named
// by --ignore-kind, or whose `t` lies outside [from, to], are skipped on
// both sides before pairing.
//
// Result: kSame (exit 0), kDifferent (exit 1) with a report naming the
// record number, both line numbers, the virtual time, the kind, the field
// and both values, plus up to `context` records either side from both
// files; kBadInput (exit 2) for an unreadable file, a line that is not a
// JSON object, a missing header or headers of different schema versions.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_OUTPUT_TRACE_DIFF_H_
#define CTSIM_SIM_OUTPUT_TRACE_DIFF_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/sim_time.h"

namespace ctsim {

struct TraceDiffOptions {
  std::vector<std::string> ignore_fields;  // never compared (header included)
  std::vector<std::string> ignore_kinds;   // records of these kinds are skipped
  std::string from, to;                    // time window (sim_time.h syntax); "" open
  int context = 3;                         // records shown either side
};

struct TraceDiffResult {
  enum class Outcome { kSame = 0, kDifferent = 1, kBadInput = 2 };
  Outcome outcome = Outcome::kSame;
  std::string report;   // kDifferent: the difference; kBadInput: the error
  size_t compared = 0;  // records compared (header excluded)
  int exit_code() const { return static_cast<int>(outcome); }
};

// Compares two traces given as text; the names are used in messages only.
TraceDiffResult diff_trace_text(std::string_view expected, std::string_view actual, std::string_view expected_name,
                                std::string_view actual_name, const TraceDiffOptions& options);

// Reads both files and compares them.
TraceDiffResult diff_trace_files(const std::string& expected_path, const std::string& actual_path,
                                 const TraceDiffOptions& options);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_TRACE_DIFF_H_
