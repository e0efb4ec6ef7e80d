// The two ends of loading a JSON input file that the scenario loader and
// the sweep loader share: the syntax check (where the text is broken), and
// the report of a Checker's errors as FILE:LINE:COL lines.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_JSON_DOCUMENT_H_
#define CTSIM_SIM_SCENARIO_JSON_DOCUMENT_H_

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/engine/status.h"
#include "sim/scenario/scenario_checker.h"

namespace ctsim {

// Parses the JSON syntax of `text` into `doc`, or says where it is broken
// ("FILE:LINE:COL: invalid JSON: ..."). Nesting deeper than 32 levels is
// refused before parsing.
Status parse_json(const std::string& file, const std::string& text, nlohmann::json* doc);

// Every error `c` recorded as "FILE:LINE:COL: /pointer: message", one a
// line, in document order so the messages read top to bottom like the
// file. `positions`: index_json_positions(text).
std::string render_errors(const std::string& file, const std::string& text, const Checker& c,
                          const std::map<std::string, size_t>& positions);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_JSON_DOCUMENT_H_
