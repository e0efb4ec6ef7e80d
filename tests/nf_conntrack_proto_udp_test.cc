// UDP tracking as v5.10.19 does it: 30 s until a reply, then ASSURED on the
// first packet after the reply and the 120 s stream timeout once the flow
// is older than two seconds; bad checksums are invalid only at PRE_ROUTING
// with nf_conntrack_checksum=1.
#include <doctest/doctest.h>

#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kClient = ipv4(192, 168, 1, 2), kServer = ipv4(10, 0, 0, 53);

// Records every event mask delivered, per conn id.
// The confirmed conn `p` belongs to, or null; reaps an expired one as the
// kernel's lookup does. Holds no reference on return.

}  // namespace

TEST_CASE("nf_conntrack_udp_packet: an unreplied flow expires after 30 s") {
  World w;
  Packet q = udp_packet(kClient, 40000, kServer, 53);
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 30 * w.ct.hz());
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  w.advance_seconds(29);
  CHECK(find(w, q) != nullptr);
  w.advance_seconds(2);
  CHECK(find(w, q) == nullptr);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_udp_packet: DNS-style request/response") {
  World w;
  EventLog log;
  w.init.event_cb = &log;
  Packet q = udp_packet(kClient, 40000, kServer, 53);
  Packet r = udp_packet(kServer, 53, kClient, 40000);
  nf_conn* ct = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(q, nullptr, 0, &ct, &info) == NF_ACCEPT);
  CHECK(info == IP_CT_NEW);
  CHECK(log.saw(IPCT_NEW));
  REQUIRE(w.forward(r, nullptr, 0, nullptr, &info) == NF_ACCEPT);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  CHECK(ct->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK(log.saw(IPCT_REPLY));
  // The reply itself does not assure: SEEN_REPLY is set after the tracker ran.
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(secs_left(w, ct) == 30);
  // One exchange and silence: gone 30 s after the reply.
  w.advance_seconds(31);
  CHECK(find(w, q) == nullptr);
}

TEST_CASE(
    "nf_conntrack_udp_packet: ASSURED on the first packet after the reply, "
    "stream timeout 120 s after two seconds") {
  World w;
  EventLog log;
  w.init.event_cb = &log;
  Packet q = udp_packet(kClient, 5000, kServer, 5001);
  Packet r = udp_packet(kServer, 5001, kClient, 5000);
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(r) == NF_ACCEPT);
  CHECK_FALSE(log.saw(IPCT_ASSURED));

  // Third packet inside the 2 s window: ASSURED (v5.10.19), still 30 s.
  REQUIRE(w.forward(q) == NF_ACCEPT);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(log.saw(IPCT_ASSURED));
  CHECK(secs_left(w, ct) == 30);

  // After two seconds the flow is a stream: 120 s.
  w.advance_seconds(3);
  REQUIRE(w.forward(r) == NF_ACCEPT);
  CHECK(secs_left(w, ct) == 120);
  w.advance_seconds(119);
  CHECK(find(w, q) == ct);
  w.advance_seconds(2);
  CHECK(find(w, q) == nullptr);
}

TEST_CASE("nf_conntrack_udp_packet: a NAT_CLASH entry is refreshed but never ASSURED") {
  // Clash resolution leaves reply-only entries marked IPS_NAT_CLASH; v5.10
  // keeps them short-lived by never assuring them.
  World w;
  Packet q = udp_packet(kClient, 8000, kServer, 53);
  Packet r = udp_packet(kServer, 53, kClient, 8000);
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(r) == NF_ACCEPT);
  ct->set_bit(IPS_NAT_CLASH_BIT);
  w.advance_seconds(3);
  REQUIRE(w.forward(q) == NF_ACCEPT);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(secs_left(w, ct) == 120);
}

namespace {

// LOCAL_OUT runs no checksum check: the packet makes a conn, confirmed,
// and nothing counts invalid.
void check_tracked_at_local_out(World& w, Packet p) {
  CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_LOCAL_OUT) == NF_ACCEPT);
  CHECK(p.ct != nullptr);
  CHECK(w.ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
  w.ct.nf_reset_ct(p);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(w.init.count == 1);
}

}  // namespace

TEST_CASE("udp_error: bad checksum is invalid only at PRE_ROUTING with checksum=1") {
  World w;
  Packet bad = udp_packet(kClient, 6000, kServer, 53);
  bad.bad_checksum = true;

  SUBCASE("PRE_ROUTING, nf_conntrack_checksum=1: invalid, no conn") {
    CHECK(w.forward(bad) == NF_ACCEPT);  // -NF_ACCEPT: passes untracked
    CHECK(w.ct.stat(w.init, 0).invalid == 1);
    CHECK(w.init.count == 0);
  }
  SUBCASE("PRE_ROUTING, nf_conntrack_checksum=0: tracked") {
    w.init.sysctl.checksum = 0;
    CHECK(w.forward(bad) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).invalid == 0);
    CHECK(w.init.count == 1);
  }
  SUBCASE("LOCAL_OUT, nf_conntrack_checksum=1: tracked") {
    check_tracked_at_local_out(w, bad);
  }
  SUBCASE("an existing flow: a bad packet neither refreshes nor assures it") {
    Packet q = udp_packet(kClient, 6000, kServer, 53);
    Packet r = udp_packet(kServer, 53, kClient, 6000);
    nf_conn* ct = nullptr;
    REQUIRE(w.forward(q, nullptr, 0, &ct) == NF_ACCEPT);
    REQUIRE(w.forward(r) == NF_ACCEPT);
    w.advance_seconds(10);
    CHECK(w.forward(bad) == NF_ACCEPT);
    CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
    CHECK(secs_left(w, ct) == 20);  // still 30 s from the reply
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_conntrack_udplite_packet: stream timeout right after the reply (no stream_ts)") {
  // v5.10's two-second stream rule is UDP's alone; UDP-Lite moves to 120 s
  // and ASSURED on the first packet after the reply.
  World w;
  Packet q = udp_packet(kClient, 7000, kServer, 7001);
  q.protonum = IPPROTO_UDPLITE_;
  q.udplite_csum17 = true;  // the checksum conntrack accepts (next test)
  Packet r = udp_packet(kServer, 7001, kClient, 7000);
  r.protonum = IPPROTO_UDPLITE_;
  r.udplite_csum17 = true;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(q, nullptr, 0, &ct) == NF_ACCEPT);
  CHECK(secs_left(w, ct) == 30);
  REQUIRE(w.forward(r) == NF_ACCEPT);
  CHECK(secs_left(w, ct) == 30);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  REQUIRE(w.forward(q) == NF_ACCEPT);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(secs_left(w, ct) == 120);
  Packet bad = q;
  bad.bad_checksum = true;
  CHECK(w.forward(bad) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
}

TEST_CASE("udplite_error: the checksum is verified with IPPROTO_UDP, so an RFC 3828 one is a bad checksum") {
  // udplite_error() calls nf_checksum_partial(..., IPPROTO_UDP, ...) in
  // v5.10 and 6.18 alike: the RFC's pseudo-header protocol (136) fails it
  // at PRE_ROUTING with nf_conntrack_checksum on. Found by ctsim verify on
  // the live 6.18 kernel (invalid=3 for three RFC-checksummed packets).
  World w;
  Packet rfc = udp_packet(kClient, 7000, kServer, 7001);
  rfc.protonum = IPPROTO_UDPLITE_;
  Packet k17 = rfc;
  k17.udplite_csum17 = true;

  SUBCASE("PRE_ROUTING, nf_conntrack_checksum=1: the RFC checksum is invalid, 17 makes a conn") {
    nf_conn* ct = reinterpret_cast<nf_conn*>(1);
    CHECK(w.forward(rfc, nullptr, 0, &ct) == NF_ACCEPT);
    CHECK(ct == nullptr);
    CHECK(w.ct.stat(w.init, 0).invalid == 1);
    CHECK(w.init.count == 0);
    CHECK(w.forward(k17) == NF_ACCEPT);
    CHECK(w.init.count == 1);
    CHECK(w.ct.stat(w.init, 0).invalid == 1);
  }
  SUBCASE("a csum17 packet with a wrong checksum is still bad") {
    Packet bad = k17;
    bad.bad_checksum = true;
    CHECK(w.forward(bad) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).invalid == 1);
    CHECK(w.init.count == 0);
  }
  SUBCASE("nf_conntrack_checksum=0: the RFC checksum is tracked") {
    w.init.sysctl.checksum = 0;
    CHECK(w.forward(rfc) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).invalid == 0);
    CHECK(w.init.count == 1);
  }
  SUBCASE("LOCAL_OUT: no checksum check, the RFC checksum is tracked") {
    check_tracked_at_local_out(w, rfc);
  }
  SUBCASE("plain UDP has no such flag: its good checksum passes") {
    Packet u = udp_packet(kClient, 7000, kServer, 7001);
    CHECK(w.forward(u) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).invalid == 0);
  }
  CHECK(w.invariants() == "");
}
