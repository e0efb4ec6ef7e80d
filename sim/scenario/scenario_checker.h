// The loader's error collector: walks a parsed JSON document, checks each
// value's type and range, and records every problem with its JSON pointer
// (leveldb's VersionEdit pattern: record which field failed, report once).
// Messages say what was found and what was expected, with a "did you mean"
// for a near miss.
//
// Threading: a Checker is used by one loader call.
#ifndef CTSIM_SIM_SCENARIO_SCENARIO_CHECKER_H_
#define CTSIM_SIM_SCENARIO_SCENARIO_CHECKER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/sim_time.h"

namespace ctsim {

// " (did you mean \"x\"?)" for the choice closest to `word` when it is
// within one edit per three letters (at least one), else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& choices);
// A JSON pointer's reference token for an object key (RFC 6901).
std::string pointer_token(const std::string& key);
// "the string \"x\"", "the number 5", "an object", ...: what was found.
std::string type_name(const nlohmann::json& j);

class Checker {
 public:
  struct Error {
    std::string pointer;
    std::string message;
    bool at_key = false;  // point at the member's key, not its value
  };

  void error(const std::string& ptr, std::string msg, bool at_key = false) {
    errors_.push_back({ptr, std::move(msg), at_key});
  }
  bool ok() const { return errors_.empty(); }
  const std::vector<Error>& errors() const { return errors_; }

  // Reports members of `obj` not in `known`, with a hint.
  void only_keys(const nlohmann::json& obj, const std::string& ptr, const std::vector<std::string>& known);

  // Each returns the value when it has the right type and range, else
  // records an error at `ptr` and returns false / nullopt.
  bool is_object(const nlohmann::json& j, const std::string& ptr);
  bool is_array(const nlohmann::json& j, const std::string& ptr);
  std::optional<std::string> string(const nlohmann::json& j, const std::string& ptr);
  std::optional<bool> boolean(const nlohmann::json& j, const std::string& ptr);
  std::optional<uint64_t> uint(const nlohmann::json& j, const std::string& ptr, uint64_t lo, uint64_t hi);
  std::optional<SimTime> duration(const nlohmann::json& j, const std::string& ptr, uint32_t hz);
  std::optional<std::string> one_of(const nlohmann::json& j, const std::string& ptr,
                                    const std::vector<std::string>& choices);
  // A name that other places refer to and that outputs print (a CSV
  // header, a trace field): 1 to kMaxNameLength of [A-Za-z0-9_.-].
  std::optional<std::string> name(const nlohmann::json& j, const std::string& ptr);
  // Records "missing ..." at `ptr` for each required key of key-table level
  // `level` that `obj` lacks (scenario_keys.h says which, and the words).
  void required_keys(const nlohmann::json& obj, const std::string& ptr, std::string_view level);

  static constexpr size_t kMaxNameLength = 32;

 private:
  std::vector<Error> errors_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SCENARIO_CHECKER_H_
