// GRE tracking (v5.10 nf_conntrack_gre_packet): 30 s until both directions
// were seen, then 180 s and ASSURED; the two timeouts are copied into the
// conn when it is created; IPv4 only.
#include <doctest/doctest.h>

#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kA = ipv4(192, 168, 1, 2), kB = ipv4(10, 0, 0, 2);

Packet gre(bool from_a, uint16_t key) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.protonum = IPPROTO_GRE_;
  p.saddr = from_a ? kA : kB;
  p.daddr = from_a ? kB : kA;
  p.gre_key = key;
  return p;
}

}  // namespace

TEST_CASE("nf_conntrack_gre_packet: unreplied 30 s, then ASSURED and 180 s") {
  World w;
  EventLog log;
  w.init.event_cb = &log;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(gre(true, 5), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(secs_left(w, ct) == 30);
  CHECK(ct->proto.gre.timeout == 30 * w.ct.hz());
  CHECK(ct->proto.gre.stream_timeout == 180 * w.ct.hz());

  nf_conn* got = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(gre(false, 5), nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == ct);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  // SEEN_REPLY is set after the tracker ran: the reply itself gets 30 s.
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(secs_left(w, ct) == 30);

  REQUIRE(w.forward(gre(true, 5)) == NF_ACCEPT);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(log.saw(IPCT_ASSURED));
  CHECK(secs_left(w, ct) == 180);

  w.advance_seconds(179);
  CHECK(find(w, gre(true, 5)) == ct);
  w.advance_seconds(2);
  CHECK(find(w, gre(true, 5)) == nullptr);
}

TEST_CASE("nf_conntrack_gre_packet: an unreplied tunnel expires after 30 s") {
  World w;
  REQUIRE(w.forward(gre(true, 9)) == NF_ACCEPT);
  w.advance_seconds(29);
  CHECK(find(w, gre(true, 9)) != nullptr);
  w.advance_seconds(2);
  CHECK(find(w, gre(true, 9)) == nullptr);
}

TEST_CASE("nf_conntrack_gre_packet: timeouts are fixed when the conn is created") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(gre(true, 1), nullptr, 0, &ct) == NF_ACCEPT);
  // Changing the sysctls later affects new conns only (the kernel copies
  // them into ct->proto.gre for the PPTP helper to adjust).
  w.init.sysctl.gre.timeout_unreplied = 5 * w.ct.hz();
  w.init.sysctl.gre.timeout_replied = 50 * w.ct.hz();
  REQUIRE(w.forward(gre(true, 1)) == NF_ACCEPT);
  CHECK(secs_left(w, ct) == 30);
  nf_conn* fresh = nullptr;
  REQUIRE(w.forward(gre(true, 2), nullptr, 0, &fresh) == NF_ACCEPT);
  REQUIRE(fresh != ct);
  CHECK(secs_left(w, fresh) == 5);
  REQUIRE(w.forward(gre(false, 2)) == NF_ACCEPT);
  REQUIRE(w.forward(gre(true, 2)) == NF_ACCEPT);
  CHECK(secs_left(w, fresh) == 50);
}

TEST_CASE("nf_conntrack_gre_packet: IPv6 GRE is not tracked") {
  World w;
  Packet p = gre(true, 3);
  p.l3num = NFPROTO_IPV6;
  nf_conn* ct = reinterpret_cast<nf_conn*>(1);
  CHECK(w.forward(p, nullptr, 0, &ct) == NF_ACCEPT);
  CHECK(ct == nullptr);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(w.init.count == 0);
}

TEST_CASE("GRE tuple in ctsim: the key identifies the tunnel both ways") {
  // ctsim keys both tuple halves by the packet's key, so the reply must
  // carry the same key and another key is another conn. v5.10 differs:
  // GREv0 tuples have no key at all (one conn per address pair) and PPTP
  // (GREv1) keys need the helper's keymap (core/PROTO_NOTES.md).
  World w;
  nf_conn* a = nullptr;
  nf_conn* b = nullptr;
  REQUIRE(w.forward(gre(true, 100), nullptr, 0, &a) == NF_ACCEPT);
  REQUIRE(w.forward(gre(true, 200), nullptr, 0, &b) == NF_ACCEPT);
  CHECK(a != b);
  CHECK(w.init.count == 2);
  nf_conn* got = nullptr;
  REQUIRE(w.forward(gre(false, 200), nullptr, 0, &got) == NF_ACCEPT);
  CHECK(got == b);
  CHECK(b->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK_FALSE(a->test_bit(IPS_SEEN_REPLY_BIT));
}
