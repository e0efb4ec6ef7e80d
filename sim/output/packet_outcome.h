// What conntrack and the hooks did to a packet that left the stack, in the
// words --pcap-out's packet comment uses and `ctsim verify`'s record keeps
// (docs/VERIFY.md): one function, so the two cannot drift apart.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_OUTPUT_PACKET_OUTCOME_H_
#define CTSIM_SIM_OUTPUT_PACKET_OUTCOME_H_

#include <string_view>

#include "core/packet.h"

namespace ctsim {

struct PacketOutcomeWords {
  // The skb's ctinfo: "new orig", "established orig", "related orig",
  // "established reply", "related reply"; "untracked" or "invalid" when it
  // holds no conn.
  const char* ct_state;
  const char* verdict;  // "accept" or "drop"
  // Who dropped it (a core function, or `rule "<match>"`); empty when
  // accepted or when the dropping verdict is not known.
  std::string_view by;
};

// `skb` as it leaves the stack (after NAT, still holding its conn);
// `dropped`: a drop verdict ended it; `last_verdict_by`: who gave the last
// verdict this packet got ("" when unknown). `by` views `last_verdict_by`.
PacketOutcomeWords packet_outcome_words(const ctcore::Packet& skb, bool dropped, std::string_view last_verdict_by);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_PACKET_OUTCOME_H_
