// An address or prefix with an optional port or port range: the endpoint
// syntax of flows (docs/SCENARIO.md "Flows") and of NAT `to` ranges.
//
// Threading: value type; parse_endpoint_range is a pure function.
#ifndef CTSIM_SIM_SCENARIO_ENDPOINT_RANGE_H_
#define CTSIM_SIM_SCENARIO_ENDPOINT_RANGE_H_

#include <cstdint>
#include <string>

#include "core/nf_conntrack_tuple.h"
#include "sim/engine/parse_result.h"

namespace ctsim {

// An address or prefix with an optional port or port range.
struct EndpointRange {
  uint16_t l3num = 0;
  ctcore::nf_inet_addr addr;
  uint8_t prefix_len = 32;
  bool has_port = false;
  uint16_t port_lo = 0, port_hi = 0;
};

// Parses "10.0.0.2", "10.0.0.0/8", "10.0.0.2:80", "10.0.0.0/8:1024-65535",
// "2001:db8::1", "[2001:db8::/32]:443".
Parsed<EndpointRange> parse_endpoint_range(const std::string& text);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_ENDPOINT_RANGE_H_
