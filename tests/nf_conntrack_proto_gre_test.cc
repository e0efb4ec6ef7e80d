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
  // Call id 0 both ways: the only PPTP call whose directions match without
  // the helper's keymap (see the tuple tests below).
  World w;
  EventLog log;
  w.init.event_cb = &log;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(gre(true, 0), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(secs_left(w, ct) == 30);
  CHECK(ct->proto.gre.timeout == 30 * w.ct.hz());
  CHECK(ct->proto.gre.stream_timeout == 180 * w.ct.hz());

  nf_conn* got = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(gre(false, 0), nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == ct);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  // SEEN_REPLY is set after the tracker ran: the reply itself gets 30 s.
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(secs_left(w, ct) == 30);

  REQUIRE(w.forward(gre(true, 0)) == NF_ACCEPT);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(log.saw(IPCT_ASSURED));
  CHECK(secs_left(w, ct) == 180);

  w.advance_seconds(179);
  CHECK(find(w, gre(true, 0)) == ct);
  w.advance_seconds(2);
  CHECK(find(w, gre(true, 0)) == nullptr);
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
  REQUIRE(w.forward(gre(true, 0), nullptr, 0, &fresh) == NF_ACCEPT);
  REQUIRE(fresh != ct);
  CHECK(secs_left(w, fresh) == 5);
  REQUIRE(w.forward(gre(false, 0)) == NF_ACCEPT);
  REQUIRE(w.forward(gre(true, 0)) == NF_ACCEPT);
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

TEST_CASE("GRE tuple as v5.10 without the PPTP helper: dst key = the call id, src key 0") {
  // gre_pkt_to_tuple(): the call id is the destination key and the source
  // key comes from the PPTP helper's keymap, which ctsim does not have (0).
  // So a call whose packets carry a non-zero call id gets one conn per
  // direction, as the live 6.18 kernel showed (ctsim verify of
  // scenarios/protocols/gre.json: srckey=0x0 dstkey=0x7, then a second NEW).
  World w;
  nf_conn* a = nullptr;
  REQUIRE(w.forward(gre(true, 7), nullptr, 0, &a) == NF_ACCEPT);
  REQUIRE(a != nullptr);
  const nf_conntrack_tuple& orig = a->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
  const nf_conntrack_tuple& reply = a->tuplehash[IP_CT_DIR_REPLY].tuple;
  CHECK(orig.src.u_all == 0);
  CHECK(orig.dst.u_all == raw_be16(7));
  CHECK(reply.src.u_all == raw_be16(7));  // the inverse: keys swap halves
  CHECK(reply.dst.u_all == 0);

  nf_conn* b = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(gre(false, 7), nullptr, 0, &b, &info) == NF_ACCEPT);
  CHECK(b != a);  // not the reply of a: its tuple has src key 0, dst key 7
  CHECK(info == IP_CT_NEW);
  CHECK(w.init.count == 2);
  CHECK_FALSE(a->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK(w.invariants() == "");
}

TEST_CASE("GRE tuple: call id 0 (and plain GRE, decoded as key 0) is one conn per address pair, replied") {
  World w;
  nf_conn* a = nullptr;
  REQUIRE(w.forward(gre(true, 0), nullptr, 0, &a) == NF_ACCEPT);
  nf_conn* got = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;
  REQUIRE(w.forward(gre(false, 0), nullptr, 0, &got, &info) == NF_ACCEPT);
  CHECK(got == a);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  CHECK(a->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK(w.init.count == 1);
}
