// The simulated machine's memory as a scenario writes it (`table.memory`):
// a whole number with a binary unit, "24GiB", "512MiB", "1TiB", "65536KiB".
// The default table size of each kernel follows from it (row S1,
// ctcore::nf_conntrack_default_buckets).
//
// Threading: pure function.
#ifndef CTSIM_SIM_SCENARIO_MEMORY_SIZE_H_
#define CTSIM_SIM_SCENARIO_MEMORY_SIZE_H_

#include <cstdint>
#include <string_view>

#include "sim/engine/parse_result.h"

namespace ctsim {

// The smallest and largest memory a scenario may give: below 16 MiB no
// kernel of the profiles boots; above 64 TiB is beyond any test machine
// (and the bucket count is capped long before).
inline constexpr uint64_t kMemoryMin = 16ull << 20;
inline constexpr uint64_t kMemoryMax = 64ull << 40;

// Digits, then exactly one of KiB, MiB, GiB, TiB (case as written); the
// value in bytes within [kMemoryMin, kMemoryMax].
Parsed<uint64_t> parse_memory_size(std::string_view text);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_MEMORY_SIZE_H_
