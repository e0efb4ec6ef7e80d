// What a NAT binding decision is about and how get_unique_tuple() reached
// it: shared by the NAT core (core/nf_nat_core.h), which makes the
// decision, and the observer (core/observer.h), to which it reports it.
//
// Mirrors: include/uapi/linux/netfilter/nf_nat.h (v5.10): enum
//          nf_nat_manip_type. nf_nat_decision is ctsim's.
#ifndef CTSIM_CORE_NF_NAT_DECISION_H_
#define CTSIM_CORE_NF_NAT_DECISION_H_

#include <cstdint>

namespace ctcore {

enum nf_nat_manip_type : uint8_t {
  NF_NAT_MANIP_SRC = 0,
  NF_NAT_MANIP_DST = 1,
};

// How get_unique_tuple() reached its tuple, for traces and the narrative.
struct nf_nat_decision {
  // The step that settled it: "original" (step 1: the packet's own tuple is
  // in range and unused), "bysource" (find_appropriate_src: this source's
  // existing mapping), "in_range" (find_best_ips_proto chose the address
  // and the port/id was kept: in range and unused), "unique" (the port/id
  // was changed by nf_nat_l4proto_unique_tuple), "kept" (the port/id could
  // not change: a DST manip without a port range, a protocol without
  // ports, a single-port range), "exhausted" (nf_nat_l4proto_unique_tuple
  // found no free one and left its last candidate: the clash shows at
  // confirm).
  const char* how = "original";
  uint32_t taken = 0;     // nf_nat_used_tuple() checks that found the tuple in use (the `found` they counted)
  uint32_t attempts = 0;  // candidates nf_nat_l4proto_unique_tuple() tried
  uint32_t rounds = 0;    // its search rounds (each after a fresh random offset)
};

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_NAT_DECISION_H_
