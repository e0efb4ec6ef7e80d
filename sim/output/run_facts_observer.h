// The facts of a run as seen from outside the conntrack, handed over in
// memory rather than written to a file: every packet as it reached its
// first hook and what became of it, every line a listener's reader
// printed, every `conntrack -L` and `conntrack -S` dump. `ctsim verify`
// (sim/verify/simulated_run.h) builds its record of a ctsim run from them,
// in the very words the file outputs use (--pcap-out's packet comment,
// --events, --snapshots).
//
// Outputs calls it only when OutputOptions::facts is set; a run without it
// does no work for it.
//
// Threading: single-threaded (called from the run's thread).
#ifndef CTSIM_SIM_OUTPUT_RUN_FACTS_OBSERVER_H_
#define CTSIM_SIM_OUTPUT_RUN_FACTS_OBSERVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/packet.h"
#include "sim/engine/sim_time.h"
#include "sim/output/packet_outcome.h"

namespace ctsim {

class RunFactsObserver {
 public:
  virtual ~RunFactsObserver() = default;

  // Packet `id` reaches its first hook at `at` in namespace `netns` on
  // `cpu`, along `path` ("forward", "input", "output"), as `skb` is before
  // conntrack and NAT see it (its ct is null).
  virtual void packet_injected(uint64_t id, SimTime at, std::string_view netns, uint16_t cpu, std::string_view path,
                               const ctcore::Packet& skb) = 0;
  // Packet `id` leaves the stack with this outcome.
  virtual void packet_left(uint64_t id, const PacketOutcomeWords& outcome) = 0;
  // Listener `listener`'s reader prints `line` at `at` (an event in
  // conntrack -E's default format, or a line of its ENOBUFS warning).
  virtual void event_line(SimTime at, std::string_view listener, std::string_view line) = 0;
  // A conntrack -L of namespace `netns` (one call per namespace dumped; the
  // list the snapshot action names: the table, or -L unconfirmed / dying):
  // its lines in conn id order, without "[netns] " prefix or comments.
  virtual void table_dump(SimTime at, const std::string& netns, std::vector<std::string> lines) = 0;
  // A conntrack -S of namespace `netns`: one line per CPU. Called for the
  // `stats` actions and at the end of the run (what the trace's stats
  // records cover), not for the counters a snapshot also writes.
  virtual void stats_dump(SimTime at, const std::string& netns, std::vector<std::string> lines) = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_RUN_FACTS_OBSERVER_H_
