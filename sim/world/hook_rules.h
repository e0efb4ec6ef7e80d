// The filter rules that apply at each (namespace, hook): what a packet's
// traversal consults at every hook, precomputed once per run so that a hook
// step looks at its own rules only (not at every rule of the scenario).
//
// Invariants:
//   1. at(net, hook) holds exactly the rules added with that (net, hook),
//      in the order they were added (scenario order): the first match
//      decides, and a queued packet resumes by position in this list.
//   2. A (net, hook) that no rule names, including a namespace index beyond
//      every rule's (one added later by a netns_add action), has an empty
//      list.
//
// Ownership: holds pointers to the RuleSpecs it is given; they must outlive
// it (the Scenario does).
// Threading: single-threaded; immutable after construction.
#ifndef CTSIM_SIM_WORLD_HOOK_RULES_H_
#define CTSIM_SIM_WORLD_HOOK_RULES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

class HookRules {
 public:
  // One filter rule and the namespace and hook it is registered at.
  struct Entry {
    uint16_t net;
    ctcore::nf_inet_hooks hook;
    const RuleSpec* rule;
  };

  HookRules() = default;
  // REQUIRES: `entries` in scenario order.
  explicit HookRules(const std::vector<Entry>& entries);
  HookRules(const HookRules&) = delete;
  HookRules& operator=(const HookRules&) = delete;
  HookRules(HookRules&&) = default;
  HookRules& operator=(HookRules&&) = default;

  // True iff no (net, hook) has a rule.
  bool empty() const { return rules_.empty(); }
  // The rules at (net, hook), in scenario order (invariants 1 and 2).
  std::span<const RuleSpec* const> at(uint16_t net, ctcore::nf_inet_hooks hook) const {
    const size_t key = key_of(net, hook);
    if (key + 1 >= begin_.size()) return {};
    return {rules_.data() + begin_[key], rules_.data() + begin_[key + 1]};
  }

 private:
  static constexpr size_t kHooks = ctcore::NF_INET_POST_ROUTING + 1;
  static size_t key_of(uint16_t net, ctcore::nf_inet_hooks hook) { return size_t{net} * kHooks + hook; }

  std::vector<const RuleSpec*> rules_;  // grouped by key, scenario order within a key
  std::vector<uint32_t> begin_;         // key k's rules: [begin_[k], begin_[k + 1])
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_HOOK_RULES_H_
