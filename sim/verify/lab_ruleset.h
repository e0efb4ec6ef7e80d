// A scenario namespace's rules as the nftables rule set of its lab
// namespace (docs/VERIFY.md "What kernel-run builds"), in two parts loaded
// in this order, because hooks of equal priority run newest first:
//
//  1. before_conntrack(): table inet ctsim_lab — the guard (output,
//     priority -300: a packet the namespace makes itself is dropped before
//     conntrack sees it unless it carries kernel-run's mark, so RSTs, ICMP
//     errors and neighbour discovery of the lab never make conns) and the
//     final log chains (postrouting and input at INT_MAX, registered before
//     conntrack's confirm so that they run after it: a packet logged there
//     was accepted by everything).
//  2. scenario_rules(): table inet ctsim — the first-hook log chains
//     (prerouting and output, priority -150: after conntrack, before DNAT)
//     that log each packet's ct state and direction, the scenario's rules at
//     filter priority 0 (a drop is logged with the rule's number first), and
//     the nat chains when the namespace has a NAT rule. Its `ct` expressions
//     are what makes the namespace run conntrack at all.
//
// Every log goes to NFLOG group kNflogGroup with a prefix kernel-run reads
// back: "A <ct state>" at the first hook, "D<rule index>" before a rule's
// drop, "Z" at the last hook.
//
// Threading: pure functions.
#ifndef CTSIM_SIM_VERIFY_LAB_RULESET_H_
#define CTSIM_SIM_VERIFY_LAB_RULESET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/status.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/lab_address_map.h"

namespace ctsim::verify {

constexpr uint16_t kNflogGroup = 7;
// skb->mark of the packets kernel-run sends on the output path ("ctsi").
constexpr uint32_t kInjectMark = 0x63747369;

std::string lab_ruleset_before_conntrack();

// The nft text of table inet ctsim for namespace `netns`: the rules whose
// `at` is 0, in scenario order (their index in s.rules names them).
// An error names the first rule kernel-run cannot express.
Status lab_ruleset_scenario(const Scenario& s, const std::string& netns, const LabAddressMap& map, std::string* out);

// For rule s.rules[index] added during the run: the chain of table inet
// ctsim it goes to and its expression (`nft add rule inet ctsim CHAIN
// EXPR`); the expression is "" when the rule can never match here.
Status lab_rule_add(const Scenario& s, size_t index, const LabAddressMap& map, std::string* chain, std::string* expr);

// Why a scenario rule cannot run on the kernel, or "" when it can.
std::string lab_rule_refusal(const RuleSpec& r);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_LAB_RULESET_H_
