// Where each value of a JSON text starts, by JSON pointer, so that a
// semantic error ("/packets/3/pkt: port 70000 ...") can also name the line
// and column. Only run when there is an error to report.
//
// Threading: pure function.
#ifndef CTSIM_SIM_JSON_POSITIONS_H_
#define CTSIM_SIM_JSON_POSITIONS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace ctsim {

struct LineCol {
  size_t line = 1;  // 1-based
  size_t col = 1;   // 1-based, in bytes
};

LineCol line_col_at(std::string_view text, size_t offset);

// Maps "/a/0/b" to the byte offset where that value starts (for an object
// member: the start of its value). Tolerates bad JSON by stopping early.
std::map<std::string, size_t> index_json_positions(std::string_view text);

}  // namespace ctsim

#endif  // CTSIM_SIM_JSON_POSITIONS_H_
