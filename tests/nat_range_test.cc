// The NAT target notation of rules (sim/scenario/nat_range.h): what parses,
// into which range and flags, and how it prints back.
#include <doctest/doctest.h>

#include "sim/scenario/nat_range.h"
#include "sim/scenario/packet_notation.h"

using ctsim::format_nat_range;
using ctsim::parse_nat_range;

TEST_CASE("parse_nat_range: addresses, ranges and ports, printed back the same") {
  for (const char* text : {"10.1.0.1", "10.1.0.1:53", "192.0.2.1-192.0.2.4:1024-65535", "192.0.2.1-192.0.2.4",
                           "[2001:db8::1]:443", "[2001:db8::1-2001:db8::4]:1000-2000", "2001:db8::1-2001:db8::9"}) {
    CAPTURE(text);
    auto r = parse_nat_range(text, false);
    REQUIRE(r.ok());
    CHECK(format_nat_range(*r) == text);
    CHECK((r->flags & ctcore::NF_NAT_RANGE_MAP_IPS) != 0);
  }
  auto r = parse_nat_range("192.0.2.1-192.0.2.4:1024-2047", false);
  REQUIRE(r.ok());
  CHECK(r->l3num == ctcore::NFPROTO_IPV4);
  CHECK(ctsim::format_address(r->l3num, r->min_addr) == "192.0.2.1");
  CHECK(ctsim::format_address(r->l3num, r->max_addr) == "192.0.2.4");
  CHECK(r->min_proto == 1024);
  CHECK(r->max_proto == 2047);
  CHECK(r->flags == (ctcore::NF_NAT_RANGE_MAP_IPS | ctcore::NF_NAT_RANGE_PROTO_SPECIFIED));
  // Without ports: the address only (the port class rule applies).
  auto a = parse_nat_range("10.1.0.1", false);
  REQUIRE(a.ok());
  CHECK(a->flags == ctcore::NF_NAT_RANGE_MAP_IPS);
}

TEST_CASE("parse_nat_range: masquerade takes ports only") {
  auto r = parse_nat_range(":1024-2047", true);
  REQUIRE(r.ok());
  CHECK(r->flags == ctcore::NF_NAT_RANGE_PROTO_SPECIFIED);
  CHECK(format_nat_range(*r) == ":1024-2047");
  CHECK_FALSE(parse_nat_range("10.0.0.1:80", true).ok());
  CHECK_FALSE(parse_nat_range(":80", false).ok());
}

TEST_CASE("parse_nat_range: what is refused, and why") {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"10.0.0.0/8", "not a prefix"},
      {"10.0.0.9-10.0.0.1", "first address is above its last"},
      {"10.0.0.1-2001:db8::1", "of one family"},
      {"10.0.0.1:0", "ports start at 1"},
      {"10.0.0.1:70000", "port"},
      {"[2001:db8::1:80", "missing ']'"},
      {"nonsense", "not an IPv4 or IPv6 address"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto r = parse_nat_range(c.text, false);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().what.find(c.message) != std::string::npos);
  }
}

TEST_CASE("NAT flags print after the range, in nft's words") {
  auto r = parse_nat_range("192.0.2.1", false);
  REQUIRE(r.ok());
  r->flags |= ctcore::NF_NAT_RANGE_PROTO_RANDOM_FULLY | ctcore::NF_NAT_RANGE_PERSISTENT;
  CHECK(format_nat_range(*r) == "192.0.2.1 fully-random persistent");
  CHECK(ctsim::nat_flag_from_word("random") == ctcore::NF_NAT_RANGE_PROTO_RANDOM);
  CHECK_FALSE(ctsim::nat_flag_from_word("random-fully").has_value());
}
