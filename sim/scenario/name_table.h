// Enums whose values have names in the scenario format: the names are one
// array indexed by the enum's value, next to the enum, and every parser
// and printer goes through it (issue 13: one table per vocabulary).
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_NAME_TABLE_H_
#define CTSIM_SIM_SCENARIO_NAME_TABLE_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace ctsim {

// The value of enum E that `names` calls `word`, or nullopt.
// REQUIRES: names[i] is the name of static_cast<E>(i).
template <typename E, size_t N>
constexpr std::optional<E> enum_from_name(const char* const (&names)[N], std::string_view word) {
  for (size_t i = 0; i < N; ++i)
    if (word == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

// The name of `value`. REQUIRES: as above, and value < N.
template <typename E, size_t N>
constexpr const char* enum_name(const char* const (&names)[N], E value) {
  return names[static_cast<size_t>(value)];
}

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_NAME_TABLE_H_
