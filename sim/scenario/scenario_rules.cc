// The scenario loader's "rules" section (docs/SCENARIO.md "Rules"): filter and
// NAT rules at the netfilter hooks.
#include <fmt/format.h>

#include "sim/scenario/nat_range.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

namespace {

// A NAT rule's "to": one range or a list of them used in turn.
void read_nat_targets(Checker& c, const json& to, const std::string& p, RuleSpec* r) {
  std::vector<std::pair<std::string, std::string>> texts;  // (pointer, text)
  if (to.is_array()) {
    if (to.empty()) c.error(p, "an empty list maps nothing");
    for (size_t k = 0; k < to.size(); ++k)
      if (auto t = c.string(to[k], fmt::format("{}/{}", p, k))) texts.emplace_back(fmt::format("{}/{}", p, k), *t);
  } else if (auto t = c.string(to, p)) {
    texts.emplace_back(p, *t);
  }
  const bool masquerade = r->verdict == RuleSpec::Verdict::kMasquerade;
  if (masquerade && texts.size() > 1) c.error(p, "masquerade takes one port range, not a list");
  for (const auto& [ptr, text] : texts) {
    auto range = parse_nat_range(text, masquerade);
    if (!range) {
      c.error(ptr, range.error().what);
      continue;
    }
    r->to.push_back(*range);
  }
}

// The rule's "flags": nft's random, fully-random, persistent.
uint32_t read_nat_flags(Checker& c, const json& flags, const std::string& p) {
  uint32_t out = 0;
  if (!c.is_array(flags, p)) return out;
  for (size_t k = 0; k < flags.size(); ++k)
    if (auto w = c.one_of(flags[k], fmt::format("{}/{}", p, k), scenario_enum("/rules/*/flags/*")))
      out |= *nat_flag_from_word(*w);
  return out;
}

}  // namespace

void load_rules(LoadContext& x, const json& doc) {
  Checker& c = x.c;
  Scenario& s = x.s;
  if (!doc.contains("rules") || !c.is_array(doc["rules"], "/rules")) return;
  const json& arr = doc["rules"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("/rules/{}", i);
    if (!c.is_object(arr[i], p)) continue;
    const json& rj = arr[i];
    c.only_keys(rj, p, scenario_keys("/rules/*"));
    c.required_keys(rj, p, "/rules/*");
    RuleSpec r;
    r.netns = x.first_ns;
    if (rj.contains("netns"))
      if (auto v = x.check_ns(rj["netns"], p + "/netns")) {
        r.netns = *v;
        x.check_from_start(r.netns, p + "/netns");
      }
    if (rj.contains("hook"))
      if (auto h = c.one_of(rj["hook"], p + "/hook", scenario_enum("/rules/*/hook")))
        r.hook = *ctcore::nf_inet_hook_from_word(*h);
    if (rj.contains("match"))
      if (auto m = c.string(rj["match"], p + "/match")) {
        r.match_text = *m;
        if (auto parsed = parse_rule_match(*m))
          r.match = *parsed;
        else
          c.error(p + "/match", fmt::format("column {}: {}", parsed.error().column + 1, parsed.error().what));
      }
    if (rj.contains("verdict"))
      if (auto v = c.one_of(rj["verdict"], p + "/verdict", scenario_enum("/rules/*/verdict"))) {
        r.verdict = *enum_from_name<RuleSpec::Verdict>(kVerdictNames, *v);
        if (r.verdict == RuleSpec::Verdict::kQueue && !rj.contains("delay"))
          c.error(p, "a queue verdict needs \"delay\" (how long the packet is held)");
        // NAT decides the destination before routing, the source after.
        const bool dst_hook = r.hook == ctcore::NF_INET_PRE_ROUTING || r.hook == ctcore::NF_INET_LOCAL_OUT;
        const bool src_hook = r.hook == ctcore::NF_INET_POST_ROUTING || r.hook == ctcore::NF_INET_LOCAL_IN;
        if (r.verdict == RuleSpec::Verdict::kDnat && !dst_hook)
          c.error(p + "/verdict", "dnat works at the prerouting and output hooks only");
        if (r.verdict == RuleSpec::Verdict::kSnat && !src_hook)
          c.error(p + "/verdict", "snat works at the postrouting and input hooks only");
        if (r.verdict == RuleSpec::Verdict::kMasquerade && r.hook != ctcore::NF_INET_POST_ROUTING)
          c.error(p + "/verdict", "masquerade works at the postrouting hook only");
        if ((r.verdict == RuleSpec::Verdict::kDnat || r.verdict == RuleSpec::Verdict::kSnat) && !rj.contains("to"))
          c.error(p, fmt::format("a {} verdict needs \"to\" (the address to map to, e.g. \"10.1.0.1:53\")", *v));
      }
    if (rj.contains("to")) {
      if (!r.is_nat())
        c.error(p + "/to", "\"to\" only applies to the dnat, snat and masquerade verdicts", true);
      else
        read_nat_targets(c, rj["to"], p + "/to", &r);
    }
    if (r.verdict == RuleSpec::Verdict::kMasquerade && r.to.empty()) r.to.emplace_back();  // no ports: any
    if (rj.contains("flags")) {
      if (!r.is_nat()) {
        c.error(p + "/flags", "\"flags\" only apply to the dnat, snat and masquerade verdicts", true);
      } else {
        const uint32_t flags = read_nat_flags(c, rj["flags"], p + "/flags");
        for (ctcore::nf_nat_range2& t : r.to) t.flags |= flags;
      }
    }
    if (rj.contains("at"))
      if (auto t = c.duration(rj["at"], p + "/at", s.hz)) r.at = *t;
    if (rj.contains("delay")) {
      if (r.verdict != RuleSpec::Verdict::kQueue)
        c.error(p + "/delay", "\"delay\" only applies to the queue verdict", true);
      else if (auto d = c.duration(rj["delay"], p + "/delay", s.hz))
        r.delay = *d;
    }
    s.rules.push_back(std::move(r));
  }
}

}  // namespace ctsim
