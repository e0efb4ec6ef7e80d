// A NAT rule's target as written in a scenario: an address or address
// range with an optional port range, nft's `snat to` syntax without the
// keywords ("203.0.113.1", "203.0.113.1-203.0.113.4:1024-2047",
// "[2001:db8::1-2001:db8::4]:443"), or only ports for masquerade (":1024-2047").
//
// Threading: pure functions.
#ifndef CTSIM_SIM_SCENARIO_NAT_RANGE_H_
#define CTSIM_SIM_SCENARIO_NAT_RANGE_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/nf_nat_range.h"
#include "sim/engine/parse_result.h"

namespace ctsim {

// Parses `text` into a range with NF_NAT_RANGE_MAP_IPS (when it has an
// address) and NF_NAT_RANGE_PROTO_SPECIFIED (when it has ports).
// `ports_only`: the text must be ":PORT[-PORT]" (masquerade's "to").
Parsed<ctcore::nf_nat_range2> parse_nat_range(const std::string& text, bool ports_only);

// The range as a rule writes it ("198.51.100.1-198.51.100.4:1024-2047",
// ":1024-2047", "any" for a masquerade without ports), followed by its flag
// words (" fully-random persistent").
std::string format_nat_range(const ctcore::nf_nat_range2& r);

// The rule's "flags" words, nft's: "random" (NF_NAT_RANGE_PROTO_RANDOM),
// "fully-random" (..._RANDOM_FULLY), "persistent" (NF_NAT_RANGE_PERSISTENT).
struct NatFlagName {
  const char* word;
  uint32_t flag;
};
inline constexpr NatFlagName kNatFlagNames[] = {
    {"random", ctcore::NF_NAT_RANGE_PROTO_RANDOM},
    {"fully-random", ctcore::NF_NAT_RANGE_PROTO_RANDOM_FULLY},
    {"persistent", ctcore::NF_NAT_RANGE_PERSISTENT},
};
std::optional<uint32_t> nat_flag_from_word(std::string_view word);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_NAT_RANGE_H_
