// Tuple extraction, inversion, equality and the tuple's place in the hash.
// Pins net/netfilter/nf_conntrack_core.c nf_ct_get_tuple() and
// nf_ct_invert_tuple(), the ICMP/ICMPv6 inverse-type tables of
// nf_conntrack_proto_icmp{,v6}.c, and the byte layout the hash reads.
#include <doctest/doctest.h>

#include <cstring>
#include <map>

#include "core/jhash.h"
#include "tests/core_harness.h"

using namespace ctest;

namespace {

const uint8_t* bytes_of(const nf_conntrack_tuple& t) { return reinterpret_cast<const uint8_t*>(&t); }

nf_inet_addr ipv6_addr(uint16_t last) {
  // 2001:db8::<last>
  nf_inet_addr a;
  a.all[0] = 0xb80d0120u;  // bytes 20 01 0d b8
  a.all[3] = static_cast<uint32_t>(last >> 8) << 16 | static_cast<uint32_t>(last & 0xff) << 24;
  return a;
}

Packet icmpv6_packet(nf_inet_addr s, nf_inet_addr d, uint8_t type, uint8_t code, uint16_t id) {
  Packet p;
  p.l3num = NFPROTO_IPV6;
  p.saddr = s;
  p.daddr = d;
  p.protonum = IPPROTO_ICMPV6_;
  p.icmp_type = type;
  p.icmp_code = code;
  p.icmp_id = id;
  return p;
}

}  // namespace

TEST_CASE("nf_ct_get_tuple for TCP puts ports in network order at bytes 16 and 36") {
  nf_conntrack_tuple t;
  Packet p = tcp_packet(ipv4(192, 168, 1, 2), 47562, ipv4(10, 0, 0, 2), 80, TCPHDR_SYN);
  REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
  const uint8_t* b = bytes_of(t);
  CHECK(b[0] == 192);
  CHECK(b[1] == 168);
  CHECK(b[2] == 1);
  CHECK(b[3] == 2);
  for (int i = 4; i < 16; ++i) CHECK(b[i] == 0);  // IPv4 uses word 0 only
  CHECK(b[16] == 0xb9);                           // 47562 = 0xb9ca, big-endian in memory
  CHECK(b[17] == 0xca);
  CHECK(b[18] == NFPROTO_IPV4);  // l3num, host order (little-endian)
  CHECK(b[19] == 0);
  CHECK(b[20] == 10);
  CHECK(b[23] == 2);
  CHECK(b[36] == 0x00);  // port 80 = 0x0050
  CHECK(b[37] == 0x50);
  CHECK(b[38] == IPPROTO_TCP_);
  CHECK(b[39] == IP_CT_DIR_ORIGINAL);
  CHECK(t.sport() == 47562);
  CHECK(t.dport() == 80);
}

TEST_CASE("nf_ct_get_tuple for UDP and a truncated header") {
  nf_conntrack_tuple t;
  Packet p = udp_packet(ipv4(1, 2, 3, 4), 53, ipv4(5, 6, 7, 8), 5353);
  REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
  CHECK(t.dst.protonum == IPPROTO_UDP_);
  CHECK(t.sport() == 53);
  CHECK(t.dport() == 5353);
  CHECK(t.src.u_all == 0x3500);  // what x86 reads from bytes 00 35
  p.truncated = true;
  CHECK_FALSE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
}

TEST_CASE("nf_ct_get_tuple for ICMP: type at byte 36, code at 37, id at 16") {
  nf_conntrack_tuple t;
  Packet p = icmp_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), 8, 0, 0x1234);
  REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
  const uint8_t* b = bytes_of(t);
  CHECK(b[36] == 8);
  CHECK(b[37] == 0);
  CHECK(b[16] == 0x12);
  CHECK(b[17] == 0x34);
  CHECK(t.icmp_type() == 8);
  CHECK(t.icmp_id() == 0x1234);
  CHECK(t.dst.protonum == IPPROTO_ICMP_);
}

TEST_CASE("nf_ct_get_tuple for ICMPv6 fills all four address words") {
  nf_conntrack_tuple t;
  Packet p = icmpv6_packet(ipv6_addr(1), ipv6_addr(2), 128, 0, 7);
  REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
  const uint8_t* b = bytes_of(t);
  CHECK(b[0] == 0x20);
  CHECK(b[1] == 0x01);
  CHECK(b[2] == 0x0d);
  CHECK(b[3] == 0xb8);
  CHECK(b[15] == 1);
  CHECK(b[35] == 2);
  CHECK(b[18] == NFPROTO_IPV6);
  CHECK(b[36] == 128);
  CHECK(t.icmp_id() == 7);
  CHECK(t.dst.protonum == IPPROTO_ICMPV6_);
}

TEST_CASE("nf_ct_get_tuple for an unknown protocol keeps ports zero") {
  nf_conntrack_tuple t;
  Packet p;
  p.saddr = ipv4(10, 0, 0, 1);
  p.daddr = ipv4(10, 0, 0, 2);
  p.protonum = 99;
  p.sport = 1234;  // ignored: the generic tracker has no ports
  p.dport = 5678;
  REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
  CHECK(t.src.u_all == 0);
  CHECK(t.dst.u_all == 0);
  CHECK(t.dst.protonum == 99);
}

TEST_CASE("nf_ct_invert_tuple swaps addresses and ports and flips dir") {
  nf_conntrack_tuple t, inv, back;
  REQUIRE(nf_ct_get_tuple(tcp_packet(ipv4(1, 1, 1, 1), 1000, ipv4(2, 2, 2, 2), 22, 0), &t, ctcore::kernel_profile{}));
  REQUIRE(nf_ct_invert_tuple(&inv, t));
  CHECK(inv.src.u3 == t.dst.u3);
  CHECK(inv.dst.u3 == t.src.u3);
  CHECK(inv.sport() == 22);
  CHECK(inv.dport() == 1000);
  CHECK(inv.src.l3num == NFPROTO_IPV4);
  CHECK(inv.dst.protonum == IPPROTO_TCP_);
  CHECK(inv.dst.dir == IP_CT_DIR_REPLY);
  REQUIRE(nf_ct_invert_tuple(&back, inv));
  CHECK(back.dst.dir == IP_CT_DIR_ORIGINAL);
  CHECK(std::memcmp(&back, &t, sizeof t) == 0);
}

TEST_CASE("ICMP inversion: exactly the request/reply pairs of the v5.10 table") {
  const std::map<uint8_t, uint8_t> table = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16}, {16, 15}, {17, 18}, {18, 17}};
  for (unsigned type = 0; type < 256; ++type) {
    CAPTURE(type);
    uint8_t inv = 0xee;
    const bool ok = icmp_invert_type(static_cast<uint8_t>(type), &inv);
    auto it = table.find(static_cast<uint8_t>(type));
    CHECK(ok == (it != table.end()));
    if (it == table.end()) continue;
    CHECK(inv == it->second);
    // The whole tuple: id and code kept, type mapped.
    nf_conntrack_tuple t, r;
    REQUIRE(
        nf_ct_get_tuple(icmp_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), static_cast<uint8_t>(type), 3, 0xbeef), &t, ctcore::kernel_profile{}));
    REQUIRE(nf_ct_invert_tuple(&r, t));
    CHECK(r.icmp_type() == it->second);
    CHECK(r.icmp_code() == 3);
    CHECK(r.icmp_id() == 0xbeef);
    CHECK(r.src.u3 == ipv4(10, 0, 0, 2));
  }
}

TEST_CASE("ICMPv6 inversion: exactly the request/reply pairs of the v5.10 table") {
  const std::map<uint8_t, uint8_t> table = {{128, 129}, {129, 128}, {139, 140}, {140, 139}};
  for (unsigned type = 0; type < 256; ++type) {
    CAPTURE(type);
    uint8_t inv = 0xee;
    const bool ok = icmpv6_invert_type(static_cast<uint8_t>(type), &inv);
    auto it = table.find(static_cast<uint8_t>(type));
    CHECK(ok == (it != table.end()));
    nf_conntrack_tuple t, r;
    REQUIRE(nf_ct_get_tuple(icmpv6_packet(ipv6_addr(1), ipv6_addr(2), static_cast<uint8_t>(type), 0, 9), &t, ctcore::kernel_profile{}));
    CHECK(nf_ct_invert_tuple(&r, t) == ok);
    if (it == table.end()) continue;
    CHECK(inv == it->second);
    CHECK(r.icmp_type() == it->second);
    CHECK(r.icmp_id() == 9);
  }
  // The ICMPv4 table does not apply to ICMPv6 and vice versa.
  uint8_t inv;
  CHECK_FALSE(icmpv6_invert_type(8, &inv));
  CHECK_FALSE(icmp_invert_type(128, &inv));
}

TEST_CASE("a non-invertible ICMP type makes the packet invalid and creates no conn") {
  World w;
  SUBCASE("ICMPv4 router advertisement (type 9)") {
    Packet p = icmp_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), 9, 0, 1);
    CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(p.ct == nullptr);
  }
  SUBCASE("ICMPv6 redirect (type 137)") {
    Packet p = icmpv6_packet(ipv6_addr(1), ipv6_addr(2), 137, 0, 1);
    CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(p.ct == nullptr);
  }
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(w.ct.stat(w.init, 0).error == 0);
  CHECK(w.init.count == 0);
  CHECK(w.ct.conns_allocated() == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("an ICMP echo request is tracked and its reply maps onto it") {
  World w;
  nf_conn* ct = nullptr;
  ip_conntrack_info info;
  CHECK(w.forward(icmp_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), 8, 0, 42), nullptr, 0, &ct, &info) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(info == IP_CT_NEW);
  nf_conn* back = nullptr;
  CHECK(w.forward(icmp_packet(ipv4(10, 0, 0, 2), ipv4(10, 0, 0, 1), 0, 0, 42), nullptr, 0, &back, &info) == NF_ACCEPT);
  CHECK(back == ct);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  CHECK(w.init.count == 1);
}

TEST_CASE("nf_ct_tuple_equal ignores dir and compares every other field") {
  nf_conntrack_tuple a;
  REQUIRE(nf_ct_get_tuple(tcp_packet(ipv4(1, 1, 1, 1), 1000, ipv4(2, 2, 2, 2), 22, 0), &a, ctcore::kernel_profile{}));
  nf_conntrack_tuple b = a;
  b.dst.dir = IP_CT_DIR_REPLY;
  CHECK(nf_ct_tuple_equal(a, b));

  auto differs = [&](auto mutate) {
    nf_conntrack_tuple c = a;
    mutate(c);
    return !nf_ct_tuple_equal(a, c);
  };
  CHECK(differs([](nf_conntrack_tuple& c) { c.src.u3.all[0] ^= 1; }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.src.u3.all[3] ^= 1; }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.dst.u3.all[0] ^= 1; }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.dst.u3.all[2] ^= 1; }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.set_sport(1001); }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.set_dport(23); }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.src.l3num = NFPROTO_IPV6; }));
  CHECK(differs([](nf_conntrack_tuple& c) { c.dst.protonum = IPPROTO_UDP_; }));
}

TEST_CASE("hash_conntrack_raw ignores dir and the hash of a known tuple is pinned") {
  // 192.168.1.2:47562 -> 10.0.0.2:80 TCP; reference values from
  // tests/data/hash-vectors.json (independent implementation).
  ManualClock clock;
  TestWorkqueue wq(clock);
  Conntrack ct({1024, 0, 305419896, 1}, clock, wq);
  net& n0 = ct.net_add("a", 0);
  net& n1 = ct.net_add("b", 2779096485u);
  nf_conntrack_tuple t;
  REQUIRE(nf_ct_get_tuple(tcp_packet(ipv4(192, 168, 1, 2), 47562, ipv4(10, 0, 0, 2), 80, 0), &t, ctcore::kernel_profile{}));
  CHECK(ct.hash_conntrack_raw(t, n0) == 1988113951u);
  CHECK(ct.scale_hash(1988113951u) == 474);
  CHECK(ct.hash_conntrack_raw(t, n1) == 1718282035u);
  CHECK(ct.scale_hash(1718282035u) == 409);

  nf_conntrack_tuple r = t;
  r.dst.dir = IP_CT_DIR_REPLY;
  CHECK(ct.hash_conntrack_raw(r, n0) == 1988113951u);

  // Mistakes this pins down: host-order ports (80 read as 0x0050 instead of
  // 0x5000), or src port and l3num swapped inside word 4. Each gives a
  // different hash for this tuple.
  const uint32_t seed = 305419896u;
  const uint32_t words_ok[9] = {t.src.u3.all[0], 0, 0, 0, 0xcab9u | (2u << 16), t.dst.u3.all[0], 0, 0, 0};
  CHECK(jhash2(words_ok, 9, seed ^ ((0x5000u << 16) | IPPROTO_TCP_)) == 1988113951u);
  CHECK(jhash2(words_ok, 9, seed ^ ((0x0050u << 16) | IPPROTO_TCP_)) != 1988113951u);
  const uint32_t words_swapped[9] = {t.src.u3.all[0], 0, 0, 0, 2u | (0xcab9u << 16), t.dst.u3.all[0], 0, 0, 0};
  CHECK(jhash2(words_swapped, 9, seed ^ ((0x5000u << 16) | IPPROTO_TCP_)) != 1988113951u);
  const uint32_t words_host[9] = {t.src.u3.all[0], 0, 0, 0, 47562u | (2u << 16), t.dst.u3.all[0], 0, 0, 0};
  CHECK(jhash2(words_host, 9, seed ^ ((0x5000u << 16) | IPPROTO_TCP_)) != 1988113951u);
}

TEST_CASE("the hash of an ICMP tuple mixes type | code << 8 into initval") {
  ManualClock clock;
  TestWorkqueue wq(clock);
  Conntrack ct({1024, 0, 0, 1}, clock, wq);
  net& n = ct.net_add("a", 0);
  nf_conntrack_tuple t;
  REQUIRE(nf_ct_get_tuple(icmp_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2), 8, 1, 0x1234), &t, ctcore::kernel_profile{}));
  const uint32_t words[9] = {ipv4(10, 0, 0, 1).all[0], 0, 0, 0, 0x3412u | (2u << 16),
                             ipv4(10, 0, 0, 2).all[0], 0, 0, 0};
  CHECK(ct.hash_conntrack_raw(t, n) == jhash2(words, 9, ((8u | 1u << 8) << 16) | IPPROTO_ICMP_));
}
