// GCC 12 reports -Warray-bounds inside std::map::begin() and -Wrestrict
// inside std::string's replace when it inlines nlohmann::json object and
// string code at -O2: known false positives (GCC bugs 105705 and 105329
// families). Included first by the files above the scenario loader that
// use nlohmann::json (the loader's own files get the same through
// scenario_load.h), so the pragmas are seen before <nlohmann/json.hpp>.
#ifndef CTSIM_SIM_SCENARIO_JSON_GCC12_WORKAROUND_H_
#define CTSIM_SIM_SCENARIO_JSON_GCC12_WORKAROUND_H_

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#endif  // CTSIM_SIM_SCENARIO_JSON_GCC12_WORKAROUND_H_
