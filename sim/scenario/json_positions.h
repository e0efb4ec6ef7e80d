// Where each value of a JSON text starts, by JSON pointer, so that a
// semantic error ("/packets/3/pkt: port 70000 ...") can also name the line
// and column. Only run when there is an error to report.
//
// Threading: pure function.
#ifndef CTSIM_SIM_SCENARIO_JSON_POSITIONS_H_
#define CTSIM_SIM_SCENARIO_JSON_POSITIONS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ctsim {

struct LineCol {
  size_t line = 1;  // 1-based
  size_t col = 1;   // 1-based, in bytes
};

LineCol line_col_at(std::string_view text, size_t offset);
// The same for many offsets in one pass over the text.
// REQUIRES: `offsets` ascend.
std::vector<LineCol> line_cols_at(std::string_view text, const std::vector<size_t>& offsets);

// Maps "/a/0/b" to the byte offset where that value starts (for an object
// member: the start of its value; "/a/0/b#key" is where its key starts).
// Tolerates bad JSON by stopping early. When `duplicate_keys` is given, the
// pointer of every member whose key repeats one before it in the same
// object is appended to it (JSON parsers silently keep the last).
// REQUIRES: nesting no deeper than the stack allows (see json_nesting_depth).
std::map<std::string, size_t> index_json_positions(std::string_view text,
                                                   std::vector<std::string>* duplicate_keys = nullptr);

// The deepest nesting of objects and arrays, and where it is first reached.
struct NestingDepth {
  size_t max = 0;
  size_t offset = 0;
};
NestingDepth json_nesting_depth(std::string_view text);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_JSON_POSITIONS_H_
