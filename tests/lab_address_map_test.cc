// The lab's address bijection (sim/verify/lab_address_map.h): scenario
// addresses land in 198.18.0.0/15 and 2001:db8::/32, prefixes and ranges
// stay prefixes and ranges of the same size, nothing collides, and text is
// mapped back word by word.
#include <doctest/doctest.h>

#include <set>

#include "sim/scenario/packet_notation.h"
#include "sim/verify/lab_address_map.h"

using ctsim::verify::AddressBlock;
using ctsim::verify::LabAddressMap;

namespace {

ctcore::nf_inet_addr addr(const char* text, uint16_t* l3 = nullptr) {
  ctcore::nf_inet_addr a;
  uint16_t fam = 0;
  REQUIRE(ctsim::parse_address(text, &a, &fam));
  if (l3) *l3 = fam;
  return a;
}

std::string lab_of(const LabAddressMap& m, const char* text) {
  uint16_t l3 = 0;
  const ctcore::nf_inet_addr a = addr(text, &l3);
  return ctsim::format_address(l3, m.to_lab(l3, a));
}

bool in_lab_v4(const std::string& s) { return s.rfind("198.18.", 0) == 0 || s.rfind("198.19.", 0) == 0; }

}  // namespace

TEST_CASE("every scenario address maps into the lab range, distinct ones apart, and back") {
  LabAddressMap m;
  const char* v4[] = {"192.168.1.2", "10.0.0.2", "192.168.0.2", "10.0.0.3", "198.18.0.1", "8.8.8.8"};
  for (const char* a : v4) m.add(ctcore::NFPROTO_IPV4, addr(a));
  m.add(ctcore::NFPROTO_IPV6, addr("fd00::1"));
  m.add(ctcore::NFPROTO_IPV6, addr("2001:db8::1"));
  REQUIRE(m.build().ok());
  std::set<std::string> seen;
  for (const char* a : v4) {
    const std::string lab = lab_of(m, a);
    CHECK(in_lab_v4(lab));
    CHECK(lab.rfind("198.19.255.", 0) != 0);  // the lab's own plumbing
    CHECK(seen.insert(lab).second);
    uint16_t l3 = 0;
    const ctcore::nf_inet_addr back = m.from_lab(ctcore::NFPROTO_IPV4, addr(lab.c_str(), &l3));
    CHECK(ctsim::format_address(l3, back) == a);
  }
  // 192.168.1.2 and 192.168.0.2 share their low 17 bits: a map that kept
  // low bits alone would send both to one lab address.
  CHECK(lab_of(m, "192.168.1.2") != lab_of(m, "192.168.0.2"));
  const std::string v6 = lab_of(m, "fd00::1");
  CHECK(v6.rfind("2001:db8:", 0) == 0);
  CHECK(v6 != lab_of(m, "2001:db8::1"));
}

TEST_CASE("a prefix keeps its size and alignment; a rule prefix maps to the blocks it holds") {
  LabAddressMap m;
  m.add_prefix(ctcore::NFPROTO_IPV4, addr("10.244.0.0"), 16);  // a flow's source range
  m.add(ctcore::NFPROTO_IPV4, addr("10.244.3.7"));            // inside it: no block of its own
  m.add(ctcore::NFPROTO_IPV4, addr("172.16.0.1"));
  m.add(ctcore::NFPROTO_IPV4, addr("172.16.9.1"));
  REQUIRE(m.build().ok());
  CHECK(m.windows().size() == 3);
  const std::vector<AddressBlock> inside = m.prefix_to_lab(ctcore::NFPROTO_IPV4, addr("10.244.3.0"), 24);
  REQUIRE(inside.size() == 1);
  CHECK(inside[0].len == 24);
  CHECK(ctsim::verify::format_block(inside[0]) == lab_of(m, "10.244.3.0") + "/24");
  // 172.16.0.0/12 holds two single addresses: two lab blocks, not one /12.
  const std::vector<AddressBlock> wide = m.prefix_to_lab(ctcore::NFPROTO_IPV4, addr("172.16.0.0"), 12);
  CHECK(wide.size() == 2);
  CHECK(m.prefix_to_lab(ctcore::NFPROTO_IPV4, addr("203.0.113.0"), 24).empty());
  // Order inside a block is kept: a range stays a range.
  CHECK(lab_of(m, "10.244.0.0").substr(lab_of(m, "10.244.0.0").rfind('.')) == ".0");
}

TEST_CASE("too many addresses for the lab range is an error that says how many") {
  LabAddressMap m;
  m.add_prefix(ctcore::NFPROTO_IPV4, addr("10.0.0.0"), 15);
  m.add_prefix(ctcore::NFPROTO_IPV4, addr("11.0.0.0"), 16);
  const ctsim::Status st = m.build();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("IPv4") != std::string::npos);
  CHECK(st.message().find("198.18.0.0/15") != std::string::npos);
}

TEST_CASE("text_from_lab maps addresses in conntrack's lines and leaves other numbers alone") {
  LabAddressMap m;
  m.add(ctcore::NFPROTO_IPV4, addr("192.168.1.2"));
  m.add(ctcore::NFPROTO_IPV4, addr("10.0.0.2"));
  m.add(ctcore::NFPROTO_IPV6, addr("fd00::5"));
  REQUIRE(m.build().ok());
  const std::string a = lab_of(m, "192.168.1.2"), b = lab_of(m, "10.0.0.2"), c = lab_of(m, "fd00::5");
  const std::string line = "[1796606051.625500]\t    [NEW] tcp      6 120 SYN_SENT src=" + a + " dst=" + b +
                           " sport=47562 dport=80 [UNREPLIED] src=" + b + " dst=" + a + " sport=80 dport=47562";
  CHECK(m.text_from_lab(line) ==
        "[1796606051.625500]\t    [NEW] tcp      6 120 SYN_SENT src=192.168.1.2 dst=10.0.0.2 sport=47562 dport=80 "
        "[UNREPLIED] src=10.0.0.2 dst=192.168.1.2 sport=80 dport=47562");
  CHECK(m.text_from_lab("tcp " + a + ":40000 > [" + c + "]:53") == "tcp 192.168.1.2:40000 > [fd00::5]:53");
  CHECK(m.text_from_lab("time 0.010000000s use=1 198.19.255.1") == "time 0.010000000s use=1 198.19.255.1");
}
