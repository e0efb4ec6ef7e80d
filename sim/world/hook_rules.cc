#include "sim/world/hook_rules.h"

#include <algorithm>

namespace ctsim {

HookRules::HookRules(const std::vector<Entry>& entries) {
  // Counting sort by key: stable, so each key keeps scenario order.
  size_t keys = 0;
  for (const Entry& e : entries) keys = std::max(keys, key_of(e.net, e.hook) + 1);
  if (keys == 0) return;  // no rule anywhere: every list is empty
  begin_.assign(keys + 1, 0);
  for (const Entry& e : entries) ++begin_[key_of(e.net, e.hook) + 1];
  for (size_t k = 1; k <= keys; ++k) begin_[k] += begin_[k - 1];
  rules_.resize(begin_[keys]);
  std::vector<uint32_t> next(begin_.begin(), begin_.end() - 1);
  for (const Entry& e : entries) rules_[next[key_of(e.net, e.hook)]++] = e.rule;
}

}  // namespace ctsim
