// Virtual time: nanoseconds since the scenario's start, and the kernel's
// jiffies derived from it.
//
// jiffies(t) = INITIAL_JIFFIES + floor(t * HZ / 1e9) (64-bit; the core reads
// its low 32 bits as nfct_time_stamp). No floating point anywhere.
//
// Threading: value types and pure functions.
#ifndef CTSIM_SIM_ENGINE_SIM_TIME_H_
#define CTSIM_SIM_ENGINE_SIM_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/engine/parse_result.h"

namespace ctsim {

using SimTime = int64_t;  // ns since the start of the run; never negative

constexpr SimTime kNsPerSec = 1'000'000'000;

struct TimeBase {
  uint32_t hz = 250;
  uint64_t initial_jiffies = 0;

  uint64_t jiffies_at(SimTime t) const;
  // The first time whose jiffies reach `j` (0 if already reached at t=0).
  SimTime time_of_jiffies(uint64_t j) const;
};

// Parses "1.5s", "250ms", "10us", "3ns", "2min", "1h", "6d" or "j:123"
// (jiffies) into nanoseconds.
Parsed<SimTime> parse_duration(std::string_view text, uint32_t hz);

// Parses "N/s" (N may be fractional: "0.5/s") into events per second scaled
// by 1e9 (so 100/s = 100'000'000'000).
Parsed<uint64_t> parse_rate_nano(std::string_view text);

// "12.345678901s"-style rendering for messages.
std::string format_duration(SimTime t);

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_SIM_TIME_H_
