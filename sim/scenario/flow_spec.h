// One `flows[]` entry of a scenario, as loaded (docs/SCENARIO.md "Flows"); the
// world's FlowGenerator expands it into connections as the run goes.
//
// Threading: value type.
#ifndef CTSIM_SIM_SCENARIO_FLOW_SPEC_H_
#define CTSIM_SIM_SCENARIO_FLOW_SPEC_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>

#include "sim/engine/sim_time.h"
#include "sim/scenario/endpoint_range.h"
#include "sim/scenario/path_kind.h"

namespace ctsim {

struct FlowSpec {
  enum class Kind : uint8_t { kTcp, kUdp, kIcmp, kMix };
  enum class Close : uint8_t { kFin, kRst, kNone };
  Kind kind = Kind::kTcp;
  SimTime at = 0;
  std::string netns;
  PathKind path{};
  bool cpu_spread = false;
  uint16_t cpu = 0;
  uint64_t count = 1;
  uint64_t rate_nano = 0;  // Poisson arrivals at rate/1e9 per second (0: use interval)
  SimTime interval = 0;    // fixed gap between arrivals
  EndpointRange src, dst;
  SimTime rtt = 1'000'000;  // 1 ms
  uint32_t data_packets = 1;
  Close close = Close::kFin;
  bool reply = true;
  uint32_t loss_ppm = 0;  // lost packets per million
  // mix: the weight of each kind a mix draws from, indexed by Kind
  // (kTcp, kUdp, kIcmp: the kinds before kMix).
  uint32_t weights[static_cast<size_t>(Kind::kMix)] = {1, 1, 1};
};
// The words of "kind" and "close", indexed by their enums.
inline constexpr const char* kFlowKindNames[] = {"tcp", "udp", "icmp", "mix"};
inline constexpr const char* kFlowCloseNames[] = {"fin", "rst", "none"};
static_assert(std::size(kFlowKindNames) == static_cast<size_t>(FlowSpec::Kind::kMix) + 1);
static_assert(std::size(kFlowCloseNames) == static_cast<size_t>(FlowSpec::Close::kNone) + 1);
// The keys of "weights": the names of the kinds a mix draws from.
inline constexpr std::span<const char* const> kFlowWeightNames(kFlowKindNames,
                                                               static_cast<size_t>(FlowSpec::Kind::kMix));

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_FLOW_SPEC_H_
