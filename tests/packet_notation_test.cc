// The packet notation: every protocol parses into the fields the trackers
// read, format_packet writes a packet back so that it parses to the same
// Packet, and bad input gets an exact message with its column.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/nf_conntrack_tuple.h"
#include "sim/scenario/packet_notation.h"
#include "tests/packet_equal.h"

using ctcore::Packet;
using ctsim::PacketSpec;

namespace {

Packet parse(const std::string& text) {
  INFO(text);
  const auto spec = ctsim::parse_packet(text);
  INFO((spec ? std::string() : spec.error().what));
  REQUIRE(spec.ok());
  return spec->pkt;
}

std::string error_of(const std::string& text) {
  const auto spec = ctsim::parse_packet(text);
  if (spec) return "parsed";
  return std::to_string(spec.error().column + 1) + ": " + spec.error().what;
}

ctcore::nf_inet_addr v4(const char* s) {
  ctcore::nf_inet_addr a;
  uint16_t l3 = 0;
  REQUIRE(ctsim::parse_address(s, &a, &l3));
  return a;
}

}  // namespace

TEST_CASE("parse_packet then format_packet parses back to the same Packet, for every protocol") {
  const char* kTexts[] = {
      "tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S",
      "tcp 192.168.1.2:47562 > 10.0.0.2:80 flags A seq 1001 ack 2001 win 502 len 100",
      "tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S seq 7 win 65535 wscale 7 sackok mss 1460",
      "tcp 192.168.1.2:47562 > 10.0.0.2:80 flags FPAUEC seq 4294967295 ack 1",
      "tcp 192.168.1.2:1 > 10.0.0.2:2 flags S ack 99",  // an ack field without the ACK flag
      "tcp 1.2.3.4:1 > 5.6.7.8:2 flags none badsum truncated",
      "tcp [2001:db8::1]:40000 > [2001:db8::2]:443 flags S",
      "udp 192.168.1.2:5353 > 10.0.0.53:53 len 40",
      "udp [::1]:0 > [::ffff:1.2.3.4]:65535",
      "udplite 192.168.1.2:5353 > 10.0.0.53:53 len 40 badsum",
      "udplite 192.168.1.2:5353 > 10.0.0.53:53 len 40 csum17",
      "udplite [2001:db8::1]:1 > [2001:db8::2]:2 csum17",
      "icmp 192.168.1.2 > 10.0.0.2 echo-request id 42 seq 1",
      "icmp 10.0.0.2 > 192.168.1.2 echo-reply id 42 seq 1",
      "icmp 10.0.0.2 > 192.168.1.2 port-unreachable [udp 192.168.1.2:5000 > 10.0.0.2:53]",
      "icmp 10.0.0.2 > 192.168.1.2 type 3 code 3 [tcp 192.168.1.2:5000 > 10.0.0.2:53]",
      "icmp 10.0.0.2 > 192.168.1.2 time-exceeded [icmp 192.168.1.2 > 10.0.0.2 echo-request id 9]",
      "icmp 10.0.0.2 > 192.168.1.2 host-unreachable [gre 192.168.1.2 > 10.0.0.2 key 77]",
      "icmp 1.1.1.1 > 2.2.2.2 type 200 code 9 id 3",
      "icmp6 2001:db8::1 > 2001:db8::2 echo-request id 7",
      "icmp6 2001:db8::1 > 2001:db8::2 type 128 code 0 id 7 seq 3",
      "icmp6 2001:db8::1 > 2001:db8::2 port-unreachable [udp [2001:db8::2]:1 > [2001:db8::1]:2]",
      "icmp6 fe80::1 > ff02::1 neighbor-solicitation",
      "gre 192.168.1.2 > 10.0.0.2 key 5",
      "gre 192.168.1.2 > 10.0.0.2",
      "sctp 192.168.1.2:5000 > 10.0.0.2:5001 chunks INIT vtag 0 init_tag 305419896",
      "sctp 192.168.1.2:5000 > 10.0.0.2:5001 chunks COOKIE_ECHO,DATA vtag 77",
      "sctp 10.0.0.2:5001 > 192.168.1.2:5000 chunks INIT_ACK vtag 305419896 init_tag 42",
      "sctp 10.0.0.2:5001 > 192.168.1.2:5000 chunks SHUTDOWN_COMPLETE vtag 1",
      "dccp 192.168.1.2:5000 > 10.0.0.2:5001 type REQUEST seq 1 ack 2",
      "dccp 192.168.1.2:5000 > 10.0.0.2:5001 type SYNCACK",
      "proto 50 192.168.1.2 > 10.0.0.2",
      "proto 50 [2001:db8::1] > 2001:db8::2 badsum",
      "proto 6 1.2.3.4:1 > 5.6.7.8:2 flags S",
      "icmp 1.2.3.4 > 5.6.7.8 echo-request id 1 len 56",
      "gre 1.2.3.4 > 5.6.7.8 key 1 len 100",
      "sctp 1.2.3.4:1 > 5.6.7.8:2 chunks DATA vtag 3 len 1000",
      "dccp 1.2.3.4:1 > 5.6.7.8:2 type DATA len 9",
      "proto 50 1.2.3.4 > 5.6.7.8 len 1400",
  };
  for (const char* text : kTexts) {
    CAPTURE(text);
    const Packet a = parse(text);
    const std::string written = ctsim::format_packet(a);
    CAPTURE(written);
    const Packet b = parse(written);
    CHECK(ctest::notation_equal(a, b));
    CHECK(ctsim::format_packet(b) == written);
    // The trace copies notation into JSON strings without escaping it.
    for (char c : written) {
      CAPTURE(c);
      CHECK_FALSE((c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20));
    }
  }
}

TEST_CASE("parse_packet fills the fields each tracker reads") {
  SUBCASE("tcp") {
    Packet p =
        parse("tcp 192.168.1.2:47562 > 10.0.0.2:80 flags SA seq 10 ack 20 win 30 len 40 wscale 14 sackok mss 536");
    CHECK(p.protonum == ctcore::IPPROTO_TCP_);
    CHECK(p.l3num == ctcore::NFPROTO_IPV4);
    CHECK(p.saddr == v4("192.168.1.2"));
    CHECK(p.daddr == v4("10.0.0.2"));
    CHECK(p.sport == 47562);
    CHECK(p.dport == 80);
    CHECK(p.tcp_flags == (ctcore::TCPHDR_SYN | ctcore::TCPHDR_ACK));
    CHECK(p.seq == 10);
    CHECK(p.ack_seq == 20);
    CHECK(p.window == 30);
    CHECK(p.len == 40);
    CHECK(p.wscale == 14);
    CHECK(p.sackok);
    CHECK(p.mss == 536);
  }
  SUBCASE("tcp defaults are marked as such") {
    auto spec = ctsim::parse_packet("tcp 1.2.3.4:1 > 5.6.7.8:2 flags A");
    REQUIRE(spec.ok());
    CHECK_FALSE(spec->has_seq);
    CHECK_FALSE(spec->has_ack);
    CHECK_FALSE(spec->has_win);
    CHECK(spec->pkt.wscale == -1);
    spec = ctsim::parse_packet("tcp 1.2.3.4:1 > 5.6.7.8:2 flags A seq 0 ack 0 win 0");
    REQUIRE(spec.ok());
    CHECK(spec->has_seq);
    CHECK(spec->has_ack);
    CHECK(spec->has_win);
  }
  SUBCASE("udp and udplite") {
    Packet p = parse("udp 192.168.1.2:5353 > 10.0.0.53:53 len 40");
    CHECK(p.protonum == ctcore::IPPROTO_UDP_);
    CHECK(p.len == 40);
    CHECK(parse("udplite 1.2.3.4:1 > 5.6.7.8:2").protonum == ctcore::IPPROTO_UDPLITE_);
  }
  SUBCASE("ipv6 in brackets") {
    Packet p = parse("tcp [2001:db8::1]:40000 > [2001:db8::2]:443 flags S");
    CHECK(p.l3num == ctcore::NFPROTO_IPV6);
    CHECK(ctsim::format_address(p.l3num, p.saddr) == "2001:db8::1");
    CHECK(p.sport == 40000);
    CHECK(p.dport == 443);
  }
  SUBCASE("icmp types by name and by number") {
    Packet p = parse("icmp 192.168.1.2 > 10.0.0.2 echo-request id 42 seq 1");
    CHECK(p.protonum == ctcore::IPPROTO_ICMP_);
    CHECK(p.icmp_type == 8);
    CHECK(p.icmp_code == 0);
    CHECK(p.icmp_id == 42);
    CHECK(p.icmp_seq == 1);
    Packet q = parse("icmp 192.168.1.2 > 10.0.0.2 type 8 code 0 id 42 seq 1");
    CHECK(ctest::notation_equal(p, q));
    CHECK(parse("icmp 1.1.1.1 > 2.2.2.2 port-unreachable [udp 2.2.2.2:1 > 1.1.1.1:2]").icmp_code == 3);
    CHECK(parse("icmp 1.1.1.1 > 2.2.2.2 type 3").icmp_code == 0);
  }
  SUBCASE("icmp6 types by name and by number") {
    Packet p = parse("icmp6 2001:db8::1 > 2001:db8::2 echo-request id 7");
    CHECK(p.protonum == ctcore::IPPROTO_ICMPV6_);
    CHECK(p.l3num == ctcore::NFPROTO_IPV6);
    CHECK(p.icmp_type == 128);
    CHECK(p.icmp_id == 7);
    CHECK(parse("icmpv6 2001:db8::1 > 2001:db8::2 echo-reply").icmp_type == 129);
    Packet e = parse("icmp6 2001:db8::1 > 2001:db8::2 packet-too-big [tcp [2001:db8::2]:80 > [2001:db8::1]:9]");
    CHECK(e.icmp_type == 2);
    CHECK(e.has_inner);
    CHECK(e.inner.l3num == ctcore::NFPROTO_IPV6);
    CHECK(e.inner.dport == 9);
  }
  SUBCASE("an icmp error carries the quoted packet") {
    Packet p = parse("icmp 10.0.0.2 > 192.168.1.2 port-unreachable [udp 192.168.1.2:5000 > 10.0.0.2:53]");
    REQUIRE(p.has_inner);
    CHECK(p.icmp_type == 3);
    CHECK(p.inner.protonum == ctcore::IPPROTO_UDP_);
    CHECK(p.inner.saddr == v4("192.168.1.2"));
    CHECK(p.inner.daddr == v4("10.0.0.2"));
    CHECK(p.inner.sport == 5000);
    CHECK(p.inner.dport == 53);
    Packet q = parse("icmp 10.0.0.2 > 192.168.1.2 time-exceeded [icmp 192.168.1.2 > 10.0.0.2 echo-request id 9]");
    CHECK(q.inner.protonum == ctcore::IPPROTO_ICMP_);
    CHECK(q.inner.icmp_type == 8);
    CHECK(q.inner.sport == 9);  // the echo id, as the tuple keeps it
  }
  SUBCASE("udplite csum17: the checksum conntrack accepts; RFC 3828's by default") {
    CHECK_FALSE(parse("udplite 1.2.3.4:1 > 5.6.7.8:2").udplite_csum17);
    Packet p = parse("udplite 1.2.3.4:1 > 5.6.7.8:2 csum17 len 4");
    CHECK(p.udplite_csum17);
    CHECK(p.len == 4);
    CHECK_FALSE(p.bad_checksum);
  }
  SUBCASE("gre key") {
    Packet p = parse("gre 192.168.1.2 > 10.0.0.2 key 5");
    CHECK(p.protonum == ctcore::IPPROTO_GRE_);
    CHECK(p.gre_key == 5);
  }
  SUBCASE("sctp chunks, vtag and init_tag") {
    Packet p = parse("sctp 192.168.1.2:5000 > 10.0.0.2:5001 chunks INIT vtag 0 init_tag 1234");
    CHECK(p.protonum == ctcore::IPPROTO_SCTP_);
    CHECK(p.sctp_chunks == ctcore::SCTP_CHUNK_INIT);
    CHECK(p.sctp_first_chunk == 1);
    CHECK(p.sctp_vtag == 0);
    CHECK(p.sctp_init_tag == 1234);
    CHECK(p.seq == 0);  // the init tag no longer rides in the TCP field
    Packet q = parse("sctp 1.2.3.4:1 > 5.6.7.8:2 chunks COOKIE_ECHO,DATA vtag 9");
    CHECK(q.sctp_chunks == (ctcore::SCTP_CHUNK_COOKIE_ECHO | ctcore::SCTP_CHUNK_DATA));
    CHECK(q.sctp_first_chunk == 10);
    CHECK(ctsim::format_packet(q) == "sctp 1.2.3.4:1 > 5.6.7.8:2 chunks COOKIE_ECHO,DATA vtag 9");
  }
  SUBCASE("dccp types") {
    const char* kTypes[] = {"REQUEST",  "RESPONSE", "DATA",  "ACK",  "DATAACK",
                            "CLOSEREQ", "CLOSE",    "RESET", "SYNC", "SYNCACK"};
    for (uint8_t k = 0; k < 10; ++k) {
      Packet p = parse(std::string("dccp 1.2.3.4:1 > 5.6.7.8:2 type ") + kTypes[k] + " seq 281474976710655");
      CHECK(p.protonum == ctcore::IPPROTO_DCCP_);
      CHECK(p.dccp_type == k);
      CHECK(p.dccp_seq == 281474976710655ull);
    }
  }
  SUBCASE("proto N, badsum, truncated") {
    Packet p = parse("proto 50 192.168.1.2 > 10.0.0.2 badsum truncated");
    CHECK(p.protonum == 50);
    CHECK(p.bad_checksum);
    CHECK(p.truncated);
    CHECK(ctsim::format_packet(p) == "proto 50 192.168.1.2 > 10.0.0.2 badsum truncated");
  }
}

TEST_CASE("format_packet writes the canonical notation") {
  CHECK(ctsim::format_packet(parse("tcp 1.2.3.4:1 > 5.6.7.8:2 flags AS")) ==
        "tcp 1.2.3.4:1 > 5.6.7.8:2 flags SA seq 0 ack 0 win 0");
  CHECK(ctsim::format_packet(parse("icmp 1.2.3.4 > 5.6.7.8 type 0 code 0 id 1")) ==
        "icmp 1.2.3.4 > 5.6.7.8 echo-reply id 1");
  CHECK(ctsim::format_packet(parse("tcp [2001:db8:0::1]:1 > [2001:db8::2]:2 flags none")) ==
        "tcp [2001:db8::1]:1 > [2001:db8::2]:2 flags none seq 0 win 0");
}

TEST_CASE("IPv4 addresses are written with every byte value as dotted decimal") {
  // The writer formats bytes by table: every value, in every position.
  for (unsigned b = 0; b < 256; ++b) {
    const std::string a = std::to_string(b) + "." + std::to_string(255 - b) + "." + std::to_string(b * 7 % 256) + "." +
                          std::to_string(b ^ 0x5a);
    const std::string z = std::to_string((b + 1) % 256) + ".0." + std::to_string(b) + ".9";
    const std::string text = "udp " + a + ":" + std::to_string(b * 257) + " > " + z + ":53 len 1";
    CHECK(ctsim::format_packet(parse(text)) == text);
  }
}

TEST_CASE("parse_tuple reads the notation without flags") {
  for (const char* text : {"tcp 192.168.1.2:47562 > 10.0.0.2:80", "icmp 1.2.3.4 > 5.6.7.8 echo-request id 3",
                           "udp [2001:db8::1]:5 > [2001:db8::2]:6"}) {
    CAPTURE(text);
    const auto t = ctsim::parse_tuple(text);
    REQUIRE(t.ok());
    CHECK(ctsim::format_tuple(*t) == text);
  }
  const auto bad = ctsim::parse_tuple("tcp 1.2.3.4:1 > 5.6.7.8:2 flags S");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().what == "unexpected \"flags\": a tuple is the packet notation without flags or options");
  CHECK(bad.error().column == 26);
}

TEST_CASE("parse_packet names what is wrong, and where") {
  struct Bad {
    const char* text;
    const char* error;  // "COLUMN: message", 1-based column
  };
  const Bad kBad[] = {
      {"", "1: empty packet (expected e.g. \"tcp A:p > B:q flags S\")"},
      {"tpc 1.2.3.4:1 > 5.6.7.8:2 flags S",
       "1: unknown protocol \"tpc\" (expected tcp, udp, udplite, icmp, icmp6, gre, sctp, dccp or \"proto N\")"},
      {"tcp 1.2.3.4:1 5.6.7.8:2 flags S", "5: expected \"SOURCE > DESTINATION\" after the protocol"},
      {"tcp 1.2.3.4:70000 > 5.6.7.8:80 flags S", "5: port 70000 is out of range 0..65535"},
      {"tcp 1.2.3.4:http > 5.6.7.8:80 flags S", "5: \"1.2.3.4:http\": port \"http\" is not a number"},
      {"tcp 1.2.3.4 > 5.6.7.8:80 flags S", "5: \"1.2.3.4\": expected address:port"},
      {"tcp 1.2.3.256:1 > 5.6.7.8:80 flags S", "5: \"1.2.3.256\" is not an IPv4 or IPv6 address"},
      {"tcp 1.2.3.4:1 > [2001:db8::1]:80 flags S", "17: source and destination are of different address families"},
      {"tcp [2001:db8::1:1 > [2001:db8::2]:80 flags S", "5: \"[2001:db8::1:1\": missing ']' after an IPv6 address"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2", "26: a tcp packet needs \"flags\" (e.g. flags S)"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags SX", "34: unknown TCP flag 'X' (expected letters S A F R P U E C, or none)"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags SS", "34: TCP flag 'S' given twice"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S seq", "35: \"seq\" must be followed by a number"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S seq 4294967296", "39: seq 4294967296 is out of range 0..4294967295"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S win x", "39: \"x\" after \"win\" is not a number"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S wscale 15", "42: wscale 15 is out of range 0..14"},
      {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S key 5", "35: unexpected \"key\" in a tcp packet"},
      {"udp 1.2.3.4:1 > 5.6.7.8:2 flags S", "27: unexpected \"flags\" in a udp packet"},
      {"icmp 1.2.3.4:1 > 5.6.7.8 echo-request", "6: \"1.2.3.4:1\": this protocol has no ports"},
      {"icmp 1.2.3.4 > 5.6.7.8", "23: expected an ICMP type (e.g. echo-request, or \"type N code M\")"},
      {"icmp 1.2.3.4 > 5.6.7.8 echo-requst",
       "24: unknown icmp type \"echo-requst\" (expected a name such as echo-request, echo-reply, port-unreachable, "
       "time-exceeded, or \"type N code M\")"},
      {"icmp 1.2.3.4 > 5.6.7.8 type 256", "24: \"type\" must be followed by a number 0..255"},
      {"icmp 2001:db8::1 > 2001:db8::2 echo-request", "1: icmp needs IPv4 addresses (use icmp6 for IPv6)"},
      {"icmp6 1.2.3.4 > 5.6.7.8 echo-request", "1: icmp6 needs IPv6 addresses (use icmp for IPv4)"},
      {"icmp 1.2.3.4 > 5.6.7.8 port-unreachable [udp 5.6.7.8:1 > 1.2.3.4]",
       "58: quoted packet: \"1.2.3.4\": expected address:port"},
      {"icmp 1.2.3.4 > 5.6.7.8 port-unreachable [udp 5.6.7.8:1 > 1.2.3.4:2 len 5]",
       "68: quoted packet: unexpected \"len\" (a quoted packet gives only addresses, ports, an ICMP type and id, or a "
       "GRE key)"},
      {"icmp 1.2.3.4 > 5.6.7.8 port-unreachable [udp [::1]:1 > [::2]:2]",
       "41: the quoted packet's address family differs from the ICMP packet's"},
      {"gre 1.2.3.4 > 5.6.7.8 key 65536", "23: \"key\" must be followed by a number 0..65535"},
      {"udp 1.2.3.4:1 > 5.6.7.8:2 csum17", "27: unexpected \"csum17\" in a udp packet"},
      {"udplite 1.2.3.4:1 > 5.6.7.8:2 csum17 csum17", "38: \"csum17\" is given twice"},
      {"udplite 1.2.3.4:1 > 5.6.7.8:2 badsum csum17",
       "38: \"csum17\" and \"badsum\" contradict (csum17 is a checksum that verifies with protocol 17; badsum one "
       "that verifies with neither 17 nor 136)"},
      {"sctp 1.2.3.4:1 > 5.6.7.8:2 vtag 1", "34: an sctp packet needs \"chunks\" (e.g. chunks INIT)"},
      {"sctp 1.2.3.4:1 > 5.6.7.8:2 chunks INIT,BOGUS",
       "40: unknown SCTP chunk \"BOGUS\" (expected DATA, INIT, INIT_ACK, SACK, HEARTBEAT, HEARTBEAT_ACK, ABORT, "
       "SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO, COOKIE_ACK or SHUTDOWN_COMPLETE)"},
      {"sctp 1.2.3.4:1 > 5.6.7.8:2 chunks DATA,DATA",
       "40: SCTP chunk DATA is given twice (ctsim models each type once per packet)"},
      {"sctp 1.2.3.4:1 > 5.6.7.8:2 chunks DATA init_tag 5", "40: \"init_tag\" needs an INIT or INIT_ACK chunk"},
      {"dccp 1.2.3.4:1 > 5.6.7.8:2 type HELLO",
       "33: unknown DCCP type \"HELLO\" (expected REQUEST, RESPONSE, DATA, ACK, DATAACK, CLOSEREQ, CLOSE, RESET, SYNC "
       "or SYNCACK)"},
      {"dccp 1.2.3.4:1 > 5.6.7.8:2 seq 281474976710656", "32: seq 281474976710656 is out of range 0..281474976710655"},
      {"proto 256 1.2.3.4 > 5.6.7.8", "7: \"proto\" must be followed by a protocol number 0..255"},
      {"proto 1 2001:db8::1 > 2001:db8::2 echo-request", "1: icmp needs IPv4 addresses (use icmp6 for IPv6)"},
  };
  for (const Bad& b : kBad) {
    CAPTURE(b.text);
    CHECK(error_of(b.text) == b.error);
  }
}
