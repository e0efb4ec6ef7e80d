// What one run of a scenario did, observed from outside the conntrack: the
// same record whether the run was ctsim's (a Simulator under a kernel
// profile) or the live kernel's (`ctsim kernel-run`), so that `ctsim
// verify` can compare the two field by field (docs/VERIFY.md).
//
// Every text is in the scenario's own addresses (a kernel run maps them
// back from the lab's 198.18.0.0/15 and 2001:db8::/32) and in the formats
// ctsim's outputs already use: event lines as `conntrack -E` prints them
// (no timestamp, no listener prefix), table lines as `conntrack -L` does,
// counter lines as `conntrack -S` does.
//
// Threading: value types.
#ifndef CTSIM_SIM_VERIFY_RUN_RECORD_H_
#define CTSIM_SIM_VERIFY_RUN_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/packet.h"
#include "sim/engine/sim_time.h"
#include "sim/scenario/path_kind.h"

namespace ctsim::verify {

// What happened to one injected packet, by its number (1 = the first packet
// the scenario injected, as the trace's `pkt` records count).
struct PacketOutcome {
  uint64_t id = 0;
  SimTime at = 0;      // virtual time it reached its first hook
  std::string netns;
  uint16_t cpu = 0;
  std::string path;    // "forward", "input", "output"
  std::string pkt;     // packet notation as injected (before any NAT)
  // The skb's ctinfo after conntrack ran, as --pcap-out's comment spells it:
  // "new orig", "established orig", "related orig", "established reply",
  // "related reply", "invalid", "untracked"; "" when conntrack dropped the
  // packet before any rule saw it (no state to observe).
  std::string ct_state;
  std::string verdict;  // "accept" or "drop"
  // Who dropped it: "nf_conntrack_in", "nf_conntrack_confirm", or
  // `rule "<match>"`; "" when accepted.
  std::string by;
};

// One line a listener received.
struct EventLine {
  SimTime at = 0;
  std::string listener;  // the scenario's listener name
  std::string line;      // conntrack -E default format, e.g. "    [NEW] tcp      6 120 SYN_SENT src=..."
};

// What one namespace's `conntrack -L` (a `snapshot` action) or `conntrack
// -S` (a `stats` action, and the final counters at the end of the run)
// printed. A snapshot or stats of every namespace gives one Dump per
// namespace, in the scenario's namespace order (those netns_add created
// after those of `namespaces`).
struct Dump {
  SimTime at = 0;
  std::string netns;
  // As the tool prints them (conntrack -S's lines keep their trailing
  // space), without "[netns] " prefixes or "# ..." header/footer lines.
  std::vector<std::string> lines;
};

struct RunRecord {
  // Who ran it: "ctsim 6.18" / "kernel 6.18.44-fc-v1272" (for reports only).
  std::string source;
  SimTime end = 0;  // virtual time the run ended
  std::vector<PacketOutcome> packets;  // in id order
  std::vector<EventLine> events;       // in the order each listener received them
  std::vector<Dump> snapshots;         // in action order
  std::vector<Dump> stats;             // stats actions in order, then one per namespace at the end
};

// A packet the run injected, as it reached its first hook: before
// conntrack and NAT saw it, with the seq/ack/window/options it carried
// (ctsim fills in what the notation leaves out). `ctsim kernel-run` sends
// exactly these packets, so that both sides see the same bytes.
struct InjectedPacket {
  uint64_t id = 0;  // as PacketOutcome::id
  SimTime at = 0;   // virtual time it reached its first hook
  std::string netns;
  uint16_t cpu = 0;
  PathKind path = PathKind::kForward;
  ctcore::Packet pkt;  // pkt.ct == nullptr
};

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_RUN_RECORD_H_
