// The points of a sweep: every combination of the axes' values, numbered
// with the last axis varying fastest (the seed axis is last), and the
// scenario each derives from the base by setting its axes' JSON pointers.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SWEEP_SWEEP_POINTS_H_
#define CTSIM_SIM_SWEEP_SWEEP_POINTS_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sweep/sweep_spec.h"

namespace ctsim::sweep {

// For point `index`: the index of its value on each axis.
// REQUIRES: index < spec.point_count().
std::vector<size_t> point_value_indices(const SweepSpec& spec, size_t index);

// The base scenario with point `index`'s values set.
nlohmann::json derive_scenario(const SweepSpec& spec, size_t index);

// A value as a CSV cell and a label shows it: a string as it is, anything
// else as compact JSON.
std::string value_text(const nlohmann::json& v);

// "table.max=16384 seed=3": the point's values, for messages.
std::string point_label(const SweepSpec& spec, size_t index);

}  // namespace ctsim::sweep

#endif  // CTSIM_SIM_SWEEP_SWEEP_POINTS_H_
