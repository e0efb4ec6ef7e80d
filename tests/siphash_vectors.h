// tests/data/siphash/buckets.txt, read once for every test that checks
// buckets against it (the hash forms alone in siphash_test.cc, the core
// under the kernel profiles in kernel_hash_test.cc). The file is written by
// tests/data/siphash/gen_vectors.py, an implementation independent of ctsim's.
#ifndef CTSIM_TESTS_SIPHASH_VECTORS_H_
#define CTSIM_TESTS_SIPHASH_VECTORS_H_

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "core/siphash.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/siphash_key_hex.h"
#include "tests/run_util.h"

namespace ctest {

inline std::string read_source_text(const std::string& rel) {
  std::ifstream in(source_path(rel));
  REQUIRE_MESSAGE(in.good(), rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A tuple as buckets.txt writes it: proto src dst a b, where a, b are the
// ports (tcp/udp) or the echo id and "type/code" (icmp, icmpv6).
inline ctcore::nf_conntrack_tuple vector_tuple(const std::string& proto, const std::string& src, const std::string& dst,
                                               const std::string& a, const std::string& b) {
  ctcore::nf_conntrack_tuple t;
  uint16_t l3_src = 0, l3_dst = 0;
  REQUIRE_MESSAGE(ctsim::parse_address(src, &t.src.u3, &l3_src), src);
  REQUIRE_MESSAGE(ctsim::parse_address(dst, &t.dst.u3, &l3_dst), dst);
  REQUIRE(l3_src == l3_dst);
  t.src.l3num = l3_src;
  if (proto == "icmp" || proto == "icmpv6") {
    t.dst.protonum = proto == "icmp" ? ctcore::IPPROTO_ICMP_ : ctcore::IPPROTO_ICMPV6_;
    const size_t slash = b.find('/');
    REQUIRE(slash != std::string::npos);
    t.set_icmp(static_cast<uint8_t>(std::stoul(b.substr(0, slash))),
               static_cast<uint8_t>(std::stoul(b.substr(slash + 1))), static_cast<uint16_t>(std::stoul(a)));
  } else {
    REQUIRE((proto == "tcp" || proto == "udp"));
    t.dst.protonum = proto == "tcp" ? ctcore::IPPROTO_TCP_ : ctcore::IPPROTO_UDP_;
    t.set_sport(static_cast<uint16_t>(std::stoul(a)));
    t.set_dport(static_cast<uint16_t>(std::stoul(b)));
  }
  return t;
}

struct HashVector {
  int line_no;
  std::string line;
  std::string form;  // "H1", "H2", "H3"
  ctcore::nf_conntrack_tuple tuple;
  uint32_t zone, net_hash_mix, raw;
  std::vector<uint32_t> buckets;  // one per HashVectors::sizes
};

struct HashVectors {
  ctcore::siphash_key_t key;
  std::vector<uint32_t> sizes;
  std::vector<HashVector> lines;
};

inline HashVectors load_hash_vectors() {
  std::istringstream in(read_source_text("tests/data/siphash/buckets.txt"));
  HashVectors out;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    CAPTURE(line_no);
    CAPTURE(line);
    std::istringstream f(line);
    std::string head;
    f >> head;
    if (head == "key") {
      std::string hex;
      f >> hex;
      auto k = ctsim::parse_siphash_key_hex(hex);
      REQUIRE(k.ok());
      out.key = *k;
      continue;
    }
    if (head == "sizes") {
      for (uint32_t s; f >> s;) out.sizes.push_back(s);
      continue;
    }
    REQUIRE(out.key != ctcore::siphash_key_t{});
    REQUIRE(out.sizes.size() >= 2);
    HashVector v{line_no, line, head, {}, 0, 0, 0, {}};
    std::string proto, src, dst, a, b, raw_hex;
    REQUIRE(static_cast<bool>(f >> proto >> src >> dst >> a >> b >> v.zone >> v.net_hash_mix >> raw_hex));
    v.tuple = vector_tuple(proto, src, dst, a, b);
    v.raw = static_cast<uint32_t>(std::stoul(raw_hex, nullptr, 16));
    for (size_t i = 0; i < out.sizes.size(); ++i) {
      uint32_t bucket = 0;
      REQUIRE(static_cast<bool>(f >> bucket));
      v.buckets.push_back(bucket);
    }
    out.lines.push_back(std::move(v));
  }
  return out;
}

}  // namespace ctest

#endif  // CTSIM_TESTS_SIPHASH_VECTORS_H_
