// Packets to bytes and back (sim/scenario/packet_wire.h), and the RSS hash
// (sim/world/rss_toeplitz.h).
#include "sim/scenario/packet_wire.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "sim/scenario/inet_checksum.h"
#include "sim/scenario/packet_notation.h"
#include "sim/world/rss_toeplitz.h"

using ctsim::decode_frame;
using ctsim::encode_ethernet;
using ctsim::FrameSkip;

namespace {

ctcore::Packet parse(const char* text) {
  auto spec = ctsim::parse_packet(text);
  REQUIRE(spec);
  return spec->pkt;
}

// encode_ethernet then decode_frame, in notation.
std::string round_trip(const ctcore::Packet& p, FrameSkip* why = nullptr) {
  std::string frame;
  encode_ethernet(p, 0, &frame);
  ctcore::Packet back;
  const FrameSkip w = decode_frame(ctsim::kLinkEthernet, reinterpret_cast<const uint8_t*>(frame.data()), frame.size(),
                                   frame.size(), ctsim::CookedDirection::kIncoming, &back);
  if (why != nullptr) *why = w;
  return w == FrameSkip::kNone ? ctsim::format_packet(back) : "";
}

}  // namespace

TEST_CASE("every protocol the notation builds comes back from its bytes unchanged") {
  const char* const kPackets[] = {
      "tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S seq 100 win 64240 wscale 7 sackok mss 1460",
      "tcp [2001:db8::1]:1 > [2001:db8::2]:2 flags FA seq 5 ack 9 win 10 len 30",
      "udp 192.168.1.2:5353 > 10.0.0.53:53 len 40",
      "udplite 192.168.1.2:5353 > 10.0.0.53:53 len 3",
      "udplite 192.168.1.2:5353 > 10.0.0.53:53 len 3 csum17",
      "udplite [2001:db8::1]:5353 > [2001:db8::2]:53 len 8 csum17",
      "icmp 192.168.1.2 > 10.0.0.2 echo-request id 7 seq 3",
      "icmp 10.0.0.2 > 192.168.1.2 port-unreachable [udp 192.168.1.2:5000 > 10.0.0.2:53]",
      "icmp6 2001:db8::1 > 2001:db8::2 echo-request id 7",
      "gre 192.168.1.2 > 10.0.0.2 key 5",
      "sctp 192.168.1.2:5000 > 10.0.0.2:5001 chunks INIT vtag 0 init_tag 77",
      "dccp 192.168.1.2:5000 > 10.0.0.2:5001 type RESPONSE seq 9 ack 8",
      "proto 50 192.168.1.2 > 10.0.0.2",
  };
  for (const char* text : kPackets) {
    CAPTURE(text);
    const ctcore::Packet p = parse(text);
    CHECK(round_trip(p) == ctsim::format_packet(p));
  }
}

TEST_CASE("badsum and truncated survive the bytes: the checksum fails, the header is cut") {
  for (const char* text :
       {"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S badsum", "udp 1.2.3.4:1 > 5.6.7.8:2 badsum",
        "icmp 1.2.3.4 > 5.6.7.8 echo-request id 1 badsum", "sctp 1.2.3.4:1 > 5.6.7.8:2 chunks INIT vtag 0 badsum",
        "dccp 1.2.3.4:1 > 5.6.7.8:2 type REQUEST badsum", "udp 1.2.3.4:1 > 5.6.7.8:2 truncated"}) {
    CAPTURE(text);
    const ctcore::Packet p = parse(text);
    CHECK(round_trip(p) == ctsim::format_packet(p));
  }
}

TEST_CASE("UDP-Lite checksums: RFC 3828's pseudo-header protocol 136 by default, 17 with csum17") {
  // The bytes: the checksum field verifies with exactly one protocol in the
  // pseudo-header (the two sums differ by 136 - 17).
  auto verifies_with = [](const ctcore::Packet& p, uint8_t proto) {
    std::string ip;
    ctsim::encode_ip(p, &ip);
    const auto* d = reinterpret_cast<const uint8_t*>(ip.data());
    const uint32_t sum = ctsim::csum_pseudo(d + 12, d + 16, 4, proto, static_cast<uint32_t>(ip.size() - 20));
    return ctsim::csum_fold(ctsim::csum_partial(d + 20, ip.size() - 20, sum)) == 0;
  };
  const ctcore::Packet rfc = parse("udplite 1.2.3.4:1 > 5.6.7.8:2 len 5");
  const ctcore::Packet k17 = parse("udplite 1.2.3.4:1 > 5.6.7.8:2 len 5 csum17");
  CHECK(verifies_with(rfc, ctcore::IPPROTO_UDPLITE_));
  CHECK_FALSE(verifies_with(rfc, ctcore::IPPROTO_UDP_));
  CHECK(verifies_with(k17, ctcore::IPPROTO_UDP_));
  CHECK_FALSE(verifies_with(k17, ctcore::IPPROTO_UDPLITE_));
  // Decoding tells the three apart: RFC, 17, and neither (badsum).
  CHECK(round_trip(rfc) == "udplite 1.2.3.4:1 > 5.6.7.8:2 len 5");
  CHECK(round_trip(k17) == "udplite 1.2.3.4:1 > 5.6.7.8:2 len 5 csum17");
  CHECK(round_trip(parse("udplite 1.2.3.4:1 > 5.6.7.8:2 len 5 badsum")) ==
        "udplite 1.2.3.4:1 > 5.6.7.8:2 len 5 badsum");
}

TEST_CASE("what the kernel drops before conntrack, or ctsim does not model, is a skip with its reason") {
  std::string frame;
  encode_ethernet(parse("udp 1.2.3.4:1 > 5.6.7.8:2 len 10"), 0, &frame);
  ctcore::Packet p;
  auto decode = [&](const std::string& f, size_t caplen) {
    return decode_frame(ctsim::kLinkEthernet, reinterpret_cast<const uint8_t*>(f.data()), caplen, f.size(),
                        ctsim::CookedDirection::kIncoming, &p);
  };
  CHECK(decode(frame, 10) == FrameSkip::kLinkHeader);
  CHECK(decode(frame, 14 + 20 + 4) == FrameSkip::kSnaplen);  // the UDP header cut by the snaplen
  std::string frag = frame;
  frag[14 + 6] = 0x20;  // MF: a first fragment
  frag[14 + 10] = frag[14 + 11] = 0;
  CHECK(decode(frag, frag.size()) == FrameSkip::kIpHeader);  // its header checksum no longer verifies
  std::string arp = frame;
  arp[12] = 0x08;
  arp[13] = 0x06;
  CHECK(decode(arp, arp.size()) == FrameSkip::kNotIp);
  std::string shortened = frame.substr(0, frame.size() - 4);  // the IP length says more than the frame holds
  CHECK(decode_frame(ctsim::kLinkEthernet, reinterpret_cast<const uint8_t*>(shortened.data()), shortened.size(),
                     shortened.size(), ctsim::CookedDirection::kIncoming, &p) == FrameSkip::kIpLength);
}

TEST_CASE("an IPv4 fragment is skipped as a fragment") {
  std::string frame;
  encode_ethernet(parse("udp 1.2.3.4:1 > 5.6.7.8:2 len 10"), 0, &frame);
  frame[14 + 6] = 0x20;  // MF
  // Recompute the IPv4 header checksum for the changed flags.
  frame[14 + 10] = frame[14 + 11] = 0;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2)
    sum += static_cast<uint32_t>(static_cast<uint8_t>(frame[14 + i]) << 8 | static_cast<uint8_t>(frame[14 + i + 1]));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  frame[14 + 10] = static_cast<char>(~sum >> 8);
  frame[14 + 11] = static_cast<char>(~sum);
  ctcore::Packet p;
  CHECK(decode_frame(ctsim::kLinkEthernet, reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), frame.size(),
                     ctsim::CookedDirection::kIncoming, &p) == FrameSkip::kFragment);
}

TEST_CASE("Toeplitz with the symmetric key: both directions of a flow hash alike, and the key windows are right") {
  const ctcore::Packet a = parse("tcp 66.9.149.187:2794 > 161.142.100.80:1766 flags S");
  const ctcore::Packet b = parse("tcp 161.142.100.80:1766 > 66.9.149.187:2794 flags SA");
  CHECK(ctsim::rss_hash(a) == ctsim::rss_hash(b));
  const ctcore::Packet c = parse("tcp 66.9.149.187:2795 > 161.142.100.80:1766 flags S");
  CHECK(ctsim::rss_hash(a) != ctsim::rss_hash(c));
  // Input bit k selects key bits k..k+31: 0x80 (bit 0) the first 32.
  const uint8_t one[1] = {0x80};
  CHECK(ctsim::toeplitz_hash(one, 1) == 0x6d5a6d5au);
  const uint8_t two[1] = {0x01};
  CHECK(ctsim::toeplitz_hash(two, 1) == 0xad36ad36u);  // key bits 7..38
}

// The Toeplitz hash by its definition, bit by bit (input bit k selects key
// bits k..k+31, the key 0x6d5a repeated): the oracle for the table-driven
// toeplitz_hash.
namespace {
uint32_t toeplitz_by_bits(const uint8_t* input, size_t len) {
  auto key_bit = [](size_t k) -> uint32_t { return ((k / 8) % 2 == 0 ? 0x6d : 0x5a) >> (7 - k % 8) & 1u; };
  uint32_t result = 0;
  for (size_t k = 0; k < 8 * len; ++k) {
    if (((input[k / 8] >> (7 - k % 8)) & 1u) == 0) continue;
    uint32_t window = 0;
    for (size_t j = 0; j < 32; ++j) window = window << 1 | key_bit(k + j);
    result ^= window;
  }
  return result;
}

// A fixed pseudo-random byte source (xorshift32) for the bit-exactness tests.
struct Xorshift32 {
  uint32_t x;
  uint32_t operator()() {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  }
};
}  // namespace

TEST_CASE("the table-driven Toeplitz hash equals the bit-by-bit definition for every length RSS hashes") {
  Xorshift32 next{0x12345678u};  // deterministic inputs
  uint8_t in[36];
  int compared = 0;
  for (size_t len : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{8}, size_t{12}, size_t{32}, size_t{36}}) {
    for (int round = 0; round < 200; ++round) {
      for (uint8_t& b : in) b = static_cast<uint8_t>(next());
      CAPTURE(len);
      REQUIRE(ctsim::toeplitz_hash(in, len) == toeplitz_by_bits(in, len));
      ++compared;
    }
  }
  CHECK(compared == 8 * 200);
  // Every byte value at both parities of position.
  for (unsigned v = 0; v < 256; ++v) {
    const uint8_t two[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(255 - v)};
    CAPTURE(v);
    REQUIRE(ctsim::toeplitz_hash(two, 2) == toeplitz_by_bits(two, 2));
  }
}

TEST_CASE("csum_partial folds to RFC 1071's checksum for every length, start sum and all-zero or all-ones data") {
  // RFC 1071 as written: network-order 16-bit words, a trailing odd byte
  // padded with zero, added to the start sum.
  auto by_words = [](const uint8_t* d, size_t len, uint32_t sum) {
    uint64_t s = sum;
    for (size_t i = 0; i + 1 < len; i += 2) s += static_cast<uint32_t>(d[i]) << 8 | d[i + 1];
    if (len % 2 != 0) s += static_cast<uint32_t>(d[len - 1]) << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s & 0xffff);
  };
  Xorshift32 next{0x9e3779b9u};  // deterministic data
  uint8_t d[1500];
  int compared = 0;
  for (int fill = 0; fill < 3; ++fill) {  // random, zeros, ones
    for (size_t len = 0; len <= 200; ++len) {
      for (uint8_t& b : d) b = fill == 0 ? static_cast<uint8_t>(next()) : fill == 1 ? 0 : 0xff;
      for (uint32_t sum : {0u, 1u, 0xffffu, 0x1fffeu, next()}) {
        CAPTURE(fill);
        CAPTURE(len);
        CAPTURE(sum);
        REQUIRE(ctsim::csum_fold(ctsim::csum_partial(d, len, sum)) == by_words(d, len, sum));
        ++compared;
      }
    }
  }
  CHECK(compared == 3 * 201 * 5);
  // A full-size frame, and one sum carried into a second call.
  for (uint8_t& b : d) b = static_cast<uint8_t>(next());
  CHECK(ctsim::csum_fold(ctsim::csum_partial(d, sizeof d, 0)) == by_words(d, sizeof d, 0));
  CHECK(ctsim::csum_fold(ctsim::csum_partial(d + 700, 800, ctsim::csum_partial(d, 700, 0))) ==
        by_words(d, sizeof d, 0));
  // Longer than one run of vector steps (512 KiB: a lane would carry out
  // past it), all ones (the largest lane sums) and random, at an odd length.
  std::vector<uint8_t> big(1'100'001, 0xff);
  CHECK(ctsim::csum_fold(ctsim::csum_partial(big.data(), big.size(), 0)) == by_words(big.data(), big.size(), 0));
  for (uint8_t& b : big) b = static_cast<uint8_t>(next());
  CHECK(ctsim::csum_fold(ctsim::csum_partial(big.data(), big.size(), 7)) == by_words(big.data(), big.size(), 7));
  // ip_fast_csum: an IPv4 header of every length, random, zeros and ones,
  // equals RFC 1071 over its bytes; with its checksum field set from that,
  // it verifies (0).
  for (int fill = 0; fill < 3; ++fill) {
    for (unsigned ihl = 5; ihl <= 15; ++ihl) {
      for (int round = 0; round < 50; ++round) {
        for (uint8_t& b : d) b = fill == 0 ? static_cast<uint8_t>(next()) : fill == 1 ? 0 : 0xff;
        CAPTURE(fill);
        CAPTURE(ihl);
        REQUIRE(ctsim::ip_fast_csum(d, ihl) == by_words(d, ihl * 4, 0));
        d[10] = d[11] = 0;
        const uint16_t c = by_words(d, ihl * 4, 0);
        d[10] = static_cast<uint8_t>(c >> 8);
        d[11] = static_cast<uint8_t>(c);
        REQUIRE(ctsim::ip_fast_csum(d, ihl) == 0);
      }
    }
  }
  // The pseudo-header: both addresses, a zero byte, the protocol, the
  // layer-4 length as 32 bits (RFC 8200; as RFC 793 for IPv4 when it fits 16).
  for (size_t n : {size_t{4}, size_t{16}}) {
    for (int round = 0; round < 100; ++round) {
      for (uint8_t& b : d) b = static_cast<uint8_t>(next());
      const uint32_t len = next() % 70000;
      uint8_t ph[40] = {};
      std::memcpy(ph, d, n);
      std::memcpy(ph + n, d + 16, n);
      ph[2 * n + 1] = d[40];
      ph[2 * n + 2] = static_cast<uint8_t>(len >> 24);
      ph[2 * n + 3] = static_cast<uint8_t>(len >> 16);
      ph[2 * n + 4] = static_cast<uint8_t>(len >> 8);
      ph[2 * n + 5] = static_cast<uint8_t>(len);
      CAPTURE(n);
      REQUIRE(ctsim::csum_fold(ctsim::csum_pseudo(d, d + 16, n, d[40], len)) == by_words(ph, 2 * n + 6, 0));
    }
  }
}

TEST_CASE("raw IP, loopback/null and Linux cooked v1/v2 frames decode to the same packet") {
  const ctcore::Packet p = parse("udp 1.2.3.4:1000 > 5.6.7.8:53 len 12");
  std::string ip;
  ctsim::encode_ip(p, &ip);
  auto decode = [](int linktype, const std::string& f, ctsim::CookedDirection dir, ctcore::Packet* out) {
    return decode_frame(linktype, reinterpret_cast<const uint8_t*>(f.data()), f.size(), f.size(), dir, out);
  };
  ctcore::Packet out;
  const std::string want = ctsim::format_packet(p);
  for (int raw : {ctsim::kLinkRaw, 12, ctsim::kLinkIpv4}) {
    CAPTURE(raw);
    REQUIRE(decode(raw, ip, ctsim::CookedDirection::kIncoming, &out) == FrameSkip::kNone);
    CHECK(ctsim::format_packet(out) == want);
  }
  // Loopback: a 4-byte address family (host order for null, network for loop).
  for (int link : {ctsim::kLinkNull, ctsim::kLinkLoop}) {
    CAPTURE(link);
    REQUIRE(decode(link, std::string("\x02\0\0\0", 4) + ip, ctsim::CookedDirection::kIncoming, &out) ==
            FrameSkip::kNone);
    CHECK(ctsim::format_packet(out) == want);
  }
  // Cooked v1: packet type (0 host, 4 outgoing), ARPHRD, address, protocol.
  std::string sll1(16, '\0');
  sll1[14] = 0x08;
  const std::string in1 = sll1 + ip;
  REQUIRE(decode(ctsim::kLinkLinuxSll, in1, ctsim::CookedDirection::kIncoming, &out) == FrameSkip::kNone);
  CHECK(ctsim::format_packet(out) == want);
  CHECK(decode(ctsim::kLinkLinuxSll, in1, ctsim::CookedDirection::kOutgoing, &out) == FrameSkip::kOutgoing);
  // Cooked v2: protocol first, packet type at byte 10.
  std::string sll2(20, '\0');
  sll2[0] = 0x08;
  sll2[10] = 4;  // PACKET_OUTGOING
  const std::string out2 = sll2 + ip;
  CHECK(decode(ctsim::kLinkLinuxSll2, out2, ctsim::CookedDirection::kIncoming, &out) == FrameSkip::kOutgoing);
  REQUIRE(decode(ctsim::kLinkLinuxSll2, out2, ctsim::CookedDirection::kOutgoing, &out) == FrameSkip::kNone);
  CHECK(ctsim::format_packet(out) == want);
  CHECK(decode(147, ip, ctsim::CookedDirection::kIncoming, &out) == FrameSkip::kUnsupportedLink);
}
