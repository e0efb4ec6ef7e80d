// The path a packet takes through a namespace's hooks (docs/SCENARIO.md):
//   forward: PRE_ROUTING -> FORWARD -> POST_ROUTING
//   input:   PRE_ROUTING -> LOCAL_IN
//   output:  LOCAL_OUT -> POST_ROUTING
#ifndef CTSIM_SIM_SCENARIO_PATH_KIND_H_
#define CTSIM_SIM_SCENARIO_PATH_KIND_H_

#include <cstddef>
#include <cstdint>

#include "sim/scenario/name_table.h"

namespace ctsim {

enum class PathKind : uint8_t { kForward, kInput, kOutput };
// The scenario's (and the trace's) names of the paths, indexed by PathKind:
// the one list the loader's words and every printer derive from.
inline constexpr const char* kPathNames[] = {"forward", "input", "output"};
static_assert(sizeof(kPathNames) / sizeof(kPathNames[0]) == static_cast<size_t>(PathKind::kOutput) + 1);

// The scenario's name of `p` ("forward", "input", "output").
inline const char* path_name(PathKind p) { return enum_name(kPathNames, p); }

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_PATH_KIND_H_
