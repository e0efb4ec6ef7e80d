// The scenario format's vocabulary in one table: which keys each object
// accepts, which it requires, and which words each enumerated field takes.
// The loader (sim/scenario/scenario*.cc) checks input against it, including
// its "missing X" messages, and tests/schema_sync_test.cc checks
// scenarios/schema.json against it, so the two cannot drift apart. Words
// that name a core or scenario type (hooks, paths, actions, event groups)
// come from that type's own name table.
//
// Levels are named by a pointer pattern: "" (the top object), "/table",
// "/namespaces/*", "/flows/*/weights", and one level per action kind,
// "/actions/*?do=sysctl". "/actions/*" is the union of the action levels.
//
// Threading: immutable after static initialisation.
#ifndef CTSIM_SIM_SCENARIO_SCENARIO_KEYS_H_
#define CTSIM_SIM_SCENARIO_SCENARIO_KEYS_H_

#include <string>
#include <string_view>
#include <vector>

namespace ctsim {

struct ScenarioLevel {
  std::string pointer;
  std::vector<std::string> keys;      // every key the loader accepts there
  std::vector<std::string> required;  // the keys it insists on
};

struct ScenarioEnum {
  std::string pointer;  // the field, e.g. "/flows/*/kind"
  std::vector<std::string> values;
};

const std::vector<ScenarioLevel>& scenario_key_table();
const std::vector<ScenarioEnum>& scenario_enum_table();

// The keys of one level. REQUIRES: `pointer` is a level of the table.
const std::vector<std::string>& scenario_keys(std::string_view pointer);
// The words of one enumerated field. REQUIRES: `pointer` is in the table.
const std::vector<std::string>& scenario_enum(std::string_view pointer);
// The required keys of one level. REQUIRES: `pointer` is a level of the table.
const std::vector<std::string>& scenario_required(std::string_view pointer);

// What the loader says when a required key of `level` is absent:
// "missing \"kind\" (tcp, udp, icmp or mix)". The parenthesis lists the
// field's words when it is enumerated, else explains the key in prose.
std::string scenario_missing_message(std::string_view level, std::string_view key);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SCENARIO_KEYS_H_
