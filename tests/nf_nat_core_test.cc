// NAT bindings: the REPLY tuple rewritten once, null bindings, packets
// rewritten from the tuples, unique source ports, and the confirm clash of
// two DNAT'ed conns of one flow (the DNS A/AAAA race behind a service IP).
#include <doctest/doctest.h>

#include "core/nf_nat_core.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kClient = ipv4(10, 0, 0, 1);
const nf_inet_addr kVip = ipv4(10, 96, 0, 10);
const nf_inet_addr kBackend1 = ipv4(10, 1, 0, 1);
const nf_inet_addr kBackend2 = ipv4(10, 1, 0, 2);

nf_nat_range to(nf_inet_addr a, uint16_t port) {
  nf_nat_range r;
  r.addr = a;
  r.has_port = true;
  r.port_lo = r.port_hi = port;
  return r;
}

// conntrack-in, then the DNAT decision at PRE_ROUTING and the rewrite.
void in_with_dnat(World& w, Packet& p, uint16_t cpu, const nf_nat_range* range) {
  REQUIRE(w.ct.nf_conntrack_in(w.init, cpu, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(p.ct != nullptr);
  if (!nf_nat_initialized(p.ct, NF_NAT_MANIP_DST)) nf_nat_setup_info(w.ct, p.ct, range, NF_NAT_MANIP_DST);
  nf_nat_packet(p.ct, CTINFO2DIR(p.ctinfo), NF_NAT_MANIP_DST, p);
}

}  // namespace

TEST_CASE("nf_nat_setup_info: DNAT rewrites the reply tuple and the packet") {
  World w;
  Packet q = udp_packet(kClient, 5000, kVip, 53);
  const nf_nat_range r = to(kBackend1, 53);
  in_with_dnat(w, q, 0, &r);
  nf_conn* ct = q.ct;
  CHECK(ct->test_bit(IPS_DST_NAT_BIT));
  CHECK(ct->test_bit(IPS_DST_NAT_DONE_BIT));
  CHECK_FALSE(ct->test_bit(IPS_SRC_NAT_DONE_BIT));
  // The query now goes to the backend...
  CHECK(q.daddr == kBackend1);
  // ...and the conn expects the backend to answer.
  const nf_conntrack_tuple& reply = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
  CHECK(reply.src.u3 == kBackend1);
  CHECK(reply.dst.u3 == kClient);
  CHECK(reply.dport() == 5000);
  REQUIRE(w.ct.nf_conntrack_confirm(0, q) == NF_ACCEPT);
  w.ct.nf_reset_ct(q);
  CHECK(w.invariants() == "");

  // The backend's answer matches the reply direction; at POST_ROUTING its
  // source becomes the service address again.
  Packet a = udp_packet(kBackend1, 53, kClient, 5000);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  CHECK(a.ct == ct);
  CHECK(a.ctinfo == IP_CT_ESTABLISHED_REPLY);
  nf_nat_packet(a.ct, CTINFO2DIR(a.ctinfo), NF_NAT_MANIP_DST, a);
  CHECK(a.saddr == kBackend1);  // nothing to do before routing
  nf_nat_packet(a.ct, CTINFO2DIR(a.ctinfo), NF_NAT_MANIP_SRC, a);
  CHECK(a.saddr == kVip);
  CHECK(a.sport == 53);
  w.ct.nf_reset_ct(a);
}

TEST_CASE("a null binding decides the conn: a NAT rule added later never applies") {
  World w;
  Packet q = udp_packet(kClient, 5000, kVip, 53);
  in_with_dnat(w, q, 0, nullptr);  // no rule matched: null binding
  nf_conn* ct = q.ct;
  CHECK(ct->test_bit(IPS_DST_NAT_DONE_BIT));
  CHECK_FALSE(ct->test_bit(IPS_DST_NAT_BIT));
  CHECK(q.daddr == kVip);
  w.ct.nf_conntrack_confirm(0, q);
  w.ct.nf_reset_ct(q);
  // The next packet of the flow finds the conn: its binding is decided and
  // stays null, so the packet keeps going to the service address.
  Packet q2 = udp_packet(kClient, 5000, kVip, 53);
  const nf_nat_range r = to(kBackend1, 53);
  in_with_dnat(w, q2, 0, &r);
  CHECK(q2.ct == ct);
  CHECK(q2.daddr == kVip);
  CHECK(ct->tuplehash[IP_CT_DIR_REPLY].tuple.src.u3 == kVip);
  w.ct.nf_reset_ct(q2);
}

TEST_CASE("SNAT picks the first free port when the mapped tuple is taken (found counts it)") {
  World w;
  nf_nat_range r;
  r.addr = ipv4(192, 0, 2, 1);
  r.has_port = true;
  r.port_lo = 5000;
  r.port_hi = 5010;
  auto snat = [&](nf_inet_addr src) {
    Packet p = udp_packet(src, 5000, ipv4(198, 51, 100, 7), 53);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    nf_conn* ct = p.ct;
    nf_nat_setup_info(w.ct, ct, &r, NF_NAT_MANIP_SRC);
    nf_nat_packet(ct, IP_CT_DIR_ORIGINAL, NF_NAT_MANIP_SRC, p);
    REQUIRE(w.ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
    const uint16_t port = p.sport;
    w.ct.nf_reset_ct(p);
    return port;
  };
  CHECK(snat(ipv4(10, 0, 0, 1)) == 5000);
  CHECK(w.ct.stat(w.init, 0).found == 0);
  // 5000 is taken by the first: found once for keeping the port, once more
  // when the search of the range starts at its low end.
  CHECK(snat(ipv4(10, 0, 0, 2)) == 5001);
  CHECK(w.ct.stat(w.init, 0).found == 2);
  CHECK(w.invariants() == "");
}

TEST_CASE("DNS race behind DNAT: same backend merges, different backends insert reply-only") {
  SUBCASE("the same backend: nf_ct_match holds, the loser is merged into the winner") {
    World w;
    const nf_nat_range r = to(kBackend1, 53);
    Packet a = udp_packet(kClient, 5000, kVip, 53), b = udp_packet(kClient, 5000, kVip, 53);
    in_with_dnat(w, a, 0, &r);
    in_with_dnat(w, b, 1, &r);
    nf_conn* winner = a.ct;
    REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
    REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
    CHECK(b.ct == winner);
    CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
    CHECK(w.ct.stat(w.init, 1).insert_failed == 0);
    w.ct.nf_reset_ct(a);
    w.ct.nf_reset_ct(b);
    CHECK(w.init.count == 1);
    CHECK(w.invariants() == "");
  }
  SUBCASE("different backends: the loser stays as a 1 s reply-only NAT_CLASH entry") {
    World w;
    const nf_nat_range r1 = to(kBackend1, 53), r2 = to(kBackend2, 53);
    Packet a = udp_packet(kClient, 5000, kVip, 53), b = udp_packet(kClient, 5000, kVip, 53);
    in_with_dnat(w, a, 0, &r1);
    in_with_dnat(w, b, 1, &r2);
    nf_conn* loser = b.ct;
    REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
    REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
    CHECK(b.ct == loser);
    CHECK(loser->test_bit(IPS_NAT_CLASH_BIT));
    CHECK(loser->test_bit(IPS_FIXED_TIMEOUT_BIT));
    CHECK(nf_ct_is_confirmed(loser));
    CHECK(nf_ct_expires(loser, w.ct.now32()) == w.ct.hz());
    CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
    CHECK(w.ct.stat(w.init, 1).drop == 0);
    w.ct.nf_reset_ct(a);
    w.ct.nf_reset_ct(b);
    CHECK(w.init.count == 2);
    CHECK(w.invariants() == "");
    // The answer from backend 2 finds the reply-only entry; after a second
    // it is gone.
    Packet ans = udp_packet(kBackend2, 53, kClient, 5000);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, ans, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(ans.ct == loser);
    w.ct.nf_reset_ct(ans);
    w.advance_seconds(20);
    CHECK(w.init.count == 1);
  }
}
