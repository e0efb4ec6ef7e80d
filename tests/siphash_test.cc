// SipHash-2-4 (core/siphash.h) against the paper's 64 reference vectors, the
// three siphash forms of hash_conntrack_raw (core/nf_conntrack_hash_forms.h)
// against tests/data/siphash/buckets.txt, and the key's hex notation
// (sim/scenario/siphash_key_hex.h). buckets.txt is written by
// tests/data/siphash/gen_vectors.py, an independent Python implementation
// that checks itself against the same reference vectors; a mismatch here
// means ctsim's buckets under a 5.15+ profile would differ from an x86
// kernel's with the same key.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/jhash.h"
#include "core/nf_conntrack_hash_forms.h"
#include "core/siphash.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/siphash_key_hex.h"
#include "tests/run_util.h"
#include "tests/siphash_vectors.h"

using namespace ctcore;

namespace {

const std::string kGenerator = "tests/data/siphash/gen_vectors.py";

using ctest::read_source_text;

// The reference vectors as gen_vectors.py lists them (one copy in the
// repository): 64 groups of 16 hex digits, the 8 output bytes in order.
std::vector<std::string> reference_vectors() {
  const std::string py = read_source_text(kGenerator);
  const std::string open = "REFERENCE_VECTORS = \"\"\"";
  const size_t begin = py.find(open);
  REQUIRE(begin != std::string::npos);
  const size_t end = py.find("\"\"\"", begin + open.size());
  REQUIRE(end != std::string::npos);
  std::istringstream in(py.substr(begin + open.size(), end - begin - open.size()));
  std::vector<std::string> out;
  for (std::string v; in >> v;) out.push_back(v);
  return out;
}

std::string le_hex(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) {
    static const char* digits = "0123456789abcdef";
    const auto b = static_cast<unsigned>((v >> (8 * i)) & 0xff);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

siphash_key_t reference_key() {
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(i);
  return siphash_key_from_bytes(bytes);
}

using HashForm = uint32_t (*)(const nf_conntrack_tuple&, uint32_t, uint32_t, const siphash_key_t&);
const std::map<std::string, HashForm> kForms = {
    {"H1", hash_conntrack_raw_siphash_struct},
    {"H2", hash_conntrack_raw_siphash_4u64},
    {"H3", hash_conntrack_raw_siphash_tuple},
};

nf_conntrack_tuple tuple_of(const std::string& proto, const std::string& src, const std::string& dst,
                            const std::string& a, const std::string& b) {
  return ctest::vector_tuple(proto, src, dst, a, b);
}

}  // namespace

TEST_CASE("siphash matches the paper's 64 SipHash-2-4 reference vectors, every tail length") {
  const std::vector<std::string> want = reference_vectors();
  REQUIRE(want.size() == 64);
  const siphash_key_t key = reference_key();
  uint8_t msg[64];
  for (int i = 0; i < 64; ++i) msg[i] = static_cast<uint8_t>(i);
  for (size_t n = 0; n < 64; ++n) {
    CAPTURE(n);
    CHECK(le_hex(siphash(msg, n, key)) == want[n]);
  }
}

TEST_CASE("the key's words are its memory bytes read little-endian") {
  const siphash_key_t key = reference_key();
  CHECK(key.key[0] == 0x0706050403020100ull);
  CHECK(key.key[1] == 0x0f0e0d0c0b0a0908ull);
}

TEST_CASE("siphash_4u64 is siphash over the four words' little-endian bytes") {
  const siphash_key_t key = reference_key();
  uint8_t msg[32];
  for (int i = 0; i < 32; ++i) msg[i] = static_cast<uint8_t>(i);
  // Message 00..1f as words: the reference vector of length 32.
  CHECK(le_hex(siphash_4u64(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, 0x1716151413121110ull, 0x1f1e1d1c1b1a1918ull,
                            key)) == reference_vectors().at(32));
  CHECK(siphash_4u64(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, 0x1716151413121110ull, 0x1f1e1d1c1b1a1918ull, key) ==
        siphash(msg, 32, key));
  // Word order matters (a and b swapped is another hash).
  CHECK(siphash_4u64(1, 2, 3, 4, key) != siphash_4u64(2, 1, 3, 4, key));
}

TEST_CASE("H1, H2 and H3 give buckets.txt's raw hashes and buckets for every tuple, zone and net_hash_mix") {
  const ctest::HashVectors vectors = ctest::load_hash_vectors();
  std::map<std::string, int> checked;
  for (const ctest::HashVector& v : vectors.lines) {
    CAPTURE(v.line_no);
    CAPTURE(v.line);
    REQUIRE(kForms.count(v.form) == 1);
    const uint32_t raw = kForms.at(v.form)(v.tuple, v.zone, v.net_hash_mix, vectors.key);
    CHECK(raw == v.raw);
    for (size_t i = 0; i < vectors.sizes.size(); ++i) CHECK(reciprocal_scale(raw, vectors.sizes[i]) == v.buckets[i]);
    ++checked[v.form];
  }
  // Every form has its vectors (a truncated file cannot pass).
  // (No structured binding: clang 14 cannot capture one in CAPTURE's lambda.)
  for (const auto& form : kForms) {
    CAPTURE(form.first);
    CHECK(checked[form.first] == 50);
  }
}

TEST_CASE("no hash form reads the tuple's direction byte, and each reads zone and net_hash_mix") {
  const siphash_key_t key = *ctsim::parse_siphash_key_hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  nf_conntrack_tuple t = tuple_of("udp", "2001:db8::1", "2001:db8::2", "53", "33000");
  for (const auto& form : kForms) {
    CAPTURE(form.first);
    const HashForm fn = form.second;
    nf_conntrack_tuple reply_dir = t;
    reply_dir.dst.dir = IP_CT_DIR_REPLY;
    CHECK(fn(t, 5, 9, key) == fn(reply_dir, 5, 9, key));
    CHECK(fn(t, 5, 9, key) != fn(t, 6, 9, key));
    CHECK(fn(t, 5, 9, key) != fn(t, 5, 10, key));
    CHECK(fn(t, 5, 9, key) != fn(t, 9, 5, key));
  }
}

TEST_CASE("H2 does not hash l3num: an IPv4 tuple and the same words as IPv6 collide (H1 and H3 tell them apart)") {
  // kernel-profiles H2: "l3num is not hashed". IPv4 leaves all[1..3] zero,
  // so the IPv6 address with the same first word and zeros collides.
  const siphash_key_t key = *ctsim::parse_siphash_key_hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  const nf_conntrack_tuple v4 = tuple_of("tcp", "192.0.2.1", "198.51.100.2", "40000", "443");
  const nf_conntrack_tuple v6 = tuple_of("tcp", "c000:201::", "c633:6402::", "40000", "443");
  CHECK(hash_conntrack_raw_siphash_4u64(v4, 0, 0, key) == hash_conntrack_raw_siphash_4u64(v6, 0, 0, key));
  CHECK(hash_conntrack_raw_siphash_struct(v4, 0, 0, key) != hash_conntrack_raw_siphash_struct(v6, 0, 0, key));
  CHECK(hash_conntrack_raw_siphash_tuple(v4, 0, 0, key) != hash_conntrack_raw_siphash_tuple(v6, 0, 0, key));
}

TEST_CASE("parse_siphash_key_hex: 32 hex digits in memory order, printed back the same") {
  auto k = ctsim::parse_siphash_key_hex("000102030405060708090A0B0C0D0E0F");
  REQUIRE(k.ok());
  CHECK(*k == reference_key());
  CHECK(ctsim::format_siphash_key_hex(*k) == "000102030405060708090a0b0c0d0e0f");
  const std::string text = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  auto r = ctsim::parse_siphash_key_hex(text);
  REQUIRE(r.ok());
  CHECK(r->key[0] == 0x78695a4b3c2d1e0full);
  CHECK(r->key[1] == 0xf0e1d2c3b4a59687ull);
  CHECK(ctsim::format_siphash_key_hex(*r) == text);
}

TEST_CASE("parse_siphash_key_hex refuses what is not 32 hex digits, saying where") {
  struct Bad {
    const char* text;
    size_t column;
    const char* says;
  };
  for (const Bad& bad : {Bad{"", 0, "0 hex digits, expected 32"}, Bad{"0011", 0, "4 hex digits, expected 32"},
                         Bad{"000102030405060708090a0b0c0d0e0f00", 32, "34 hex digits, expected 32"},
                         Bad{"0x0102030405060708090a0b0c0d0e0f", 1, "'x' is not a hex digit"},
                         Bad{"000102030405060708090a0b0c0d0e0g", 31, "'g' is not a hex digit"},
                         Bad{"00010203 0405060708090a0b0c0d0e0f", 8, "' ' is not a hex digit"}}) {
    CAPTURE(bad.text);
    auto r = ctsim::parse_siphash_key_hex(bad.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().column == bad.column);
    CHECK(r.error().what.find(bad.says) != std::string::npos);
  }
}
