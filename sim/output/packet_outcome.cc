#include "sim/output/packet_outcome.h"

namespace ctsim {

PacketOutcomeWords packet_outcome_words(const ctcore::Packet& skb, bool dropped, std::string_view last_verdict_by) {
  PacketOutcomeWords w{};
  if (skb.ct != nullptr) {
    switch (skb.ctinfo) {
      case ctcore::IP_CT_NEW: w.ct_state = "new orig"; break;
      case ctcore::IP_CT_ESTABLISHED: w.ct_state = "established orig"; break;
      case ctcore::IP_CT_RELATED: w.ct_state = "related orig"; break;
      case ctcore::IP_CT_ESTABLISHED_REPLY: w.ct_state = "established reply"; break;
      case ctcore::IP_CT_RELATED_REPLY: w.ct_state = "related reply"; break;
      default: w.ct_state = "unknown"; break;
    }
  } else {
    w.ct_state = skb.untracked ? "untracked" : "invalid";
  }
  w.verdict = dropped ? "drop" : "accept";
  if (dropped) w.by = last_verdict_by;
  return w;
}

}  // namespace ctsim
