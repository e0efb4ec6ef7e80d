// The hash and table rows of the kernel profiles (docs/KERNELS.md, "Hash,
// chains, sizing and clashes"): H1-H3, Z1, C1-C3, S1, K1, K2. Each case runs
// the same sequence under a profile before and after the change and pins
// both outcomes, so it fails if the core ignores the switch.
// Before <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/jhash.h"
#include "core/nf_conntrack_hash_forms.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "sim/output/conntrack_tool_format.h"
#include "sim/scenario/scenario.h"
#include "tests/core_harness.h"
#include "tests/kernel_profile_util.h"
#include "tests/core_test_util.h"
#include "tests/run_util.h"
#include "tests/siphash_vectors.h"

using namespace ctest;

namespace {

ConntrackConfig config(const kernel_profile& p, uint32_t buckets = 1024, uint32_t max = 1u << 20,
                       siphash_key_t key = {}) {
  ConntrackConfig cfg{buckets, max, 0x12345678, 2};
  cfg.profile = p;
  cfg.siphash_rnd = key;
  return cfg;
}

// The first packet of the vector's flow (a SYN for TCP).
Packet packet_of(const nf_conntrack_tuple& t) {
  Packet p;
  p.l3num = t.src.l3num;
  p.saddr = t.src.u3;
  p.daddr = t.dst.u3;
  p.protonum = t.dst.protonum;
  p.sport = t.sport();
  p.dport = t.dport();
  if (p.protonum == IPPROTO_TCP_) {
    p.tcp_flags = TCPHDR_SYN;
    p.seq = 1000;
    p.window = 64240;
  }
  return p;
}

// Every TCP/UDP vector of `form` with zone 0 (ctsim has no zones, row Z1)
// through a core of `profile`: its raw hash, the bucket of each table size,
// and where confirm links the conn's ORIGINAL node. Returns how many
// vectors were checked.
int check_vectors(const char* form, const kernel_profile& profile) {
  const HashVectors vectors = load_hash_vectors();
  int checked = 0;
  for (const HashVector& v : vectors.lines) {
    if (v.form != form || v.zone != 0) continue;
    if (v.tuple.dst.protonum != IPPROTO_TCP_ && v.tuple.dst.protonum != IPPROTO_UDP_) continue;
    CAPTURE(v.line_no);
    CAPTURE(v.line);
    for (size_t i = 0; i < vectors.sizes.size(); ++i) {
      CAPTURE(vectors.sizes[i]);
      ManualClock clock(250);
      TestWorkqueue wq(clock);
      Conntrack ct(config(profile, vectors.sizes[i], 1u << 20, vectors.key), clock, wq);
      net& n = ct.net_add("init", v.net_hash_mix);
      CHECK(ct.hash_conntrack_raw(v.tuple, n) == v.raw);
      Packet p = packet_of(v.tuple);
      REQUIRE(ct.nf_conntrack_in(n, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
      REQUIRE(ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
      REQUIRE(p.ct != nullptr);
      CHECK(p.ct->hashed_at.orig == v.buckets[i]);
      ct.nf_reset_ct(p);
    }
    ++checked;
  }
  return checked;
}

// `ctsim run` of a scenario given as text, with `args` (outputs to "-").
RunResult run_scenario_text(const std::string& json, const std::string& args) {
  const std::string path = temp_dir() + "/s.json";
  write_file(path, json);
  return run_ctsim("run " + shell_quote(path) + " " + args);
}

}  // namespace

TEST_CASE("H1: under 6.1 conns land in the buckets of the independent vectors; 5.10's jhash2 puts them elsewhere") {
  CHECK(named("6.1").hash == ct_hash_form::kSiphashStruct);
  CHECK(check_vectors("H1", named("6.1")) >= 10);
  // The same tuple under 5.10 (same key bytes, jhash2): another raw hash.
  const HashVectors vectors = load_hash_vectors();
  const HashVector& v = vectors.lines.front();
  World w510(config(named("5.10"), 1024, 4096, vectors.key));
  World w61(config(named("6.1"), 1024, 4096, vectors.key));
  CHECK(w510.ct.hash_conntrack_raw(v.tuple, w510.init) != w61.ct.hash_conntrack_raw(v.tuple, w61.init));
}

TEST_CASE("H2: with hash = siphash_4u64 (6.2 .. 6.4.4) conns land in the vectors' H2 buckets") {
  kernel_profile p = named("6.1");
  p.hash = ct_hash_form::kSiphash4u64;
  CHECK(check_vectors("H2", p) >= 10);
}

TEST_CASE("H3: under 6.6 and 6.18 conns land in the buckets of the independent vectors") {
  CHECK(named("6.6").hash == ct_hash_form::kSiphashTuple);
  CHECK(check_vectors("H3", named("6.6")) >= 10);
  CHECK(check_vectors("H3", named("6.18")) >= 10);
}

TEST_CASE("H1: NAT's hash_by_src is siphash of {src, net_mix, protonum, zone} under 5.15+, jhash2 under 5.10") {
  struct Words final : PrandomSource {
    uint32_t next = 0x11111111;
    uint32_t prandom_u32() override { return next += 0x01020304; }
  };
  const nf_conntrack_tuple t = tuple_of(udp_packet(ipv4(198, 18, 10, 1), 40000, ipv4(198, 18, 10, 2), 53));
  NfConnSlab slab;
  NfNatBysource jhash(slab, 4096, false), sip(slab, 4096, true);
  Words r1, r2;
  const uint32_t b_jhash = jhash.hash_by_src(t, 7, r1);
  const uint32_t b_sip = sip.hash_by_src(t, 7, r2);
  // The key is get_random_once()'s 16 bytes: four draws, low word first.
  Words r3;
  siphash_key_t key;
  const uint64_t w0 = r3.prandom_u32(), w1 = r3.prandom_u32(), w2 = r3.prandom_u32(), w3 = r3.prandom_u32();
  key.key[0] = w0 | w1 << 32;
  key.key[1] = w2 | w3 << 32;
  CHECK(b_sip == reciprocal_scale(hash_by_src_siphash(t, 0, 7, key), 4096));
  CHECK(b_jhash != b_sip);
  // The key is drawn once: the same source maps the same way later.
  CHECK(sip.hash_by_src(t, 7, r2) == b_sip);
}

TEST_CASE(
    "Z1: ctsim has no zones: the siphash forms take zone id 0, so one tuple in two namespaces differs only by "
    "net_hash_mix") {
  const HashVectors vectors = load_hash_vectors();
  World w(config(named("6.18"), 1024, 4096, vectors.key));
  net& other = w.ct.net_add("other", 99);
  const nf_conntrack_tuple t = tuple_of(udp_packet(ipv4(198, 18, 10, 1), 40000, ipv4(198, 18, 10, 2), 53));
  CHECK(w.ct.hash_conntrack_raw(t, w.init) == hash_conntrack_raw_siphash_tuple(t, 0, 0, vectors.key));
  CHECK(w.ct.hash_conntrack_raw(t, other) == hash_conntrack_raw_siphash_tuple(t, 0, 99, vectors.key));
  CHECK(w.ct.hash_conntrack_raw(t, w.init) != hash_conntrack_raw_siphash_tuple(t, 1, 0, vectors.key));
}

namespace {

struct ChainRun {
  uint32_t accepted = 0, refused = 0, longest = 0;
  ip_conntrack_stat st;
};

// `k` new UDP conns whose ORIGINAL tuples share one bucket, each forwarded
// once: how many got in, how many were refused, the chain's longest length.
ChainRun flood_one_bucket(const kernel_profile& p, size_t k) {
  const HashVectors vectors = load_hash_vectors();
  World w(config(p, 64, 1u << 20, vectors.key));
  uint32_t bucket = 0;
  const std::vector<Packet> flood = colliding_udp(w.ct, w.init, k, &bucket);
  ChainRun r;
  for (const Packet& pkt : flood) {
    if (w.forward(pkt) == NF_ACCEPT) {
      ++r.accepted;
    } else {
      ++r.refused;
    }
    r.longest = std::max(r.longest, static_cast<uint32_t>(chain_walk(w.ct, bucket).size()));
  }
  for (uint16_t c = 0; c < w.ct.cpus(); ++c) r.st += w.ct.stat(w.init, c);
  CHECK(w.invariants() == "");
  return r;
}

}  // namespace

TEST_CASE("C1: a chain longer than the drawn limit refuses the insertion (chaintoolong, insert_failed, NF_DROP)") {
  // 5.10: no limit; all 150 conns share the chain.
  const ChainRun v510 = flood_one_bucket(named("5.10"), 150);
  CHECK(v510.accepted == 150);
  CHECK(v510.longest == 150);
  CHECK(v510.st.insert_failed == 0);
  CHECK(v510.st.chaintoolong == 0);
  // 6.18: max_chainlen = 50 + [0,30): a walk past more than max + 1 entries
  // refuses, so the chain never exceeds 81 and always reaches 51.
  const ChainRun v618 = flood_one_bucket(named("6.18"), 150);
  CHECK(v618.longest <= 81);
  CHECK(v618.longest >= 52);
  CHECK(v618.accepted == v618.longest);
  CHECK(v618.refused == 150 - v618.accepted);
  CHECK(v618.st.chaintoolong == v618.refused);
  CHECK(v618.st.insert_failed == v618.refused);
  CHECK(v618.st.drop == 0);  // the chaintoolong exit does not count drop
  // 6.1: 8 + [0,24): never more than 33.
  const ChainRun v61 = flood_one_bucket(named("6.1"), 150);
  CHECK(v61.longest <= 33);
  CHECK(v61.longest >= 10);
  CHECK(v61.st.chaintoolong == v61.refused);
  CHECK(v61.refused >= 150 - 33);
}

TEST_CASE("C2: conntrack -S ends with chaintoolong and /proc column 8 is chainlength, as the live 6.18 kernel prints") {
  ip_conntrack_stat st;
  const std::string live_s = read_source_text("tests/data/kernel-lab/hash/conntrack-S.txt");
  const std::string live_proc = read_source_text("tests/data/kernel-lab/hash/proc-stat.txt");
  // The live lines (all counters 0 in the lab's fresh namespace).
  CHECK(live_s.find(ctsim::format_stat_line(0, st, named("6.18").stat_chaintoolong) + "\n") == 0);
  CHECK(live_proc.find(ctsim::format_proc_stat_header(named("6.18").stat_chaintoolong) + "\n") == 0);
  CHECK(live_proc.find(ctsim::format_proc_stat_line(1, st, true) + "\n") != std::string::npos);
  // 5.10: no chaintoolong, column 8 delete_list (always 0).
  CHECK_FALSE(named("5.10").stat_chaintoolong);
  st.chaintoolong = 5;
  CHECK(ctsim::format_stat_line(0, st, false).find("chaintoolong") == std::string::npos);
  CHECK(ctsim::format_stat_line(0, st, true).ends_with("clash_resolve=0 chaintoolong=5 "));
  CHECK(ctsim::format_proc_stat_header(false).find(" delete_list ") != std::string::npos);
  CHECK(ctsim::format_proc_stat_line(0, st, false).substr(0, 72) ==
        "00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000");
  CHECK(ctsim::format_proc_stat_line(0, st, true).substr(0, 72) ==
        "00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000005");
}

TEST_CASE("C2: the trace's stats and end records list chaintoolong only under a profile that has it") {
  const std::string scenario = R"({"ctsim": 1, "kernel": "KERNEL", "table": {"buckets": 64},
    "packets": [{"at": "0s", "pkt": "udp 198.18.10.1:40000 > 198.18.10.2:53"}]})";
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    std::string text = scenario;
    text.replace(text.find("KERNEL"), 6, kernel);
    const RunResult r = run_scenario_text(text, "--stats -");
    REQUIRE(r.code == 0);
    CHECK((r.out.find("\"chaintoolong\":0") != std::string::npos) == (std::string(kernel) == "6.18"));
    CHECK(r.out.find("\"clash_resolve\":0") != std::string::npos);
  }
}

TEST_CASE("C3: a SYN reopening a TIME_WAIT conn counts invalid under 5.10, not under 6.1 (5.17+)") {
  for (const char* kernel : {"5.10", "6.1"}) {
    CAPTURE(kernel);
    World w(config(named(kernel)));
    const nf_inet_addr c = ipv4(198, 18, 10, 1), s = ipv4(198, 18, 10, 2);
    auto orig = [&](uint8_t f, uint32_t seq, uint32_t ack) { return tcp_packet(c, 40000, s, 80, f, seq, ack); };
    auto reply = [&](uint8_t f, uint32_t seq, uint32_t ack) { return tcp_packet(s, 80, c, 40000, f, seq, ack); };
    REQUIRE(w.forward(orig(TCPHDR_SYN, 1000, 0)) == NF_ACCEPT);
    REQUIRE(w.forward(reply(TCPHDR_SYN | TCPHDR_ACK, 5000, 1001)) == NF_ACCEPT);
    REQUIRE(w.forward(orig(TCPHDR_ACK, 1001, 5001)) == NF_ACCEPT);
    REQUIRE(w.forward(orig(TCPHDR_FIN | TCPHDR_ACK, 1001, 5001)) == NF_ACCEPT);
    REQUIRE(w.forward(reply(TCPHDR_FIN | TCPHDR_ACK, 5001, 1002)) == NF_ACCEPT);
    nf_conn* old = nullptr;
    REQUIRE(w.forward(orig(TCPHDR_ACK, 1002, 5002), nullptr, 0, &old) == NF_ACCEPT);
    REQUIRE(old != nullptr);
    REQUIRE(old->proto.tcp.state == TCP_CONNTRACK_TIME_WAIT);
    const uint64_t created = w.ct.conns_created();
    const uint32_t invalid_before = w.ct.stat(w.init, 0).invalid;
    nf_conn* fresh = nullptr;
    REQUIRE(w.forward(orig(TCPHDR_SYN, 90000, 0), nullptr, 0, &fresh) == NF_ACCEPT);
    // Both kernels reopen: the old conn is killed and the SYN makes a new one.
    CHECK(w.ct.conns_created() == created + 1);
    REQUIRE(fresh != nullptr);
    CHECK(fresh->proto.tcp.state == TCP_CONNTRACK_SYN_SENT);
    const uint32_t counted = w.ct.stat(w.init, 0).invalid - invalid_before;
    CHECK(counted == (std::string(kernel) == "5.10" ? 1u : 0u));
  }
}

TEST_CASE(
    "S1: the default table follows the memory: 5.10 caps 16384/65536 and max 4x, 5.15+ caps 65536/262144 and max 1x") {
  constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
  CHECK(nf_conntrack_default_buckets(24 * GiB, ct_sizing::kV510) == 65536);
  CHECK(nf_conntrack_default_buckets(24 * GiB, ct_sizing::kV515) == 262144);
  CHECK(nf_conntrack_default_buckets(2 * GiB, ct_sizing::kV510) == 16384);
  CHECK(nf_conntrack_default_buckets(2 * GiB, ct_sizing::kV515) == 65536);
  CHECK(nf_conntrack_default_buckets(512 * MiB, ct_sizing::kV515) == 4096);  // 512 MiB / 16 KiB / 8
  CHECK(nf_conntrack_default_buckets(16 * MiB, ct_sizing::kV510) == 512);    // 128 -> page rounding
  CHECK(nf_conntrack_default_buckets(16 * MiB, ct_sizing::kV515) == 1024);   // the 5.15 floor
  CHECK(nf_conntrack_default_max_factor(ct_sizing::kV510, false) == 4);
  CHECK(nf_conntrack_default_max_factor(ct_sizing::kV515, false) == 1);
  CHECK(nf_conntrack_default_max_factor(ct_sizing::kV515, true) == 8);
  // Through the scenario: the live machine (24 GiB) and the default (8 GiB).
  const std::string live = read_source_text("tests/data/kernel-lab/hash/sysctl.txt");
  REQUIRE(live == "nf_conntrack_buckets 262144\nnf_conntrack_max 262144\n");
  struct Case {
    const char* json;
    const char* kernel;
    uint32_t buckets, max;
  };
  for (const Case& c : {Case{R"({"ctsim": 1, "table": {"memory": "24GiB"}})", "6.18", 262144, 262144},
                        Case{R"({"ctsim": 1, "table": {"memory": "24GiB"}})", "5.10", 65536, 262144},
                        Case{R"({"ctsim": 1})", "6.18", 262144, 262144}, Case{R"({"ctsim": 1})", "5.10", 65536, 262144},
                        Case{R"({"ctsim": 1, "table": {"memory": "2GiB"}})", "6.1", 65536, 65536},
                        Case{R"({"ctsim": 1, "table": {"memory": "2GiB", "buckets": 1000}})", "6.1", 1000, 8000}}) {
    CAPTURE(c.json);
    CAPTURE(c.kernel);
    ctsim::Scenario s;
    REQUIRE(ctsim::parse_scenario("s.json", c.json, &s, ctsim::ScenarioLoadOptions{c.kernel}).ok());
    CHECK(s.buckets == c.buckets);
    CHECK(s.max == c.max);
  }
}

TEST_CASE("S1: table.memory refuses what is not a size with a binary unit, saying what it expected") {
  for (const char* bad : {R"("24GB")", R"("24")", R"(24)", R"("GiB")", R"("1MiB")", R"("100TiB")"}) {
    CAPTURE(bad);
    ctsim::Scenario s;
    const ctsim::Status st =
        ctsim::parse_scenario("s.json", std::string(R"({"ctsim": 1, "table": {"memory": )") + bad + "}}", &s);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("/table/memory") != std::string::npos);
  }
}

TEST_CASE("H1-H3: table.hash_rnd is the 128-bit key as 32 hex digits under siphash, a u32 under 5.10") {
  ctsim::Scenario s;
  REQUIRE(ctsim::parse_scenario("s.json", R"({"ctsim": 1, "kernel": "6.18",
      "table": {"hash_rnd": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}})",
                                &s)
              .ok());
  CHECK(s.siphash_rnd == *ctsim::parse_siphash_key_hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0"));
  CHECK(ctsim::hash_rnd_text(s) == "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  // Drawn from the seed when left out: a different seed, a different key.
  ctsim::Scenario a, b;
  REQUIRE(ctsim::parse_scenario("a.json", R"({"ctsim": 1, "seed": 1, "kernel": "6.1"})", &a).ok());
  REQUIRE(ctsim::parse_scenario("b.json", R"({"ctsim": 1, "seed": 2, "kernel": "6.1"})", &b).ok());
  CHECK(a.siphash_rnd != siphash_key_t{});
  CHECK(a.siphash_rnd != b.siphash_rnd);
  CHECK(ctsim::hash_rnd_text(a).size() == 32);
  // Each form is refused under the other kind of profile.
  ctsim::Scenario x;
  ctsim::Status st =
      ctsim::parse_scenario("x.json", R"({"ctsim": 1, "table": {"hash_rnd": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}})", &x);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("jhash2") != std::string::npos);
  st = ctsim::parse_scenario("x.json", R"({"ctsim": 1, "kernel": "6.18", "table": {"hash_rnd": true}})", &x);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("32 hex digits") != std::string::npos);
  // An integer under a siphash profile seeds the key: the same integer, the
  // same key, whatever the scenario's seed (scenarios that fix v5.10's
  // buckets run reproducibly under --kernel 6.18).
  ctsim::Scenario i1, i2, i3;
  REQUIRE(ctsim::parse_scenario("i.json", R"({"ctsim": 1, "seed": 1, "table": {"hash_rnd": 7}})", &i1,
                                ctsim::ScenarioLoadOptions{"6.18"})
              .ok());
  REQUIRE(ctsim::parse_scenario("i.json", R"({"ctsim": 1, "seed": 2, "table": {"hash_rnd": 7}})", &i2,
                                ctsim::ScenarioLoadOptions{"6.18"})
              .ok());
  REQUIRE(ctsim::parse_scenario("i.json", R"({"ctsim": 1, "seed": 1, "table": {"hash_rnd": 8}})", &i3,
                                ctsim::ScenarioLoadOptions{"6.18"})
              .ok());
  CHECK(i1.siphash_rnd == i2.siphash_rnd);
  CHECK(i1.siphash_rnd != i3.siphash_rnd);
  CHECK(i1.siphash_rnd != siphash_key_t{});
  st = ctsim::parse_scenario("x.json", R"({"ctsim": 1, "kernel": "6.18", "table": {"hash_rnd": "0f1e"}})", &x);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("4 hex digits, expected 32") != std::string::npos);
}

TEST_CASE("H3: the trace header's hash_rnd is the key as a string under 6.18, the number under 5.10") {
  const RunResult r618 = run_scenario_text(
      R"({"ctsim": 1, "kernel": "6.18", "table": {"buckets": 64, "hash_rnd": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}})",
      "--trace -");
  REQUIRE(r618.code == 0);
  CHECK(r618.out.find(R"("hash_rnd":"0f1e2d3c4b5a69788796a5b4c3d2e1f0")") != std::string::npos);
  const RunResult r510 =
      run_scenario_text(R"({"ctsim": 1, "table": {"buckets": 64, "hash_rnd": 305419896}})", "--trace -");
  REQUIRE(r510.code == 0);
  CHECK(r510.out.find(R"("hash_rnd":305419896,)") != std::string::npos);
}

namespace {

// A and B race: both pass the conntrack hook before either confirms. The
// loser (b) was DNATed to another backend, the winner (a) not.
struct Race {
  unsigned verdict;
  bool merged;  // b ended on a's conn
  ip_conntrack_stat st;
  uint32_t nat_clash_entries;
};

Race nat_race(const kernel_profile& p) {
  World w(config(p));
  Packet a = udp_packet(ipv4(198, 18, 10, 1), 40000, ipv4(198, 18, 10, 53), 53);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  // What nf_nat_setup_info() leaves on b's conn for a DNAT to 198.18.10.54.
  nf_conntrack_tuple reply = b.ct->tuplehash[IP_CT_DIR_REPLY].tuple;
  reply.src.u3 = ipv4(198, 18, 10, 54);
  w.ct.nf_conntrack_alter_reply(b.ct, reply);
  b.ct->status |= IPS_DST_NAT | IPS_DST_NAT_DONE;
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  Race r;
  r.verdict = w.ct.nf_conntrack_confirm(1, b);
  r.merged = r.verdict == NF_ACCEPT && b.ct == a.ct;
  r.st = w.ct.stat(w.init, 1);
  r.nat_clash_entries = 0;
  for (const nf_conn* c : table_conns(w.ct))
    if (c->test_bit(IPS_NAT_CLASH_BIT)) ++r.nat_clash_entries;
  CHECK(w.invariants({&a, &b}) == "");
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);
  return r;
}

}  // namespace

TEST_CASE(
    "K1: a NATed loser against an un-NATed winner: 5.10-6.6 merge it (NAT_DONE shortcut), 6.12 keeps it reply-only") {
  const Race v66 = nat_race(named("6.6"));
  CHECK(v66.verdict == NF_ACCEPT);
  CHECK(v66.merged);
  CHECK(v66.nat_clash_entries == 0);
  CHECK(v66.st.clash_resolve == 1);
  const Race v612 = nat_race(named("6.12"));
  CHECK(v612.verdict == NF_ACCEPT);
  CHECK_FALSE(v612.merged);
  CHECK(v612.nat_clash_entries == 1);  // nf_ct_resolve_clash_harder
  CHECK(v612.st.clash_resolve == 1);
}

TEST_CASE("K1: a clash in opposite directions merges under 6.12 (nf_ct_match_reverse) as under 5.10") {
  for (const char* kernel : {"5.10", "6.12"}) {
    CAPTURE(kernel);
    World w(config(named(kernel)));
    Packet a = udp_packet(ipv4(198, 18, 10, 1), 40000, ipv4(198, 18, 10, 2), 53);
    Packet b = udp_packet(ipv4(198, 18, 10, 2), 53, ipv4(198, 18, 10, 1), 40000);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
    CHECK(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
    CHECK(b.ct == a.ct);
    CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
    w.ct.nf_reset_ct(a);
    w.ct.nf_reset_ct(b);
    CHECK(w.invariants() == "");
  }
}

namespace {

// Two first packets of one flow of `proto` race on two CPUs.
std::pair<unsigned, ip_conntrack_stat> first_packet_race(const kernel_profile& p, uint8_t proto) {
  World w(config(p));
  Packet a = generic_packet(ipv4(198, 18, 10, 1), ipv4(198, 18, 10, 2), proto);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  const unsigned v = w.ct.nf_conntrack_confirm(1, b);
  const ip_conntrack_stat st = w.ct.stat(w.init, 1);
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);
  CHECK(w.invariants() == "");
  return {v, st};
}

}  // namespace

TEST_CASE("K2: GRE clashes are resolved from 6.5 (6.6 profile), dropped before (6.1)") {
  const auto v61 = first_packet_race(named("6.1"), IPPROTO_GRE_);
  CHECK(v61.first == NF_DROP);
  CHECK(v61.second.insert_failed == 1);
  CHECK(v61.second.clash_resolve == 0);
  const auto v66 = first_packet_race(named("6.6"), IPPROTO_GRE_);
  CHECK(v66.first == NF_ACCEPT);
  CHECK(v66.second.insert_failed == 0);
  CHECK(v66.second.clash_resolve == 1);
}

TEST_CASE("K2: generic (e.g. IPIP) clashes are resolved with generic_allow_clash (6.12-late), dropped under 6.12") {
  const auto v612 = first_packet_race(named("6.12"), 4);
  CHECK(v612.first == NF_DROP);
  CHECK(v612.second.insert_failed == 1);
  const auto late = first_packet_race(named("6.12-late"), 4);
  CHECK(late.first == NF_ACCEPT);
  CHECK(late.second.clash_resolve == 1);
  // 6.18.0 came before the backport, 6.18.44 has it.
  CHECK(first_packet_race(named("6.18"), 4).first == NF_DROP);
  CHECK(first_packet_race(named("6.18-late"), 4).first == NF_ACCEPT);
}

TEST_CASE("K2: a GRE reply-only clash entry is never ASSURED under 6.6 (it is under 6.1)") {
  for (const char* kernel : {"6.1", "6.6"}) {
    CAPTURE(kernel);
    World w(config(named(kernel)));
    Packet a = generic_packet(ipv4(198, 18, 10, 1), ipv4(198, 18, 10, 2), IPPROTO_GRE_);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    nf_conn* ct = a.ct;
    // What nf_ct_resolve_clash_harder leaves (here on a conn that went in whole).
    ct->status |= IPS_NAT_CLASH | IPS_FIXED_TIMEOUT;
    REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
    w.ct.nf_reset_ct(a);
    ct->set_bit(IPS_SEEN_REPLY_BIT);
    REQUIRE(w.forward(generic_packet(ipv4(198, 18, 10, 1), ipv4(198, 18, 10, 2), IPPROTO_GRE_)) == NF_ACCEPT);
    CHECK(ct->test_bit(IPS_ASSURED_BIT) == (std::string(kernel) == "6.1"));
  }
}

namespace {

// `ctsim run FILE --kernel K --stats -`: the end statistics.
nlohmann::json end_stats(const std::string& scenario, const char* kernel) {
  const RunResult r = run_ctsim("run " + shell_quote(source_path(scenario)) + " --kernel " + kernel + " --stats -");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("C1: scenarios/kernels/chaintoolong-one-bucket: 5.10 inserts all 200, 6.18 refuses past its chain limit") {
  const std::string s = "scenarios/kernels/chaintoolong-one-bucket.json";
  const nlohmann::json v510 = end_stats(s, "5.10");
  CHECK(v510["conns_freed"] == 0);
  CHECK(v510["stats"]["insert_failed"] == 0);
  CHECK_FALSE(v510["stats"].contains("chaintoolong"));
  const nlohmann::json v618 = end_stats(s, "6.18");
  const int refused = v618["stats"]["chaintoolong"].get<int>();
  CHECK(refused >= 200 - 41);
  CHECK(refused <= 200 - 26);
  CHECK(v618["stats"]["insert_failed"] == refused);
  CHECK(v618["stats"]["drop"] == 0);
}

TEST_CASE("S1: table-full-default-max: 16 MiB gives max 2048 under 5.10, 1024 under 6.18") {
  const std::string s = "tests/data/kernels/table-full-default-max.json";
  ctsim::Scenario a, b;
  REQUIRE(ctsim::load_scenario(source_path(s), &a, ctsim::ScenarioLoadOptions{"5.10"}).ok());
  REQUIRE(ctsim::load_scenario(source_path(s), &b, ctsim::ScenarioLoadOptions{"6.18"}).ok());
  CHECK(a.buckets == 512);
  CHECK(a.max == 2048);
  CHECK(b.buckets == 1024);
  CHECK(b.max == 1024);
  const nlohmann::json v510 = end_stats(s, "5.10");
  CHECK(v510["stats"]["early_drop"] == 0);
  CHECK(v510["conns_freed"] == 0);
  const nlohmann::json v618 = end_stats(s, "6.18");
  CHECK(v618["stats"]["early_drop"] == 1100 - 1024);
  CHECK(v618["stats"]["drop"] == 0);
}
