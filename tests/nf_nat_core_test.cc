// NAT bindings: the REPLY tuple rewritten once, null bindings, packets
// rewritten from the tuples, unique source ports, and the confirm clash of
// two DNAT'ed conns of one flow (the DNS A/AAAA race behind a service IP).
#include <doctest/doctest.h>

#include <deque>
#include <set>

#include "core/jhash.h"
#include "core/nf_nat_core.h"
#include "core/nf_nat_masquerade.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kClient = ipv4(10, 0, 0, 1);
const nf_inet_addr kVip = ipv4(10, 96, 0, 10);
const nf_inet_addr kBackend1 = ipv4(10, 1, 0, 1);
const nf_inet_addr kBackend2 = ipv4(10, 1, 0, 2);

// An address range lo..hi with a port range (0: no ports given).
nf_nat_range2 range_of(nf_inet_addr lo, nf_inet_addr hi, uint16_t plo = 0, uint16_t phi = 0, uint32_t flags = 0) {
  nf_nat_range2 r;
  r.flags = NF_NAT_RANGE_MAP_IPS | flags;
  r.min_addr = lo;
  r.max_addr = hi;
  if (plo != 0) {
    r.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
    r.min_proto = plo;
    r.max_proto = phi;
  }
  return r;
}
nf_nat_range2 to(nf_inet_addr a, uint16_t port) { return range_of(a, a, port, port); }

// conntrack-in, then the DNAT decision at PRE_ROUTING and the rewrite.
void in_with_dnat(World& w, Packet& p, uint16_t cpu, const nf_nat_range2* range) {
  REQUIRE(w.ct.nf_conntrack_in(w.init, cpu, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(p.ct != nullptr);
  if (!nf_nat_initialized(p.ct, NF_NAT_MANIP_DST)) {
    if (range != nullptr)
      nf_nat_setup_info(w.ct, p.ct, *range, NF_NAT_MANIP_DST);
    else
      nf_nat_alloc_null_binding(w.ct, p.ct, NF_NAT_MANIP_DST);
  }
  nf_nat_packet(p.ct, CTINFO2DIR(p.ctinfo), NF_NAT_MANIP_DST, p, kernel_profile{});
}

// prandom_u32() returning scripted values (then repeating the last).
struct ScriptedPrandom final : PrandomSource {
  std::deque<uint32_t> values;
  uint32_t last = 0;
  uint32_t draws = 0;
  uint32_t prandom_u32() override {
    ++draws;
    if (!values.empty()) {
      last = values.front();
      values.pop_front();
    }
    return last;
  }
};

// A forwarded packet's whole NAT walk: conntrack, DST null binding at
// PRE_ROUTING, the SNAT `range` (or masquerade to `masq_addr`) at
// POST_ROUTING, confirm. Returns the packet as it leaves (ct reset) and
// whether confirm accepted it; *out_ct (if given) is its conn.
struct Sent {
  Packet pkt;
  bool accepted;
  nf_nat_decision why;
  nf_conn* ct;
};
Sent forward_snat(World& w, Packet p, const nf_nat_range2& range, uint16_t cpu = 0) {
  REQUIRE(w.ct.nf_conntrack_in(w.init, cpu, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* ct = p.ct;
  REQUIRE(ct != nullptr);
  nf_nat_decision why;
  if (!nf_nat_initialized(ct, NF_NAT_MANIP_DST)) nf_nat_alloc_null_binding(w.ct, ct, NF_NAT_MANIP_DST);
  if (!nf_nat_initialized(ct, NF_NAT_MANIP_SRC)) nf_nat_setup_info(w.ct, ct, range, NF_NAT_MANIP_SRC, &why);
  nf_nat_packet(ct, CTINFO2DIR(p.ctinfo), NF_NAT_MANIP_SRC, p, kernel_profile{});
  const bool ok = w.ct.nf_conntrack_confirm(cpu, p) == NF_ACCEPT;
  w.ct.nf_reset_ct(p);
  return {p, ok, why, ct};
}

}  // namespace

TEST_CASE("nf_nat_setup_info: DNAT rewrites the reply tuple and the packet") {
  World w;
  Packet q = udp_packet(kClient, 5000, kVip, 53);
  const nf_nat_range2 r = to(kBackend1, 53);
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
  nf_nat_packet(a.ct, CTINFO2DIR(a.ctinfo), NF_NAT_MANIP_DST, a, kernel_profile{});
  CHECK(a.saddr == kBackend1);  // nothing to do before routing
  nf_nat_packet(a.ct, CTINFO2DIR(a.ctinfo), NF_NAT_MANIP_SRC, a, kernel_profile{});
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
  const nf_nat_range2 r = to(kBackend1, 53);
  in_with_dnat(w, q2, 0, &r);
  CHECK(q2.ct == ct);
  CHECK(q2.daddr == kVip);
  CHECK(ct->tuplehash[IP_CT_DIR_REPLY].tuple.src.u3 == kVip);
  w.ct.nf_reset_ct(q2);
}

TEST_CASE("get_unique_tuple: a taken mapping moves the port by nf_nat_l4proto_unique_tuple from a random offset") {
  World w;
  ScriptedPrandom rnd;
  w.ct.set_prandom(&rnd);
  rnd.values = {0 /* nf_nat_hash_rnd */, 3 /* the offset */};
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1), 5000, 5010);
  const Sent a = forward_snat(w, udp_packet(ipv4(10, 0, 0, 1), 5000, ipv4(198, 51, 100, 7), 53), r);
  CHECK(a.pkt.sport == 5000);
  CHECK(std::string(a.why.how) == "in_range");
  CHECK(w.ct.stat(w.init, 0).found == 0);
  // 5000 is taken by the first (found 1); the search starts at offset 3:
  // min + 3 % 11 = 5003, free.
  const Sent b = forward_snat(w, udp_packet(ipv4(10, 0, 0, 2), 5000, ipv4(198, 51, 100, 7), 53), r);
  CHECK(b.pkt.sport == 5003);
  CHECK(std::string(b.why.how) == "unique");
  CHECK(b.why.attempts == 1);
  CHECK(w.ct.stat(w.init, 0).found == 1);
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_nat_l4proto_unique_tuple: the port classes when the rule gives no ports") {
  World w;
  ScriptedPrandom rnd;
  w.ct.set_prandom(&rnd);
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1));
  struct Case {
    uint16_t port;
    uint32_t lo, hi;
  };
  // Below 512, 512..1023, and the rest (v5.10: 1-511, 600-1023, 1024-65535).
  for (const Case c : {Case{100, 1, 511}, Case{700, 600, 1023}, Case{40000, 1024, 65535}}) {
    CAPTURE(c.port);
    std::set<uint16_t> seen;
    for (uint32_t k = 0; k < 20; ++k) {
      rnd.values = {k * 7919u};  // offsets spread over the class
      const nf_inet_addr src = ipv4(10, 0, static_cast<uint8_t>(c.port >> 8), static_cast<uint8_t>(k + 1));
      const Sent s = forward_snat(w, tcp_packet(src, c.port, ipv4(198, 51, 100, 7), 80, TCPHDR_SYN), r);
      REQUIRE(s.accepted);
      if (k == 0) {
        CHECK(s.pkt.sport == c.port);  // the first keeps its port
        continue;
      }
      CHECK(s.pkt.sport >= c.lo);
      CHECK(s.pkt.sport <= c.hi);
      seen.insert(s.pkt.sport);
    }
    CHECK(seen.size() == 19);  // every later conn got a port of its own
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("a range exhausted: the last candidate stays and the TCP SYN is dropped at confirm (insert_failed)") {
  World w;
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1), 1024, 1025);
  const nf_inet_addr server = ipv4(198, 51, 100, 7);
  const Sent a = forward_snat(w, tcp_packet(ipv4(10, 0, 0, 1), 40000, server, 80, TCPHDR_SYN), r);
  const Sent b = forward_snat(w, tcp_packet(ipv4(10, 0, 0, 2), 40000, server, 80, TCPHDR_SYN), r);
  REQUIRE(a.accepted);
  REQUIRE(b.accepted);
  CHECK(a.pkt.sport != b.pkt.sport);
  const Sent c = forward_snat(w, tcp_packet(ipv4(10, 0, 0, 3), 40000, server, 80, TCPHDR_SYN), r);
  CHECK(std::string(c.why.how) == "exhausted");
  CHECK(c.why.attempts == 2);  // a 2-port range: 2 attempts, one round
  CHECK(c.why.rounds == 1);
  CHECK_FALSE(c.accepted);
  CHECK(w.ct.stat(w.init, 0).insert_failed == 1);
  CHECK(w.ct.stat(w.init, 0).drop == 1);
  CHECK(w.init.count == 2);
  CHECK(w.invariants() == "");
}

TEST_CASE("bysource: a source keeps its mapping across destinations (find_appropriate_src)") {
  World w;
  ScriptedPrandom rnd;
  w.ct.set_prandom(&rnd);
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1));
  // Port 40000 of the SNAT address is already used toward server 1 by
  // another client, so client X is moved to a fresh port there...
  REQUIRE(forward_snat(w, udp_packet(ipv4(10, 0, 0, 9), 40000, ipv4(198, 51, 100, 1), 53), r).accepted);
  rnd.values = {1234};
  const Sent x1 = forward_snat(w, udp_packet(ipv4(10, 0, 0, 1), 40000, ipv4(198, 51, 100, 1), 53), r);
  REQUIRE(x1.accepted);
  const uint16_t mapped = x1.pkt.sport;
  CHECK(mapped != 40000);
  // ...and to a second server it keeps that same port, though 40000 would
  // be free there: the bysource table holds its mapping.
  const Sent x2 = forward_snat(w, udp_packet(ipv4(10, 0, 0, 1), 40000, ipv4(198, 51, 100, 2), 53), r);
  CHECK(std::string(x2.why.how) == "bysource");
  CHECK(x2.pkt.sport == mapped);
  CHECK(x2.pkt.saddr == ipv4(192, 0, 2, 1));
  // Once every conn of that source is freed, its mapping is forgotten.
  w.ct.nf_conntrack_flush(nullptr);
  const Sent x3 = forward_snat(w, udp_packet(ipv4(10, 0, 0, 1), 40000, ipv4(198, 51, 100, 3), 53), r);
  CHECK(std::string(x3.why.how) == "in_range");
  CHECK(x3.pkt.sport == 40000);
  CHECK(w.invariants() == "");
}

TEST_CASE("find_best_ips_proto: the address from the range by the kernel's hash; persistent ignores the server") {
  World w;
  const nf_inet_addr lo = ipv4(192, 0, 2, 1), hi = ipv4(192, 0, 2, 4);
  auto host_of = [](nf_inet_addr a) { return static_cast<uint32_t>(a.all[0] >> 24); };
  for (const bool persistent : {false, true}) {
    CAPTURE(persistent);
    const nf_nat_range2 r = range_of(lo, hi, 0, 0, persistent ? NF_NAT_RANGE_PERSISTENT : 0);
    std::set<uint32_t> used;
    for (uint8_t d = 1; d <= 16; ++d) {
      const nf_inet_addr client = ipv4(10, 0, 0, 1), server = ipv4(198, 51, 100, d);
      const Sent s = forward_snat(w, udp_packet(client, static_cast<uint16_t>(1000 + d + (persistent ? 100 : 0)),
                                                server, 53),
                                  r);
      const uint32_t host = host_of(s.pkt.saddr);
      CHECK(host >= 1);
      CHECK(host <= 4);
      used.insert(host);
      // The kernel's choice: jhash2 of the source address, keyed by the
      // destination's last word unless persistent, scaled into the range.
      const uint32_t j = jhash2(client.all, 4, persistent ? 0 : server.all[0]);
      CHECK(host == 1 + static_cast<uint32_t>((static_cast<uint64_t>(j) * 4) >> 32));
    }
    if (persistent)
      CHECK(used.size() == 1);  // one address for this client, whatever the server
    else
      CHECK(used.size() > 1);  // spread over the range by destination
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("random and fully-random: the port comes from prandom, inside the range, reproducible from the seed") {
  for (const uint32_t flag : {NF_NAT_RANGE_PROTO_RANDOM, NF_NAT_RANGE_PROTO_RANDOM_FULLY}) {
    CAPTURE(flag);
    auto run = [&](uint32_t seed) {
      World w;
      ScriptedPrandom rnd;
      w.ct.set_prandom(&rnd);
      std::vector<uint16_t> ports;
      for (uint32_t k = 0; k < 32; ++k) {
        rnd.values = {seed * 2654435761u + k * 40503u};
        const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1), 2000, 2999, flag);
        const Sent s = forward_snat(w, udp_packet(ipv4(10, 0, 0, static_cast<uint8_t>(k + 1)), 2500,
                                                  ipv4(198, 51, 100, 7), 53),
                                    r);
        // Random: even a free in-range port is not kept (RANDOM_ALL skips
        // steps 1 and 3).
        CHECK(std::string(s.why.how) == "unique");
        CHECK(s.pkt.sport >= 2000);
        CHECK(s.pkt.sport <= 2999);
        ports.push_back(s.pkt.sport);
      }
      return ports;
    };
    CHECK(run(1) == run(1));
    CHECK(run(1) != run(2));
  }
}

TEST_CASE("a null binding remaps the port when a DNATed flow already uses the reply tuple") {
  World w;
  ScriptedPrandom rnd;
  w.ct.set_prandom(&rnd);
  rnd.values = {0, 77};
  const nf_inet_addr client = ipv4(10, 0, 0, 1), server = ipv4(10, 1, 0, 1);
  // Flow A: client:5000 -> VIP:53, DNATed to server:53. Its reply tuple is
  // server:53 -> client:5000.
  Packet a = udp_packet(client, 5000, kVip, 53);
  const nf_nat_range2 r = to(server, 53);
  in_with_dnat(w, a, 0, &r);
  nf_nat_alloc_null_binding(w.ct, a.ct, NF_NAT_MANIP_SRC);
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  w.ct.nf_reset_ct(a);
  // Flow B goes to the server directly from the same socket: its reply
  // tuple would be A's. The SRC null binding finds that and moves B's
  // source port (class 1024-65535), so both conns live.
  Packet b = udp_packet(client, 5000, server, 53);
  in_with_dnat(w, b, 0, nullptr);
  nf_nat_decision why;
  nf_nat_alloc_null_binding(w.ct, b.ct, NF_NAT_MANIP_SRC, &why);
  nf_nat_packet(b.ct, IP_CT_DIR_ORIGINAL, NF_NAT_MANIP_SRC, b, kernel_profile{});
  CHECK(std::string(why.how) == "unique");
  CHECK(b.saddr == client);
  CHECK(b.sport == 1024 + 77);
  CHECK(b.ct->test_bit(IPS_SRC_NAT_BIT));
  REQUIRE(w.ct.nf_conntrack_confirm(0, b) == NF_ACCEPT);
  w.ct.nf_reset_ct(b);
  CHECK(w.init.count == 2);
  CHECK(w.ct.stat(w.init, 0).insert_failed == 0);
  // A DST null binding never moves a port (it may not change the
  // destination port without a range).
  Packet c = udp_packet(ipv4(10, 0, 0, 2), 6000, server, 53);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, c, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_nat_alloc_null_binding(w.ct, c.ct, NF_NAT_MANIP_DST);
  CHECK_FALSE(c.ct->test_bit(IPS_DST_NAT_BIT));
  w.ct.nf_reset_ct(c);
  CHECK(w.invariants() == "");
}

TEST_CASE("ICMP echo: two hosts pinging with one id through one SNAT address get different ids") {
  World w;
  ScriptedPrandom rnd;
  w.ct.set_prandom(&rnd);
  rnd.values = {0, 4242};
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1));
  const nf_inet_addr server = ipv4(198, 51, 100, 7);
  const Sent a = forward_snat(w, icmp_packet(ipv4(10, 0, 0, 1), server, 8, 0, 42), r);
  const Sent b = forward_snat(w, icmp_packet(ipv4(10, 0, 0, 2), server, 8, 0, 42), r);
  REQUIRE(a.accepted);
  REQUIRE(b.accepted);
  CHECK(a.pkt.icmp_id == 42);
  CHECK(b.pkt.icmp_id == 4242);  // ids 0..65535, offset 4242
  CHECK(b.pkt.saddr == ipv4(192, 0, 2, 1));
  // The echo reply to the remapped id finds host 2's conn, and its id is
  // put back at POST_ROUTING (the reply undoes the SNAT).
  Packet reply = icmp_packet(server, ipv4(192, 0, 2, 1), 0, 0, 4242);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, reply, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  CHECK(reply.ct == b.ct);
  nf_nat_packet(reply.ct, CTINFO2DIR(reply.ctinfo), NF_NAT_MANIP_DST, reply, kernel_profile{});
  CHECK(reply.daddr == ipv4(10, 0, 0, 2));
  CHECK(reply.icmp_id == 42);
  w.ct.nf_reset_ct(reply);
  CHECK(w.invariants() == "");
}

TEST_CASE("GRE keys are never remapped: only a PPTP conn (with a master) has its key changed") {
  World w;
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1));
  Packet g1 = generic_packet(ipv4(10, 0, 0, 1), ipv4(198, 51, 100, 7), IPPROTO_GRE_);
  Packet g2 = generic_packet(ipv4(10, 0, 0, 2), ipv4(198, 51, 100, 7), IPPROTO_GRE_);
  const Sent a = forward_snat(w, g1, r);
  const Sent b = forward_snat(w, g2, r);
  CHECK(a.accepted);
  CHECK(std::string(b.why.how) == "kept");
  CHECK_FALSE(b.accepted);  // the same mapped tuple: the clash shows at confirm
}

TEST_CASE("nf_nat_icmp_reply_translation: an ICMP error about an SNATed conn is translated back") {
  World w;
  const nf_nat_range2 r = range_of(ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 1), 9000, 9000);
  const nf_inet_addr client = ipv4(10, 0, 0, 1), server = ipv4(198, 51, 100, 7), router = ipv4(203, 0, 113, 1);
  const Sent s = forward_snat(w, udp_packet(client, 5000, server, 53), r);
  REQUIRE(s.pkt.sport == 9000);
  // A router on the way answers the mapped packet with port unreachable.
  Packet err = icmp_packet(router, ipv4(192, 0, 2, 1), 3, 3, 0);
  err.has_inner = true;
  err.inner.l3num = NFPROTO_IPV4;
  err.inner.saddr = ipv4(192, 0, 2, 1);
  err.inner.daddr = server;
  err.inner.protonum = IPPROTO_UDP_;
  err.inner.sport = 9000;
  err.inner.dport = 53;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, err, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(err.ct == s.ct);
  CHECK(err.ctinfo == IP_CT_RELATED_REPLY);
  CHECK(nf_nat_icmp_reply_translation(err.ct, err.ctinfo, NF_NAT_MANIP_DST, err, kernel_profile{}));
  CHECK(err.daddr == client);       // the outer header goes to the client
  CHECK(err.saddr == router);       // from the router, untouched
  CHECK(err.inner.saddr == client);  // and quotes the packet as the client sent it
  CHECK(err.inner.sport == 5000);
  CHECK(err.inner.daddr == server);
  CHECK(err.inner.dport == 53);
  // A redirect about a NATed conn is dropped.
  Packet redirect = err;
  redirect.icmp_type = 5;
  CHECK_FALSE(nf_nat_icmp_reply_translation(err.ct, err.ctinfo, NF_NAT_MANIP_DST, redirect, kernel_profile{}));
  w.ct.nf_reset_ct(err);
  CHECK(w.invariants() == "");
}

TEST_CASE("masquerade: removing an address kills exactly the conns mapped to it") {
  World w;
  const nf_inet_addr a1 = ipv4(192, 0, 2, 1), a2 = ipv4(192, 0, 2, 2);
  const nf_inet_addr server = ipv4(198, 51, 100, 7);
  nf_nat_range2 any;  // masquerade without ports
  auto masq = [&](nf_inet_addr client, const nf_inet_addr* addr, int ifindex) {
    Packet p = udp_packet(client, 5000, server, 53);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    nf_nat_alloc_null_binding(w.ct, p.ct, NF_NAT_MANIP_DST);
    const unsigned v = nf_nat_masquerade(w.ct, p.ct, any, addr, ifindex);
    if (v == NF_DROP) {
      w.ct.nf_reset_ct(p);
      return false;
    }
    nf_nat_packet(p.ct, IP_CT_DIR_ORIGINAL, NF_NAT_MANIP_SRC, p, kernel_profile{});
    REQUIRE(w.ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
    w.ct.nf_reset_ct(p);
    return true;
  };
  REQUIRE(masq(ipv4(10, 0, 0, 1), &a1, 2));
  REQUIRE(masq(ipv4(10, 0, 0, 2), &a1, 2));
  REQUIRE(masq(ipv4(10, 0, 0, 3), &a2, 2));
  REQUIRE(masq(ipv4(10, 0, 0, 4), &a1, 3));  // another interface with the same address
  // An SNAT conn to a1 (not masqueraded) stays too.
  REQUIRE(forward_snat(w, udp_packet(ipv4(10, 0, 0, 5), 5000, server, 53), range_of(a1, a1)).accepted);
  CHECK(w.init.count == 5);
  CHECK(nf_nat_masquerade_addr_removed(w.ct, w.init, 2, NFPROTO_IPV4, a1) == 2);
  CHECK(w.init.count == 3);
  CHECK(w.invariants() == "");
  // No address left on the interface: the packet is dropped.
  CHECK_FALSE(masq(ipv4(10, 0, 0, 6), nullptr, 2));
  CHECK(w.init.count == 3);
}

TEST_CASE("DNS race behind DNAT: same backend merges, different backends insert reply-only") {
  SUBCASE("the same backend: nf_ct_match holds, the loser is merged into the winner") {
    World w;
    const nf_nat_range2 r = to(kBackend1, 53);
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
    const nf_nat_range2 r1 = to(kBackend1, 53), r2 = to(kBackend2, 53);
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
