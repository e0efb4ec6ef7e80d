// HookRules: each (namespace, hook) lists exactly the rules registered
// there, in scenario order, checked against a trivial model (a scan of all
// rules, what the simulator did before the index) with a fixed seed.
#include "sim/world/hook_rules.h"

#include <doctest/doctest.h>

#include <vector>

#include "sim/engine/rng.h"

using ctcore::nf_inet_hooks;
using ctsim::HookRules;
using ctsim::RuleSpec;

namespace {

constexpr nf_inet_hooks kHooks[] = {ctcore::NF_INET_PRE_ROUTING, ctcore::NF_INET_LOCAL_IN, ctcore::NF_INET_FORWARD,
                                    ctcore::NF_INET_LOCAL_OUT, ctcore::NF_INET_POST_ROUTING};

std::vector<const RuleSpec*> model(const std::vector<HookRules::Entry>& entries, uint16_t net, nf_inet_hooks hook) {
  std::vector<const RuleSpec*> out;
  for (const HookRules::Entry& e : entries)
    if (e.net == net && e.hook == hook) out.push_back(e.rule);
  return out;
}

}  // namespace

TEST_CASE("HookRules with no rules has an empty list everywhere") {
  HookRules none;
  CHECK(none.at(0, ctcore::NF_INET_FORWARD).empty());
  HookRules built(std::vector<HookRules::Entry>{});
  CHECK(built.at(3, ctcore::NF_INET_POST_ROUTING).empty());
}

TEST_CASE("HookRules lists each (namespace, hook)'s rules in scenario order") {
  std::vector<RuleSpec> specs(200);
  std::vector<HookRules::Entry> entries;
  ctsim::Rng rng(7, 1);
  for (const RuleSpec& r : specs) {
    // Nets 0..3.
    const uint16_t net = static_cast<uint16_t>(rng.below(4));
    entries.push_back({net, kHooks[rng.below(5)], &r});
  }
  const HookRules rules(entries);
  for (uint16_t net = 0; net < 6; ++net) {  // 4 and 5: nets no rule names
    for (nf_inet_hooks hook : kHooks) {
      CAPTURE(net);
      CAPTURE(static_cast<int>(hook));
      const auto got = rules.at(net, hook);
      CHECK(std::vector<const RuleSpec*>(got.begin(), got.end()) == model(entries, net, hook));
    }
  }
  CHECK(rules.at(1000, ctcore::NF_INET_FORWARD).empty());  // past every registered net
}

TEST_CASE("HookRules::empty is true iff no rule registered anywhere") {
  RuleSpec r;
  CHECK(HookRules().empty());
  CHECK(HookRules(std::vector<HookRules::Entry>{}).empty());
  CHECK_FALSE(HookRules(std::vector<HookRules::Entry>{{0, ctcore::NF_INET_FORWARD, &r}}).empty());
}
