// The rule match language: each selector matches what it names and nothing
// else, "ct state" reads the skb's ctinfo as nft does, and bad text gets an
// exact message with its column.
#include <doctest/doctest.h>

#include <string>

#include "core/packet.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/rule_match.h"

using ctcore::Packet;
using ctsim::RuleMatch;

namespace {

RuleMatch rule(const std::string& text) {
  INFO(text);
  const auto m = ctsim::parse_rule_match(text);
  INFO((m ? std::string() : m.error().what));
  REQUIRE(m.ok());
  return *m;
}

Packet pkt(const std::string& text) {
  INFO(text);
  const auto spec = ctsim::parse_packet(text);
  REQUIRE(spec.ok());
  return spec->pkt;
}

std::string error_of(const std::string& text) {
  const auto m = ctsim::parse_rule_match(text);
  if (m) return "parsed";
  return std::to_string(m.error().column + 1) + ": " + m.error().what;
}

// A conn the packet points at; matches() only asks whether there is one.
alignas(64) unsigned char fake_conn[64];

Packet with_ct(Packet p, ctcore::ip_conntrack_info info) {
  p.ct = reinterpret_cast<ctcore::nf_conn*>(fake_conn);
  p.ctinfo = info;
  return p;
}

}  // namespace

TEST_CASE("an empty match matches every packet") {
  RuleMatch m = rule("");
  CHECK(m.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S")));
  CHECK(m.matches(pkt("proto 50 1.2.3.4 > 5.6.7.8")));
  CHECK(m.matches(pkt("icmp6 ::1 > ::2 echo-request")));
}

TEST_CASE("protocol selectors") {
  CHECK(rule("tcp").matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S")));
  CHECK_FALSE(rule("tcp").matches(pkt("udp 1.2.3.4:1 > 5.6.7.8:2")));
  CHECK(rule("udp").matches(pkt("udp 1.2.3.4:1 > 5.6.7.8:2")));
  CHECK_FALSE(rule("udp").matches(pkt("udplite 1.2.3.4:1 > 5.6.7.8:2")));
  CHECK(rule("udplite").matches(pkt("udplite 1.2.3.4:1 > 5.6.7.8:2")));
  CHECK(rule("icmp").matches(pkt("icmp 1.2.3.4 > 5.6.7.8 echo-request")));
  CHECK_FALSE(rule("icmp").matches(pkt("icmp6 ::1 > ::2 echo-request")));
  CHECK(rule("icmp6").matches(pkt("icmp6 ::1 > ::2 echo-request")));
  CHECK(rule("gre").matches(pkt("gre 1.2.3.4 > 5.6.7.8 key 1")));
  CHECK(rule("sctp").matches(pkt("sctp 1.2.3.4:1 > 5.6.7.8:2 chunks INIT")));
  CHECK(rule("dccp").matches(pkt("dccp 1.2.3.4:1 > 5.6.7.8:2 type REQUEST")));
  CHECK(rule("proto 50").matches(pkt("proto 50 1.2.3.4 > 5.6.7.8")));
  CHECK_FALSE(rule("proto 51").matches(pkt("proto 50 1.2.3.4 > 5.6.7.8")));
  CHECK(rule("ip").matches(pkt("udp 1.2.3.4:1 > 5.6.7.8:2")));
  CHECK_FALSE(rule("ip").matches(pkt("udp [::1]:1 > [::2]:2")));
  CHECK(rule("ip6").matches(pkt("udp [::1]:1 > [::2]:2")));
  CHECK_FALSE(rule("ip6").matches(pkt("udp 1.2.3.4:1 > 5.6.7.8:2")));
}

TEST_CASE("saddr and daddr match prefixes, v4 and v6") {
  RuleMatch m = rule("ip saddr 10.0.0.0/8 daddr 192.168.1.2");
  CHECK(m.matches(pkt("udp 10.255.0.1:1 > 192.168.1.2:2")));
  CHECK(m.matches(pkt("udp 10.0.0.0:1 > 192.168.1.2:2")));
  CHECK_FALSE(m.matches(pkt("udp 11.0.0.1:1 > 192.168.1.2:2")));  // outside the /8
  CHECK_FALSE(m.matches(pkt("udp 10.0.0.1:1 > 192.168.1.3:2")));  // a /32
  CHECK_FALSE(m.matches(pkt("udp 192.168.1.2:2 > 10.0.0.1:1")));  // the other direction
  RuleMatch odd = rule("saddr 10.0.0.128/25");
  CHECK(odd.matches(pkt("udp 10.0.0.200:1 > 1.1.1.1:2")));
  CHECK_FALSE(odd.matches(pkt("udp 10.0.0.127:1 > 1.1.1.1:2")));
  RuleMatch v6 = rule("ip6 saddr 2001:db8::/32");
  CHECK(v6.matches(pkt("tcp [2001:db8:ffff::1]:1 > [2001:db9::1]:2 flags S")));
  CHECK_FALSE(v6.matches(pkt("tcp [2001:db9::1]:1 > [2001:db8::1]:2 flags S")));
  CHECK_FALSE(v6.matches(pkt("tcp 32.1.13.184:1 > 1.1.1.1:2 flags S")));  // 2001:db8 read as v4
  RuleMatch any = rule("daddr 0.0.0.0/0");
  CHECK(any.matches(pkt("udp 1.1.1.1:1 > 255.255.255.255:2")));
  CHECK_FALSE(any.matches(pkt("udp [::1]:1 > [::2]:2")));  // a v4 prefix never matches v6
}

TEST_CASE("sport and dport match single ports and inclusive ranges") {
  RuleMatch m = rule("udp sport 1024-65535 dport 53");
  CHECK(m.matches(pkt("udp 1.2.3.4:1024 > 5.6.7.8:53")));
  CHECK(m.matches(pkt("udp 1.2.3.4:65535 > 5.6.7.8:53")));
  CHECK_FALSE(m.matches(pkt("udp 1.2.3.4:1023 > 5.6.7.8:53")));
  CHECK_FALSE(m.matches(pkt("udp 1.2.3.4:5000 > 5.6.7.8:54")));
  CHECK_FALSE(m.matches(pkt("tcp 1.2.3.4:5000 > 5.6.7.8:53 flags S")));
  CHECK(rule("tcp dport 23").matches(pkt("tcp 1.2.3.4:5000 > 5.6.7.8:23 flags S")));
  CHECK(rule("sctp dport 5001").matches(pkt("sctp 1.2.3.4:5000 > 5.6.7.8:5001 chunks INIT")));
}

TEST_CASE("tcp flags: exact, or under a mask") {
  RuleMatch syn = rule("tcp flags S");
  CHECK(syn.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S")));
  CHECK_FALSE(syn.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags SA")));
  CHECK_FALSE(syn.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags A")));
  RuleMatch masked = rule("tcp flags S/SA");
  CHECK(masked.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S")));
  CHECK(masked.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags SEC")));  // ECN bits outside the mask
  CHECK_FALSE(masked.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags SA")));
  RuleMatch rst = rule("tcp flags R/R");
  CHECK(rst.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags RA")));
  CHECK_FALSE(rst.matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags FA")));
  CHECK(rule("tcp flags none").matches(pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags none")));
}

TEST_CASE("ct state reads the skb's ctinfo") {
  const Packet p = pkt("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S");
  RuleMatch nw = rule("ct state new");
  RuleMatch est = rule("ct state established");
  RuleMatch rel = rule("ct state related");
  RuleMatch inv = rule("ct state invalid");
  RuleMatch unt = rule("ct state untracked");
  RuleMatch ne = rule("ct state new,established");

  const Packet fresh = with_ct(p, ctcore::IP_CT_NEW);
  CHECK(nw.matches(fresh));
  CHECK(ne.matches(fresh));
  CHECK_FALSE(est.matches(fresh));

  for (auto info : {ctcore::IP_CT_ESTABLISHED, ctcore::IP_CT_ESTABLISHED_REPLY}) {
    const Packet e = with_ct(p, info);
    CHECK(est.matches(e));
    CHECK(ne.matches(e));
    CHECK_FALSE(nw.matches(e));
    CHECK_FALSE(rel.matches(e));
  }
  for (auto info : {ctcore::IP_CT_RELATED, ctcore::IP_CT_RELATED_REPLY}) {
    const Packet r = with_ct(p, info);
    CHECK(rel.matches(r));
    CHECK_FALSE(ne.matches(r));
  }
  // No conn attached: conntrack found the packet invalid.
  CHECK(inv.matches(p));
  CHECK_FALSE(ne.matches(p));
  Packet u = p;
  u.untracked = true;
  CHECK(unt.matches(u));
  CHECK_FALSE(inv.matches(u));
}

TEST_CASE("all selectors of a rule must hold") {
  RuleMatch m = rule("tcp saddr 10.0.0.0/8 dport 80 ct state new flags S");
  const Packet ok = with_ct(pkt("tcp 10.1.1.1:5000 > 5.6.7.8:80 flags S"), ctcore::IP_CT_NEW);
  CHECK(m.matches(ok));
  CHECK_FALSE(m.matches(with_ct(pkt("tcp 11.1.1.1:5000 > 5.6.7.8:80 flags S"), ctcore::IP_CT_NEW)));
  CHECK_FALSE(m.matches(with_ct(pkt("tcp 10.1.1.1:5000 > 5.6.7.8:81 flags S"), ctcore::IP_CT_NEW)));
  CHECK_FALSE(m.matches(with_ct(pkt("tcp 10.1.1.1:5000 > 5.6.7.8:80 flags A"), ctcore::IP_CT_NEW)));
  CHECK_FALSE(m.matches(with_ct(pkt("tcp 10.1.1.1:5000 > 5.6.7.8:80 flags S"), ctcore::IP_CT_ESTABLISHED)));
}

TEST_CASE("parse_rule_match names what is wrong, and where") {
  struct Bad {
    const char* text;
    const char* error;
  };
  const Bad kBad[] = {
      {"tcp dport http", "11: \"http\" is not a port or range 0..65535 (e.g. 1024-65535)"},
      {"tcp dport 70000", "11: \"70000\" is not a port or range 0..65535 (e.g. 1024-65535)"},
      {"tcp dport 90-80", "11: \"90-80\" is not a port or range 0..65535 (e.g. 1024-65535)"},
      {"tcp dport", "5: \"dport\" must be followed by a port or port range"},
      {"dport 80", "1: sport/dport need a protocol with ports first (tcp, udp, udplite, sctp, dccp)"},
      {"icmp dport 80", "1: sport/dport need a protocol with ports first (tcp, udp, udplite, sctp, dccp)"},
      {"udp flags S", "1: flags need \"tcp\" first"},
      {"tcp udp", "5: the protocol is given twice"},
      {"tcp flags SX", "12: unknown TCP flag 'X' (expected S A F R P U E C, or none)"},
      {"tcp flags SA/S", "11: \"SA/S\": the flags before '/' must be among those after it"},
      {"saddr 10.0.0.0/33", "7: \"10.0.0.0/33\" is not an address or prefix (e.g. 10.0.0.0/8)"},
      {"saddr 10.0.0", "7: \"10.0.0\" is not an address or prefix (e.g. 10.0.0.0/8)"},
      {"daddr 2001:db8::/129", "7: \"2001:db8::/129\" is not an address or prefix (e.g. 10.0.0.0/8)"},
      {"ip saddr 2001:db8::/32", "1: saddr is an IPv6 address but the rule matches IPv4 packets"},
      {"saddr 10.0.0.1 daddr ::1", "1: saddr and daddr are of different address families"},
      {"ip6 icmp", "5: \"icmp\" contradicts the address family given before"},
      {"ip ip6", "4: \"ip6\" contradicts the address family given before"},
      {"ct stat new", "1: \"ct\" must be followed by \"state\""},
      {"ct state", "4: \"ct state\" needs a state list"},
      {"ct state new,estabished",
       "14: unknown ct state \"estabished\" (expected new, established, related, invalid or untracked)"},
      {"proto 300", "7: \"300\" is not a protocol number 0..255"},
      {"tcp port 80",
       "5: unknown selector \"port\" (expected a protocol, ip, ip6, saddr, daddr, sport, dport, \"ct state\" or "
       "flags)"},
  };
  for (const Bad& b : kBad) {
    CAPTURE(b.text);
    CHECK(error_of(b.text) == b.error);
  }
}
