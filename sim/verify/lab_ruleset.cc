#include "sim/verify/lab_ruleset.h"

#include <fmt/format.h>

#include "sim/scenario/packet_notation.h"

namespace ctsim::verify {

namespace {

using Verdict = RuleSpec::Verdict;

constexpr const char* kHookNames[] = {"prerouting", "input", "forward", "output", "postrouting"};

std::string log_stmt(const std::string& prefix) {
  // queue-threshold 1: each message is sent at once, not batched for a second.
  return fmt::format("log prefix \"{}\" group {} snaplen 128 queue-threshold 1", prefix, kNflogGroup);
}

const char* port_protocol(int protonum) {
  switch (protonum) {
    case 6: return "tcp";
    case 17: return "udp";
    case 136: return "udplite";
    case 132: return "sctp";
    case 33: return "dccp";
    default: return nullptr;
  }
}

std::string tcp_flag_names(uint8_t bits) {
  static constexpr const char* kNames[] = {"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"};
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (!(bits & (1u << i))) continue;
    if (!s.empty()) s += " | ";
    s += kNames[i];
  }
  return s.empty() ? "0x0" : "(" + s + ")";
}

// `ip saddr { ... }` for a prefix of the scenario; false when the prefix
// holds no address the scenario uses (the rule can never match).
bool address_expr(const Prefix& p, const char* which, const LabAddressMap& map, std::string* out) {
  const std::vector<AddressBlock> blocks = map.prefix_to_lab(p.l3num, p.addr, p.len);
  if (blocks.empty()) return false;
  *out += fmt::format(" {} {} {{ ", p.l3num == ctcore::NFPROTO_IPV6 ? "ip6" : "ip", which);
  for (size_t i = 0; i < blocks.size(); ++i) *out += (i ? ", " : "") + format_block(blocks[i]);
  *out += " }";
  return true;
}

// The nft expression of a match; false when it can never match here.
bool match_expr(const RuleMatch& m, const LabAddressMap& map, std::string* out) {
  if (m.l3num) *out += m.l3num == ctcore::NFPROTO_IPV6 ? " meta nfproto ipv6" : " meta nfproto ipv4";
  if (m.protonum >= 0) *out += fmt::format(" meta l4proto {}", m.protonum);
  if (m.saddr.set && !address_expr(m.saddr, "saddr", map, out)) return false;
  if (m.daddr.set && !address_expr(m.daddr, "daddr", map, out)) return false;
  if (const char* proto = port_protocol(m.protonum)) {
    if (m.has_sport) *out += fmt::format(" {} sport {}-{}", proto, m.sport_lo, m.sport_hi);
    if (m.has_dport) *out += fmt::format(" {} dport {}-{}", proto, m.dport_lo, m.dport_hi);
  }
  if (m.ct_states) {
    static constexpr const char* kStates[] = {"invalid", "established", "related", "new", "untracked"};
    std::string list;
    for (int i = 0; i < 5; ++i) {
      if (!(m.ct_states & (1u << i))) continue;
      if (!list.empty()) list.push_back(',');
      list += kStates[i];
    }
    *out += " ct state " + list;
  }
  if (m.has_flags) {
    if (m.tcp_flags_mask == 0xff) {
      *out += " tcp flags == " + tcp_flag_names(m.tcp_flags);
    } else {
      *out += " tcp flags & " + tcp_flag_names(m.tcp_flags_mask) + " == " + tcp_flag_names(m.tcp_flags);
    }
  }
  return true;
}

std::string lab_address(uint16_t l3num, const ctcore::nf_inet_addr& a, const LabAddressMap& map) {
  return format_address(l3num, map.to_lab(l3num, a));
}

// "198.18.0.7", "198.18.0.1-198.18.0.4:1024-65535", "[2001:db8::1]:443".
std::string nat_target(const ctcore::nf_nat_range2& r, const LabAddressMap& map) {
  const bool v6 = r.l3num == ctcore::NFPROTO_IPV6;
  std::string s;
  if (r.flags & ctcore::NF_NAT_RANGE_MAP_IPS) {
    s = lab_address(r.l3num, r.min_addr, map);
    if (!(r.max_addr == r.min_addr)) {
      s.push_back('-');
      s += lab_address(r.l3num, r.max_addr, map);
    }
    if (v6 && (r.flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED)) s = "[" + s + "]";
  }
  if (r.flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED) {
    s += fmt::format(":{}", r.min_proto);
    if (r.max_proto != r.min_proto) s += fmt::format("-{}", r.max_proto);
  }
  return s;
}

std::string nat_flags(uint32_t flags) {
  std::string s;
  auto add = [&](uint32_t bit, const char* word) {
    if (!(flags & bit)) return;
    s.push_back(s.empty() ? ' ' : ',');
    s += word;
  };
  add(ctcore::NF_NAT_RANGE_PROTO_RANDOM, "random");
  add(ctcore::NF_NAT_RANGE_PROTO_RANDOM_FULLY, "fully-random");
  add(ctcore::NF_NAT_RANGE_PERSISTENT, "persistent");
  return s;
}

std::string nat_stmt(const RuleSpec& r, const LabAddressMap& map) {
  if (r.verdict == Verdict::kMasquerade) {
    std::string s = "masquerade";
    if (!r.to.empty() && (r.to[0].flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED))
      s += " to " + nat_target(r.to[0], map);
    return s + nat_flags(r.to.empty() ? 0 : r.to[0].flags);
  }
  const char* kind = r.verdict == Verdict::kDnat ? "dnat" : "snat";
  const ctcore::nf_nat_range2& first = r.to.front();
  const char* family = first.l3num == ctcore::NFPROTO_IPV6 ? "ip6" : "ip";
  if (r.to.size() == 1) return fmt::format("{} {} to {}{}", kind, family, nat_target(first, map), nat_flags(first.flags));
  // A list used in turn: nft's numgen over a map of single addresses
  // (with a port each: the address . port concatenation).
  const bool ports = first.flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED;
  std::string s = fmt::format("{} {} {}to numgen inc mod {} map {{ ", kind, family, ports ? "addr . port " : "", r.to.size());
  for (size_t i = 0; i < r.to.size(); ++i) {
    s += fmt::format("{}{} : {}", i ? ", " : "", i, lab_address(r.to[i].l3num, r.to[i].min_addr, map));
    if (ports) s += fmt::format(" . {}", r.to[i].min_proto);
  }
  return s + " }" + nat_flags(first.flags);
}

const char* chain_of(const RuleSpec& r) {
  if (!r.is_nat()) {
    static constexpr const char* kChains[] = {"rules_prerouting", "rules_input", "rules_forward", "rules_output",
                                              "rules_postrouting"};
    return kChains[r.hook];
  }
  switch (r.hook) {
    case ctcore::NF_INET_PRE_ROUTING: return "nat_prerouting";
    case ctcore::NF_INET_LOCAL_OUT: return "nat_output";
    case ctcore::NF_INET_LOCAL_IN: return "nat_input";
    default: return "nat_postrouting";
  }
}

// The rule's expression and statement; "" when it can never match.
std::string rule_text(const RuleSpec& r, size_t index, const LabAddressMap& map) {
  std::string e;
  if (!match_expr(r.match, map, &e)) return "";
  switch (r.verdict) {
    case Verdict::kAccept: e += " accept"; break;
    case Verdict::kDrop: e += fmt::format(" {} drop", log_stmt(fmt::format("D{}", index))); break;
    default: e += fmt::format(" {}", nat_stmt(r, map)); break;
  }
  return e.substr(1);
}

bool namespace_has_nat(const Scenario& s, const std::string& netns) {
  for (const RuleSpec& r : s.rules) {
    if (r.netns == netns && r.is_nat()) return true;
  }
  return false;
}

}  // namespace

std::string lab_rule_refusal(const RuleSpec& r) {
  if (r.verdict == Verdict::kQueue)
    return "verdict \"queue\" holds a packet for a modelled delay; an NFQUEUE with a userspace that answers late "
           "has no counterpart in kernel-run";
  if (r.is_nat() && r.to.size() > 1) {
    for (const auto& t : r.to) {
      if (!(t.max_addr == t.min_addr) || t.max_proto != t.min_proto)
        return "a \"to\" list of ranges (nft's numgen map takes single addresses and ports)";
    }
  }
  return "";
}

std::string lab_ruleset_before_conntrack() {
  return fmt::format(
      "table inet ctsim_lab {{\n"
      "  chain guard_output {{\n"
      "    type filter hook output priority -300; policy accept;\n"
      "    meta mark != 0x{:08x} drop\n"
      "  }}\n"
      "  chain final_postrouting {{\n"
      "    type filter hook postrouting priority 2147483647; policy accept;\n"
      "    {}\n"
      "  }}\n"
      "  chain final_input {{\n"
      "    type filter hook input priority 2147483647; policy accept;\n"
      "    {}\n"
      "  }}\n"
      "}}\n",
      kInjectMark, log_stmt("Z"), log_stmt("Z"));
}

Status lab_ruleset_scenario(const Scenario& s, const std::string& netns, const LabAddressMap& map, std::string* out) {
  std::string state_logs;
  state_logs += "    ct state untracked " + log_stmt("A untracked") + "\n";
  state_logs += "    ct state invalid " + log_stmt("A invalid") + "\n";
  state_logs += "    ct state new " + log_stmt("A new orig") + "\n";
  for (const char* st : {"established", "related"}) {
    for (const char* dir : {"original", "reply"}) {
      state_logs += fmt::format("    ct state {} ct direction {} {}\n", st, dir,
                                log_stmt(fmt::format("A {} {}", st, dir[0] == 'o' ? "orig" : "reply")));
    }
  }
  std::string t = "table inet ctsim {\n";
  t += "  chain first_prerouting {\n    type filter hook prerouting priority -150; policy accept;\n" + state_logs +
       "  }\n";
  t += "  chain first_output {\n    type filter hook output priority -150; policy accept;\n" + state_logs + "  }\n";
  std::vector<std::string> bodies(5);
  std::vector<std::string> nat_bodies(4);  // prerouting, input, output, postrouting
  for (size_t i = 0; i < s.rules.size(); ++i) {
    const RuleSpec& r = s.rules[i];
    if (r.netns != netns || r.at != 0) continue;
    if (std::string why = lab_rule_refusal(r); !why.empty())
      return Status::InvalidArgument(fmt::format("rules[{}]: {}", i, why));
    const std::string text = rule_text(r, i, map);
    const std::string line = text.empty() ? fmt::format("    # rules[{}] matches no address of the scenario\n", i)
                                          : "    " + text + "\n";
    const std::string chain = chain_of(r);
    if (chain.starts_with("rules_")) {
      bodies[r.hook] += line;
    } else {
      const size_t k = chain == "nat_prerouting" ? 0 : chain == "nat_input" ? 1 : chain == "nat_output" ? 2 : 3;
      nat_bodies[k] += line;
    }
  }
  for (int h = 0; h < 5; ++h) {
    t += fmt::format("  chain rules_{} {{\n    type filter hook {} priority 0; policy accept;\n{}  }}\n", kHookNames[h],
                     kHookNames[h], bodies[h]);
  }
  if (namespace_has_nat(s, netns)) {
    static constexpr const char* kNatHooks[] = {"prerouting", "input", "output", "postrouting"};
    static constexpr int kNatPriority[] = {-100, 100, -100, 100};
    for (int k = 0; k < 4; ++k) {
      t += fmt::format("  chain nat_{} {{\n    type nat hook {} priority {}; policy accept;\n{}  }}\n", kNatHooks[k],
                       kNatHooks[k], kNatPriority[k], nat_bodies[k]);
    }
  }
  t += "}\n";
  *out = std::move(t);
  return Status::OK();
}

Status lab_rule_add(const Scenario& s, size_t index, const LabAddressMap& map, std::string* chain, std::string* expr) {
  const RuleSpec& r = s.rules[index];
  if (std::string why = lab_rule_refusal(r); !why.empty())
    return Status::InvalidArgument(fmt::format("rules[{}]: {}", index, why));
  *chain = chain_of(r);
  *expr = rule_text(r, index, map);
  return Status::OK();
}

}  // namespace ctsim::verify
