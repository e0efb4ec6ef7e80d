// jhash, jhash2 and hash_conntrack_raw against tests/data/hash-vectors.json:
// reference values computed by an independent lookup3 implementation. A
// mismatch here means the table's bucket numbers (and so every trace) differ
// from an x86 v5.10 kernel's.
#include <doctest/doctest.h>

// GCC 12 at -O2 reports a false -Warray-bounds inside nlohmann::json's
// parser (std::map inlined through basic_json::set_parents with
// JSON_DIAGNOSTICS); it is not in this file's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
#include <nlohmann/json.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/jhash.h"
#include "tests/core_harness.h"

using namespace ctest;
using json = nlohmann::json;

namespace {

json load_vectors() {
  std::ifstream in(std::string(CTSIM_SOURCE_DIR) + "/tests/data/hash-vectors.json");
  REQUIRE(in.good());
  return json::parse(in);
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Dotted IPv4 or RFC 4291 IPv6 text to the address as the tuple stores it
// (network-order bytes, read little-endian per 32-bit word).
nf_inet_addr parse_addr(const std::string& s, uint16_t* l3num) {
  uint8_t bytes[16] = {};
  if (s.find(':') == std::string::npos) {
    *l3num = NFPROTO_IPV4;
    unsigned a, b, c, d;
    REQUIRE(std::sscanf(s.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
    bytes[0] = static_cast<uint8_t>(a);
    bytes[1] = static_cast<uint8_t>(b);
    bytes[2] = static_cast<uint8_t>(c);
    bytes[3] = static_cast<uint8_t>(d);
  } else {
    *l3num = NFPROTO_IPV6;
    // Split at "::" (at most once), fill groups from both ends.
    auto groups = [](const std::string& part) {
      std::vector<uint16_t> g;
      size_t pos = 0;
      while (pos < part.size()) {
        size_t end = part.find(':', pos);
        if (end == std::string::npos) end = part.size();
        g.push_back(static_cast<uint16_t>(std::stoul(part.substr(pos, end - pos), nullptr, 16)));
        pos = end + 1;
      }
      return g;
    };
    size_t dc = s.find("::");
    std::vector<uint16_t> head, tail;
    if (dc == std::string::npos) {
      head = groups(s);
    } else {
      head = groups(s.substr(0, dc));
      tail = groups(s.substr(dc + 2));
    }
    REQUIRE(head.size() + tail.size() <= 8);
    std::vector<uint16_t> all(8, 0);
    for (size_t i = 0; i < head.size(); ++i) all[i] = head[i];
    for (size_t i = 0; i < tail.size(); ++i) all[8 - tail.size() + i] = tail[i];
    for (size_t i = 0; i < 8; ++i) {
      bytes[2 * i] = static_cast<uint8_t>(all[i] >> 8);
      bytes[2 * i + 1] = static_cast<uint8_t>(all[i] & 0xff);
    }
  }
  nf_inet_addr addr;
  for (int w = 0; w < 4; ++w) {
    addr.all[w] = static_cast<uint32_t>(bytes[4 * w]) | (static_cast<uint32_t>(bytes[4 * w + 1]) << 8) |
                  (static_cast<uint32_t>(bytes[4 * w + 2]) << 16) | (static_cast<uint32_t>(bytes[4 * w + 3]) << 24);
  }
  return addr;
}

uint8_t proto_number(const std::string& name) {
  if (name == "tcp") return IPPROTO_TCP_;
  if (name == "udp") return IPPROTO_UDP_;
  if (name == "udplite") return IPPROTO_UDPLITE_;
  if (name == "sctp") return IPPROTO_SCTP_;
  if (name == "dccp") return IPPROTO_DCCP_;
  FAIL("unknown proto " << name);
  return 0;
}

std::string to_hex(const void* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<const uint8_t*>(p)[i];
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("jhash matches lookup3 hashlittle for every reference vector") {
  const json v = load_vectors();
  REQUIRE(v.at("jhash").size() >= 5);
  for (const auto& e : v.at("jhash")) {
    std::vector<uint8_t> key = from_hex(e.at("key_hex").get<std::string>());
    const uint32_t initval = e.at("initval").get<uint32_t>();
    CAPTURE(e.at("key_hex").get<std::string>());
    CAPTURE(initval);
    CHECK(jhash(key.data(), static_cast<uint32_t>(key.size()), initval) == e.at("hash").get<uint32_t>());
  }
}

TEST_CASE("jhash of an empty key is the seeded constant") {
  // len 0 skips final(): the result is 0xdeadbeef + initval.
  CHECK(jhash(nullptr, 0, 0) == 0xdeadbeefu);
  CHECK(jhash(nullptr, 0, 1) == 0xdeadbef0u);
}

TEST_CASE("jhash2 matches lookup3 hashword for every reference vector") {
  const json v = load_vectors();
  REQUIRE(v.at("jhash2").size() >= 10);
  for (const auto& e : v.at("jhash2")) {
    std::vector<uint32_t> words = e.at("words").get<std::vector<uint32_t>>();
    const uint32_t initval = e.at("initval").get<uint32_t>();
    CAPTURE(words.size());
    CAPTURE(initval);
    CHECK(jhash2(words.data(), static_cast<uint32_t>(words.size()), initval) == e.at("hash").get<uint32_t>());
  }
}

TEST_CASE("jhash2 over 9 words agrees with jhash over the same 36 bytes on x86") {
  // On a little-endian CPU hashword and hashlittle differ only in the
  // length term (words*4 vs bytes), which is the same for 36 bytes.
  uint32_t words[9];
  for (uint32_t i = 0; i < 9; ++i) words[i] = 0x01020304u * (i + 1) ^ 0x9e3779b9u;
  CHECK(jhash2(words, 9, 77) == jhash(words, 36, 77));
}

TEST_CASE("hash_conntrack_raw and bucket match every reference tuple") {
  const json v = load_vectors();
  const auto& entries = v.at("hash_conntrack_raw");
  REQUIRE(entries.size() >= 20);
  unsigned ipv6 = 0;
  for (const auto& e : entries) {
    const std::string src = e.at("src").get<std::string>();
    const std::string dst = e.at("dst").get<std::string>();
    CAPTURE(src);
    CAPTURE(dst);
    CAPTURE(e.at("proto").get<std::string>());

    uint16_t l3a = 0, l3b = 0;
    Packet p;
    p.saddr = parse_addr(src, &l3a);
    p.daddr = parse_addr(dst, &l3b);
    REQUIRE(l3a == l3b);
    if (l3a == NFPROTO_IPV6) ++ipv6;
    p.l3num = l3a;
    p.protonum = proto_number(e.at("proto").get<std::string>());
    p.sport = e.at("sport").get<uint16_t>();
    p.dport = e.at("dport").get<uint16_t>();

    nf_conntrack_tuple t;
    REQUIRE(nf_ct_get_tuple(p, &t, ctcore::kernel_profile{}));
    // The 40 bytes as the kernel lays them out (little-endian host).
    unsigned char raw[sizeof(nf_conntrack_tuple)];
    std::memcpy(raw, &t, sizeof raw);
    CHECK(to_hex(raw, sizeof raw) == e.at("tuple_hex").get<std::string>());

    const uint32_t want = e.at("hash").get<uint32_t>();
    for (const auto& [size_text, bucket] : e.at("bucket").items()) {
      const uint32_t size = static_cast<uint32_t>(std::stoul(size_text));
      ManualClock clock;
      TestWorkqueue wq(clock);
      Conntrack ct({size, 0, e.at("hash_rnd").get<uint32_t>(), 1}, clock, wq);
      net& n = ct.net_add("n", e.at("hash_mix").get<uint32_t>());
      CHECK(ct.hash_conntrack_raw(t, n) == want);
      CAPTURE(size);
      CHECK(ct.scale_hash(want) == bucket.get<uint32_t>());
      CHECK(reciprocal_scale(want, size) == bucket.get<uint32_t>());
    }
  }
  CHECK(ipv6 > 0);
}

TEST_CASE("jhash_1word/2words/3words are the final() of seeded words") {
  // jhash_3words(a, b, c, iv) equals jhash2 of {a, b, c} with initval iv:
  // both add iv + 0xdeadbeef + 12 to each word and run final().
  const uint32_t w[3] = {0x11111111, 0x22222222, 0x33333333};
  CHECK(jhash_3words(w[0], w[1], w[2], 5) == jhash2(w, 3, 5));
  // The 2- and 1-word forms use the constant for their own length and
  // zeros for the missing words (jhash2 with len 2 does the same).
  CHECK(jhash_2words(w[0], w[1], 5) == jhash2(w, 2, 5));
  CHECK(jhash_1word(w[0], 5) == jhash2(w, 1, 5));
}
