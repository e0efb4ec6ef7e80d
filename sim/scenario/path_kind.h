// The path a packet takes through a namespace's hooks (docs/SCENARIO.md):
//   forward: PRE_ROUTING -> FORWARD -> POST_ROUTING
//   input:   PRE_ROUTING -> LOCAL_IN
//   output:  LOCAL_OUT -> POST_ROUTING
#ifndef CTSIM_SIM_SCENARIO_PATH_KIND_H_
#define CTSIM_SIM_SCENARIO_PATH_KIND_H_

#include <cstdint>

namespace ctsim {

enum class PathKind : uint8_t { kForward, kInput, kOutput };
// The scenario's name of `p` ("forward", "input", "output").
const char* path_name(PathKind p);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_PATH_KIND_H_
