// libFuzzer target: the packet notation, the tuple notation and the rule
// match language on arbitrary text. A packet that parses must format and
// parse back to the same packet, field by field (the round trip the trace
// relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/nf_conntrack_tuple.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/rule_match.h"
#include "tests/packet_equal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto spec = ctsim::parse_packet(text)) {
    const std::string again = ctsim::format_packet(spec->pkt);
    const auto back = ctsim::parse_packet(again);
    if (!back) std::abort();
    if (ctsim::format_packet(back->pkt) != again) std::abort();
    if (!ctest::notation_equal(spec->pkt, back->pkt)) std::abort();
  }
  (void)ctsim::parse_tuple(text);
  (void)ctsim::parse_rule_match(text);
  return 0;
}
