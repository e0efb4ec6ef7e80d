// The 128-bit conntrack hash key as a scenario writes it: 32 hex digits,
// the 16 bytes of the kernel's nf_conntrack_hash_rnd in memory order
// (what a kernel debugger dumps), e.g. "0f1e2d3c4b5a69788796a5b4c3d2e1f0".
// The siphash kernels (5.15 and later) will take `table.hash_rnd` in this
// form; v5.10's jhash seed stays a u32.
//
// Here rather than in core/: this is scenario text, and its errors take the
// one shape of the scenario's inner parsers (sim/engine/parse_result.h, with
// the column of the offending digit); the core only sees siphash_key_t.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_SIPHASH_KEY_HEX_H_
#define CTSIM_SIM_SCENARIO_SIPHASH_KEY_HEX_H_

#include <string>
#include <string_view>

#include "core/siphash.h"
#include "sim/engine/parse_result.h"

namespace ctsim {

// Exactly 32 hex digits (either case, nothing else): byte i is digits 2i and
// 2i+1, and key[0]/key[1] are bytes 0..7/8..15 read little-endian (x86).
Parsed<ctcore::siphash_key_t> parse_siphash_key_hex(std::string_view text);

// The key as 32 lowercase hex digits; parse_siphash_key_hex reads it back.
std::string format_siphash_key_hex(const ctcore::siphash_key_t& key);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SIPHASH_KEY_HEX_H_
