// The nft rule set kernel-run loads for a scenario namespace
// (sim/verify/lab_ruleset.h): the rule language and the NAT verdicts as
// nft words, the log rules kernel-run reads back, and what it refuses.
#include <doctest/doctest.h>

#include "sim/scenario/scenario.h"
#include "sim/verify/lab_address_map.h"
#include "sim/verify/lab_ruleset.h"

namespace {

ctsim::Scenario load(const std::string& rules) {
  const std::string text = R"({"ctsim": 1, "name": "t", "namespaces": [{"name": "fw"}], "rules": [)" + rules +
                           R"(], "packets": [{"at": "0s", "pkt": "tcp 10.0.0.5:1000 > 10.96.0.10:53 flags S"},
                            {"at": "1ms", "pkt": "udp 192.168.7.1:5 > 10.96.0.10:53"}]})";
  ctsim::Scenario s;
  const ctsim::Status st = ctsim::parse_scenario("t.json", text, &s);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return s;
}

ctsim::verify::LabAddressMap map_for(const ctsim::Scenario& s) {
  ctsim::verify::LabAddressMap m;
  for (const auto& p : s.packets) {
    m.add(p.spec.pkt.l3num, p.spec.pkt.saddr);
    m.add(p.spec.pkt.l3num, p.spec.pkt.daddr);
  }
  for (const auto& r : s.rules) {
    for (const auto& t : r.to) m.add_range(t.l3num, t.min_addr, t.max_addr);
  }
  REQUIRE(m.build().ok());
  return m;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("filter rules: the match language in nft words, a drop logged with its rule number") {
  const ctsim::Scenario s = load(R"({"netns": "fw", "hook": "forward", "match": "tcp dport 1-1023 flags S/SA ct state new", "verdict": "drop"},
                                    {"netns": "fw", "hook": "input", "match": "ip saddr 10.0.0.0/8", "verdict": "accept"},
                                    {"netns": "fw", "hook": "forward", "match": "ip saddr 203.0.113.0/24", "verdict": "drop"})");
  const auto m = map_for(s);
  std::string t;
  REQUIRE(ctsim::verify::lab_ruleset_scenario(s, "fw", m, &t).ok());
  CHECK(has(t, "meta l4proto 6 tcp dport 1-1023 ct state new tcp flags & (syn | ack) == (syn) log prefix \"D0\""));
  CHECK(has(t, " drop\n"));
  // 10.0.0.0/8 holds the scenario's 10.0.0.5 and 10.96.0.10: their lab blocks.
  const std::string lab5 = ctsim::format_address(ctcore::NFPROTO_IPV4, m.to_lab(ctcore::NFPROTO_IPV4, s.packets[0].spec.pkt.saddr));
  CHECK(has(t, "ip saddr { "));
  CHECK(has(t, lab5));
  CHECK_FALSE(has(t, "10.0.0.0/8"));
  // No scenario address in 203.0.113.0/24: the rule cannot match and says so.
  CHECK(has(t, "# rules[2] matches no address of the scenario"));
  // The first-hook log rules, one per ct state and direction.
  for (const char* p : {"A new orig", "A established reply", "A related orig", "A invalid", "A untracked"})
    CHECK(has(t, p));
  CHECK_FALSE(has(t, "type nat"));  // no NAT rule, no nat chains (no NAT_DONE bits)
}

TEST_CASE("NAT rules: ranges, flags, a list used in turn as numgen") {
  const ctsim::Scenario s = load(R"({"netns": "fw", "hook": "prerouting", "match": "udp dport 53", "verdict": "dnat", "to": ["10.1.0.1:53", "10.1.0.2:53"]},
                                    {"netns": "fw", "hook": "postrouting", "match": "ip saddr 192.168.0.0/16", "verdict": "snat", "to": "198.51.100.1:1024-65535", "flags": ["fully-random"]},
                                    {"netns": "fw", "hook": "postrouting", "verdict": "masquerade", "to": ":2000-3000", "flags": ["random", "persistent"]})");
  const auto m = map_for(s);
  std::string t;
  REQUIRE(ctsim::verify::lab_ruleset_scenario(s, "fw", m, &t).ok());
  CHECK(has(t, "type nat hook prerouting priority -100"));
  CHECK(has(t, "dnat ip addr . port to numgen inc mod 2 map { 0 : "));
  CHECK(has(t, ":1024-65535 fully-random"));
  CHECK(has(t, "masquerade to :2000-3000 random,persistent"));
}

TEST_CASE("what has no kernel counterpart is refused by name") {
  const ctsim::Scenario s = load(R"({"netns": "fw", "hook": "forward", "match": "udp", "verdict": "queue", "delay": "2ms"})");
  CHECK(ctsim::verify::lab_rule_refusal(s.rules[0]).find("queue") != std::string::npos);
  std::string t;
  CHECK_FALSE(ctsim::verify::lab_ruleset_scenario(s, "fw", map_for(s), &t).ok());
}

TEST_CASE("the guard and the final log chains come before conntrack, at the priorities that order them") {
  const std::string t = ctsim::verify::lab_ruleset_before_conntrack();
  CHECK(has(t, "type filter hook output priority -300"));
  CHECK(has(t, "meta mark != 0x63747369 drop"));
  CHECK(has(t, "type filter hook postrouting priority 2147483647"));
  CHECK(has(t, "type filter hook input priority 2147483647"));
  CHECK_FALSE(has(t, "ct "));  // nothing here may make the namespace run conntrack
}
