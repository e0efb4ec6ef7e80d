// ICMP and ICMPv6 tracking (v5.10): query/reply pairs keyed by id with a
// 30 s timeout, only query types create conns, errors relate to the conn of
// the packet they quote without touching it, and ICMPv6 neighbour discovery
// and MLD stay untracked. Covers nf_conntrack_proto_icmp.cc,
// nf_conntrack_proto_icmpv6.cc and nf_conntrack_proto_icmp_error.cc.
#include <doctest/doctest.h>

#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kA = ipv4(192, 168, 1, 2), kB = ipv4(10, 0, 0, 2), kRouter = ipv4(10, 0, 0, 1);

nf_inet_addr ipv6(uint32_t last) {
  nf_inet_addr x;
  x.all[0] = 0xb80d0120;  // 2001:db8::/32 in memory order
  x.all[3] = last << 24;
  return x;
}

Packet icmpv6_packet(nf_inet_addr s, nf_inet_addr d, uint8_t type, uint16_t id) {
  Packet p;
  p.l3num = NFPROTO_IPV6;
  p.saddr = s;
  p.daddr = d;
  p.protonum = IPPROTO_ICMPV6_;
  p.icmp_type = type;
  p.icmp_id = id;
  return p;
}

// An ICMP(v6) error from `s` to `d` quoting a UDP packet qs:qsp -> qd:qdp.
Packet icmp_error(uint16_t l3, nf_inet_addr s, nf_inet_addr d, uint8_t type, uint8_t code, nf_inet_addr qs,
                  uint16_t qsp, nf_inet_addr qd, uint16_t qdp) {
  Packet p;
  p.l3num = l3;
  p.saddr = s;
  p.daddr = d;
  p.protonum = l3 == NFPROTO_IPV4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_;
  p.icmp_type = type;
  p.icmp_code = code;
  p.has_inner = true;
  p.inner.l3num = l3;
  p.inner.saddr = qs;
  p.inner.daddr = qd;
  p.inner.protonum = IPPROTO_UDP_;
  p.inner.sport = qsp;
  p.inner.dport = qdp;
  return p;
}

}  // namespace

TEST_CASE("nf_conntrack_icmp_packet: echo request and reply pair up by id") {
  World w;
  nf_conn* ct = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(icmp_packet(kA, kB, 8, 0, 42), nullptr, 0, &ct, &info) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(info == IP_CT_NEW);
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 30 * w.ct.hz());

  // A reply with another id is not this conn's reply (and cannot create one).
  nf_conn* other = nullptr;
  REQUIRE(w.forward(icmp_packet(kB, kA, 0, 0, 43), nullptr, 0, &other, &info) == NF_ACCEPT);
  CHECK(other == nullptr);
  CHECK_FALSE(ct->test_bit(IPS_SEEN_REPLY_BIT));

  w.advance_seconds(10);
  REQUIRE(w.forward(icmp_packet(kB, kA, 0, 0, 42), nullptr, 0, &other, &info) == NF_ACCEPT);
  CHECK(other == ct);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  CHECK(ct->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));                // ICMP never assures
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 30 * w.ct.hz());  // refreshed by the reply
  CHECK(w.init.count == 1);
}

TEST_CASE("nf_conntrack_icmp_packet: an unanswered echo expires after 30 s") {
  World w;
  Packet req = icmp_packet(kA, kB, 8, 0, 7);
  REQUIRE(w.forward(req) == NF_ACCEPT);
  w.advance_seconds(29);
  CHECK(find(w, req) != nullptr);
  w.advance_seconds(2);
  CHECK(find(w, req) == nullptr);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_icmp_packet: reply types cannot create a conn") {
  World w;
  for (uint8_t type : {0, 14, 16, 18}) {
    CAPTURE(type);
    nf_conn* ct = reinterpret_cast<nf_conn*>(1);
    CHECK(w.forward(icmp_packet(kA, kB, type, 0, 1), nullptr, 0, &ct) == NF_ACCEPT);
    CHECK(ct == nullptr);
  }
  CHECK(w.ct.stat(w.init, 0).invalid == 4);
  CHECK(w.ct.stat(w.init, 0).error == 0);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_icmpv4_error: bad type and bad checksum count as error") {
  World w;
  CHECK(w.forward(icmp_packet(kA, kB, 19, 0, 1)) == NF_ACCEPT);  // > NR_ICMP_TYPES
  CHECK(w.ct.stat(w.init, 0).error == 1);
  Packet bad = icmp_packet(kA, kB, 8, 0, 1);
  bad.bad_checksum = true;
  CHECK(w.forward(bad) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).error == 2);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_inet_error: port unreachable relates to the UDP flow") {
  World w;
  Packet q = udp_packet(kA, 5000, kB, 53);
  nf_conn* flow = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &flow) == NF_ACCEPT);
  const uint32_t timeout_before = flow->timeout;
  const uint16_t status_before = flow->status;
  w.advance_seconds(5);

  nf_conn* got = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  Packet err = icmp_error(NFPROTO_IPV4, kB, kA, 3, 3, kA, 5000, kB, 53);
  REQUIRE(w.forward(err, nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == flow);
  CHECK(info == IP_CT_RELATED_REPLY);
  CHECK(flow->timeout == timeout_before);  // not refreshed
  CHECK(flow->status == status_before);    // no SEEN_REPLY from an error
  CHECK(w.ct.stat(w.init, 0).error == 0);
  CHECK(w.init.count == 1);

  // An error about the server's reply (quoting B:53 -> A:5000), sent to B,
  // matches the ORIGINAL tuple once inverted: RELATED.
  Packet r = udp_packet(kB, 53, kA, 5000);
  REQUIRE(w.forward(r) == NF_ACCEPT);
  Packet err2 = icmp_error(NFPROTO_IPV4, kA, kB, 3, 3, kB, 53, kA, 5000);
  REQUIRE(w.forward(err2, nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == flow);
  CHECK(info == IP_CT_RELATED);
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_conntrack_inet_error: no matching flow counts error, creates nothing") {
  World w;
  nf_conn* got = reinterpret_cast<nf_conn*>(1);
  Packet err = icmp_error(NFPROTO_IPV4, kB, kA, 3, 3, kA, 5000, kB, 53);
  CHECK(w.forward(err, nullptr, 0, &got) == NF_ACCEPT);
  CHECK(got == nullptr);
  CHECK(w.ct.stat(w.init, 0).error == 1);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(w.init.count == 0);

  // A flow exists, but the error's outer destination is not the flow's
  // endpoint: refused too.
  REQUIRE(w.forward(udp_packet(kA, 5000, kB, 53)) == NF_ACCEPT);
  Packet bogus = icmp_error(NFPROTO_IPV4, kB, kRouter, 3, 3, kA, 5000, kB, 53);
  CHECK(w.forward(bogus, nullptr, 0, &got) == NF_ACCEPT);
  CHECK(got == nullptr);
  CHECK(w.ct.stat(w.init, 0).error == 2);
}

TEST_CASE("icmp_invert_type: every row of the ICMP inversion table") {
  // Pairs: ECHO/ECHOREPLY, TIMESTAMP/TIMESTAMPREPLY, INFO_REQUEST/INFO_REPLY,
  // ADDRESS/ADDRESSREPLY, both ways.
  const uint8_t pairs[][2] = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16}, {16, 15}, {17, 18}, {18, 17}};
  for (const auto& p : pairs) {
    uint8_t inv = 0xff;
    CAPTURE(p[0]);
    CHECK(icmp_invert_type(p[0], &inv));
    CHECK(inv == p[1]);
  }
  for (int t = 0; t < 256; ++t) {
    bool paired = false;
    for (const auto& p : pairs) paired = paired || p[0] == t;
    uint8_t inv = 0;
    CAPTURE(t);
    CHECK(icmp_invert_type(static_cast<uint8_t>(t), &inv) == paired);
  }
}

TEST_CASE("icmp query types: each request pairs with its reply") {
  World w;
  const uint8_t pairs[][2] = {{8, 0}, {13, 14}, {15, 16}, {17, 18}};
  uint16_t id = 100;
  for (const auto& p : pairs) {
    CAPTURE(p[0]);
    nf_conn* ct = nullptr;
    nf_conn* got = nullptr;
    ip_conntrack_info info = IP_CT_NUMBER;
    REQUIRE(w.forward(icmp_packet(kA, kB, p[0], 0, id), nullptr, 0, &ct) == NF_ACCEPT);
    REQUIRE(ct != nullptr);
    REQUIRE(w.forward(icmp_packet(kB, kA, p[1], 0, id), nullptr, 0, &got, &info) == NF_ACCEPT);
    CHECK(got == ct);
    CHECK(info == IP_CT_ESTABLISHED_REPLY);
    ++id;
  }
  CHECK(w.init.count == 4);
}

TEST_CASE("icmpv6_invert_type: every row of the ICMPv6 inversion table") {
  const uint8_t pairs[][2] = {{128, 129}, {129, 128}, {139, 140}, {140, 139}};
  for (const auto& p : pairs) {
    uint8_t inv = 0;
    CAPTURE(p[0]);
    CHECK(icmpv6_invert_type(p[0], &inv));
    CHECK(inv == p[1]);
  }
  for (int t = 0; t < 256; ++t) {
    bool paired = false;
    for (const auto& p : pairs) paired = paired || p[0] == t;
    uint8_t inv = 0;
    CAPTURE(t);
    CHECK(icmpv6_invert_type(static_cast<uint8_t>(t), &inv) == paired);
  }
}

TEST_CASE("nf_conntrack_icmpv6_packet: echo and node-information queries") {
  World w;
  const nf_inet_addr a = ipv6(1), b = ipv6(2);
  const uint8_t pairs[][2] = {{128, 129}, {139, 140}};
  for (const auto& p : pairs) {
    CAPTURE(p[0]);
    nf_conn* ct = nullptr;
    nf_conn* got = nullptr;
    ip_conntrack_info info = IP_CT_NUMBER;
    REQUIRE(w.forward(icmpv6_packet(a, b, p[0], 9), nullptr, 0, &ct) == NF_ACCEPT);
    REQUIRE(ct != nullptr);
    CHECK(nf_ct_expires(ct, w.ct.now32()) == 30 * w.ct.hz());
    REQUIRE(w.forward(icmpv6_packet(b, a, p[1], 9), nullptr, 0, &got, &info) == NF_ACCEPT);
    CHECK(got == ct);
    CHECK(info == IP_CT_ESTABLISHED_REPLY);
  }
  // A reply alone creates nothing.
  nf_conn* none = reinterpret_cast<nf_conn*>(1);
  CHECK(w.forward(icmpv6_packet(a, b, 129, 77), nullptr, 0, &none) == NF_ACCEPT);
  CHECK(none == nullptr);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(w.init.count == 2);
}

TEST_CASE("nf_conntrack_icmpv6_error: neighbour discovery and MLD are untracked") {
  World w;
  const nf_inet_addr a = ipv6(1), b = ipv6(2);
  for (uint8_t type : {130, 131, 132, 133, 134, 135, 136, 143}) {
    CAPTURE(type);
    Packet p = icmpv6_packet(a, b, type, 0);
    CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(p.ct == nullptr);
    CHECK(p.untracked);
    CHECK(p.ctinfo == IP_CT_UNTRACKED);
  }
  // 137 (redirect) is not in the list: tracked like any non-query, i.e. invalid.
  Packet redirect = icmpv6_packet(a, b, 137, 0);
  CHECK(w.forward(redirect) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(w.ct.stat(w.init, 0).error == 0);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_icmpv6_error: destination unreachable relates to a UDP flow") {
  World w;
  const nf_inet_addr a = ipv6(1), b = ipv6(2);
  Packet q = udp_packet(a, 5000, b, 53);
  q.l3num = NFPROTO_IPV6;
  nf_conn* flow = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &flow) == NF_ACCEPT);
  const uint32_t timeout_before = flow->timeout;
  w.advance_seconds(3);
  nf_conn* got = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  Packet err = icmp_error(NFPROTO_IPV6, b, a, 1, 4, a, 5000, b, 53);
  REQUIRE(w.forward(err, nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == flow);
  CHECK(info == IP_CT_RELATED_REPLY);
  CHECK(flow->timeout == timeout_before);
  // Without a flow: error.
  Packet stray = icmp_error(NFPROTO_IPV6, b, a, 1, 4, a, 5001, b, 53);
  CHECK(w.forward(stray, nullptr, 0, &got) == NF_ACCEPT);
  CHECK(got == nullptr);
  CHECK(w.ct.stat(w.init, 0).error == 1);
}
