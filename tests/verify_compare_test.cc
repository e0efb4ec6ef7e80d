// ctsim's side of `ctsim verify` (sim/verify/): the record of a simulated
// run, and the comparison of two records with its tolerances
// (docs/VERIFY.md). Real runs of repository scenarios under two profiles
// pin what a comparison finds; hand-built records pin each rule.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/conntrack_line.h"
#include "sim/verify/gc_granularity.h"
#include "sim/verify/kernel_run.h"
#include "sim/verify/run_compare.h"
#include "sim/verify/simulated_run.h"
#include "tests/run_util.h"

using namespace ctest;
using namespace ctsim::verify;
using ctsim::kNsPerSec;
using ctsim::SimTime;

namespace {

ctsim::Scenario load(const std::string& rel, const std::string& kernel = "") {
  ctsim::Scenario s;
  const ctsim::Status st = ctsim::load_scenario(source_path(rel), &s, ctsim::ScenarioLoadOptions{kernel});
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

RunRecord record(const ctsim::Scenario& s, std::vector<InjectedPacket>* injected = nullptr) {
  RunRecord r;
  const ctsim::Status st = record_simulated_run(s, &r, injected);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return r;
}

RunRecord record(const std::string& rel, const std::string& kernel = "") { return record(load(rel, kernel)); }

SimTime gc_of(const std::string& profile, uint32_t hz = 250) {
  const ctcore::kernel_profile_entry* e = ctcore::kernel_profile_find(profile);
  REQUIRE(e != nullptr);
  return gc_granularity(e->profile, hz);
}

// The -L lines of a record's snapshots, each prefixed "[netns] " as
// --snapshots writes a dump of every namespace.
std::vector<std::string> prefixed_lines(const std::vector<Dump>& dumps) {
  std::vector<std::string> out;
  for (const Dump& d : dumps)
    for (const std::string& l : d.lines) out.push_back("[" + d.netns + "] " + l);
  return out;
}

// --snapshots' text cut into its blocks: each "# ..." header line with the
// lines up to the next header ("# N flow entries" footers dropped).
struct Block {
  std::string header;
  std::vector<std::string> lines;
};
std::vector<Block> blocks_of(const std::string& text) {
  std::vector<Block> out;
  for (const std::string& l : nonempty_lines(text)) {
    if (l.ends_with(" flow entries have been shown.")) continue;
    if (l.starts_with("# "))
      out.push_back({l, {}});
    else if (!out.empty())
      out.back().lines.push_back(l);
  }
  return out;
}

}  // namespace

// --- Records of simulated runs ---

TEST_CASE("record_simulated_run: a run's record says what --events and --snapshots say, per namespace") {
  // Three namespaces (init, tenant-a, tenant-b), a stats action and a
  // snapshot of every namespace at 1 s, table-full drops in tenant-a.
  const std::string rel = "scenarios/incidents/netns-shared-table.json";
  const RunRecord r = record(rel);
  const std::string dir = temp_dir();
  const RunResult run = run_ctsim("run " + shell_quote(source_path(rel)) + " --quiet --snapshots " + dir + "/s.txt");
  INFO(run.err);
  REQUIRE(run.code == 0);
  const std::vector<Block> blocks = blocks_of(read_file(dir + "/s.txt"));
  // One -L dump per namespace, in the scenario's order, init's empty.
  REQUIRE(r.snapshots.size() == 3);
  CHECK(r.snapshots[0].netns == "init");
  CHECK(r.snapshots[0].lines.empty());
  CHECK(r.snapshots[1].netns == "tenant-a");
  CHECK(r.snapshots[1].lines.size() == 32);
  CHECK(r.snapshots[2].netns == "tenant-b");
  CHECK(r.snapshots[2].lines.size() == 20);
  CHECK(r.snapshots[1].at == kNsPerSec);
  std::vector<std::string> file_table;
  for (const Block& b : blocks)
    if (b.header.starts_with("# snapshot at 1.000000000s")) file_table = b.lines;
  // The file lists the conns by id across namespaces, the record per
  // namespace: the same lines.
  std::vector<std::string> record_table = prefixed_lines(r.snapshots);
  std::sort(record_table.begin(), record_table.end());
  std::sort(file_table.begin(), file_table.end());
  CHECK(record_table == file_table);
  // The stats action's dumps, then the end's: those of --snapshots but the
  // counters a snapshot also writes.
  std::vector<Block> file_stats;
  for (size_t i = 0; i < blocks.size(); ++i)
    if (blocks[i].header.starts_with("# conntrack -S") && !(i > 0 && blocks[i - 1].header.starts_with("# snapshot")) &&
        !(i > 1 && blocks[i - 2].header.starts_with("# snapshot")) &&
        !(i > 2 && blocks[i - 3].header.starts_with("# snapshot")))
      file_stats.push_back(blocks[i]);
  REQUIRE(r.stats.size() == 6);
  REQUIRE(file_stats.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    CHECK(file_stats[i].header.ends_with("(netns " + r.stats[i].netns + ")"));
    CHECK(file_stats[i].lines == r.stats[i].lines);
  }
  CHECK(r.stats[0].at == kNsPerSec);
  CHECK(r.stats[5].at == 2 * kNsPerSec);
  CHECK(r.end == 2 * kNsPerSec);
  // tenant-a's packets beyond max were dropped by conntrack itself: no
  // state a rule could have seen.
  size_t table_full = 0;
  for (const PacketOutcome& p : r.packets)
    if (p.verdict == "drop") {
      CHECK(p.by == "nf_conntrack_in");
      CHECK(p.ct_state.empty());
      CHECK(p.netns == "tenant-a");
      ++table_full;
    }
  CHECK(table_full == 16);  // the -S drop counter of tenant-a at the end
  REQUIRE(r.stats[4].netns == "tenant-a");
  CHECK(r.stats[4].lines[0].find(" drop=16 ") != std::string::npos);
  CHECK(r.source == "ctsim 5.10");
}

TEST_CASE("record_simulated_run: events as --events writes them; outcomes and injected packets per packet") {
  const std::string rel = "scenarios/seed-walkthrough.json";
  std::vector<InjectedPacket> injected;
  const RunRecord r = record(load(rel), &injected);
  const std::string dir = temp_dir();
  const RunResult run = run_ctsim("run " + shell_quote(source_path(rel)) + " --quiet --events " + dir + "/e.txt");
  REQUIRE(run.code == 0);
  std::vector<std::string> lines;
  for (const EventLine& e : r.events) {
    CHECK(e.listener == "events");
    lines.push_back(e.line);
  }
  CHECK(lines == nonempty_lines(read_file(dir + "/e.txt")));
  REQUIRE(lines.size() == 8);
  CHECK(r.events[0].at == 0);
  CHECK(r.events[4].at == 2'000'000);  // the ACK's UPDATE [ASSURED]
  // Every packet, in id order, as it reached its first hook.
  REQUIRE(r.packets.size() == 9);
  REQUIRE(injected.size() == 9);
  for (size_t i = 0; i < 9; ++i) {
    CHECK(r.packets[i].id == i + 1);
    CHECK(injected[i].id == i + 1);
    CHECK(injected[i].at == r.packets[i].at);
    CHECK(injected[i].netns == "init");
    CHECK(injected[i].cpu == r.packets[i].cpu);
    CHECK(injected[i].path == ctsim::PathKind::kForward);
    CHECK(injected[i].pkt.ct == nullptr);
    CHECK(ctsim::format_packet(injected[i].pkt) == r.packets[i].pkt);
    CHECK(r.packets[i].verdict == "accept");
    CHECK(r.packets[i].by.empty());
  }
  CHECK(r.packets[1].cpu == 1);
  CHECK(r.packets[3].at == 1'000'000);
  CHECK(r.packets[0].ct_state == "new orig");
  CHECK(r.packets[3].ct_state == "established reply");  // the SYN-ACK
  CHECK(r.packets[4].ct_state == "established orig");
  // The notation gave no sequence numbers: the injected packets carry the
  // ones ctsim chose, which the kernel must see too.
  CHECK(r.packets[0].pkt.find(" seq ") != std::string::npos);
  CHECK(injected[0].pkt.seq != 0);
  CHECK(injected[3].pkt.ack_seq == injected[0].pkt.seq + 1);
}

TEST_CASE("record_simulated_run: the same run twice gives the same record; two runs agree") {
  ctsim::Scenario s = load("scenarios/seed-walkthrough.json", "6.18");
  s.until = 700 * kNsPerSec;  // past the GC's reaping of the idle conn
  std::vector<InjectedPacket> i1, i2;
  const RunRecord a = record(s, &i1), b = record(s, &i2);
  CHECK(a.source == b.source);
  CHECK(a.end == 700 * kNsPerSec);
  CHECK(a.end == b.end);
  REQUIRE(a.packets.size() == b.packets.size());
  for (size_t i = 0; i < a.packets.size(); ++i) {
    const PacketOutcome &p = a.packets[i], &q = b.packets[i];
    CHECK(std::tie(p.id, p.at, p.netns, p.cpu, p.path, p.pkt, p.ct_state, p.verdict, p.by) ==
          std::tie(q.id, q.at, q.netns, q.cpu, q.path, q.pkt, q.ct_state, q.verdict, q.by));
  }
  REQUIRE(a.events.size() == b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i)
    CHECK(std::tie(a.events[i].at, a.events[i].listener, a.events[i].line) ==
          std::tie(b.events[i].at, b.events[i].listener, b.events[i].line));
  auto same_dumps = [](const std::vector<Dump>& x, const std::vector<Dump>& y) {
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i)
      CHECK(std::tie(x[i].at, x[i].netns, x[i].lines) == std::tie(y[i].at, y[i].netns, y[i].lines));
  };
  same_dumps(a.snapshots, b.snapshots);
  same_dumps(a.stats, b.stats);
  REQUIRE(i1.size() == i2.size());
  for (size_t i = 0; i < i1.size(); ++i) {
    CHECK(ctsim::format_packet(i1[i].pkt) == ctsim::format_packet(i2[i].pkt));
    CHECK(i1[i].at == i2[i].at);
  }
  // The idle conn's DESTROY is in (the GC reaped it before 700 s).
  CHECK(a.events.back().line.starts_with("[DESTROY] tcp      6 "));
  CompareOptions o;
  o.gc_granularity = gc_of("6.18");
  const Comparison c = compare_runs(a, b, o);
  INFO(format_comparison(c, a, b, o));
  CHECK(c.agree);
  CHECK(c.differences.empty());
  CHECK(c.tolerated.empty());
  CHECK(c.information.empty());
  CHECK(c.packets == 9);
  CHECK(c.stats == 2);
}

TEST_CASE("record_simulated_run: each scenario of the differential suite records the same twice, and agrees") {
  namespace fs = std::filesystem;
  size_t scenarios = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_path("tests/kernel")))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    CAPTURE(f.filename().string());
    const ctsim::Scenario s = load("tests/kernel/" + f.filename().string(), "6.18-late");
    std::vector<InjectedPacket> i1, i2;
    const RunRecord a = record(s, &i1), b = record(s, &i2);
    CompareOptions o;
    o.gc_granularity = gc_granularity(s.kernel, s.hz);
    o.counts_only = s.verify_compare == ctsim::VerifyCompare::kCounts;
    const Comparison c = compare_runs(a, b, o);
    INFO(format_comparison(c, a, b, o));
    CHECK(c.agree);
    CHECK(c.tolerated.empty());
    CHECK(c.information.empty());
    CHECK(!a.packets.empty());
    CHECK(a.stats.size() >= s.namespaces.size());  // the end's dumps at least
    REQUIRE(i1.size() == a.packets.size());
    REQUIRE(i2.size() == i1.size());
    for (size_t i = 0; i < i1.size(); ++i) CHECK(ctsim::format_packet(i1[i].pkt) == ctsim::format_packet(i2[i].pkt));
    ++scenarios;
  }
  CHECK(scenarios >= 25);
}

// --- 5.10 against 6.18: the differences a user of each would expect ---

namespace {

Comparison compare_profiles(const std::string& rel, const std::string& gc_profile,
                            std::optional<SimTime> until = std::nullopt) {
  ctsim::Scenario old_k = load(rel, "5.10"), new_k = load(rel, "6.18");
  if (until) old_k.until = new_k.until = until;
  const RunRecord a = record(old_k), b = record(new_k);
  CompareOptions o;
  o.gc_granularity = gc_of(gc_profile);
  const Comparison c = compare_runs(a, b, o);
  MESSAGE(format_comparison(c, a, b, o));
  return c;
}

size_t count_starting(const std::vector<std::string>& v, const std::string& head) {
  return static_cast<size_t>(
      std::count_if(v.begin(), v.end(), [&](const std::string& s) { return s.starts_with(head); }));
}

}  // namespace

TEST_CASE("5.10 against 6.18, udp-assured: UDP is ASSURED later, seen in the UPDATE and the snapshot") {
  const Comparison c = compare_profiles("scenarios/kernels/udp-assured.json", "6.18");
  REQUIRE(c.differences.size() == 4);
  // 5.10's UPDATE [ASSURED] at 500 ms keeps 30 s; 6.18's at 3 s sets 120 s.
  CHECK(
      c.differences[0].starts_with("listener conntrack-E: NEW/UPDATE line 3: ctsim 5.10 \" [UPDATE] udp      17 30 "));
  CHECK(c.differences[0].find("[ASSURED]\" (at 0.500000000s), ctsim 6.18 \" [UPDATE] udp      17 120 ") !=
        std::string::npos);
  CHECK(c.differences[0].ends_with("[ASSURED]\" (at 3.000000000s)"));
  // At 1 s only 5.10's conn is ASSURED.
  CHECK(c.differences[1].starts_with("conntrack -L at 1.000000000s netns init: only in ctsim 5.10: \"udp      17 29 "));
  CHECK(c.differences[1].ends_with("[ASSURED] mark=0 use=1\""));
  CHECK(c.differences[2].starts_with("conntrack -L at 1.000000000s netns init: only in ctsim 6.18: \"udp      17 29 "));
  CHECK(c.differences[2].find("[ASSURED]") == std::string::npos);
  // 5.15+ counts chaintoolong (row C2).
  CHECK(c.differences[3].starts_with("conntrack -S at 10.000000000s netns init: line 1: "));
  CHECK(c.differences[3].ends_with("clash_resolve=0 chaintoolong=0 \""));
  // At 4 s both are ASSURED with 116 s (5.10: 120 s from 3 s) and 119 s
  // left: no difference, as the stream timeout set at 3 s on both.
  CHECK(c.tolerated.empty());
}

TEST_CASE("5.10 against 6.18, chaintoolong-one-bucket: refused insertions and the chaintoolong column") {
  const Comparison c = compare_profiles("scenarios/kernels/chaintoolong-one-bucket.json", "6.18");
  const size_t refused = count_starting(c.differences, "packet ");
  CHECK(refused == 159);
  for (const std::string& d : c.differences)
    if (d.starts_with("packet "))
      CHECK(
          d.ends_with(": verdict: ctsim 5.10 \"accept\", ctsim 6.18 \"drop\"; by: ctsim 5.10 \"\", ctsim 6.18 "
                      "\"nf_conntrack_confirm\""));
  // The stats action and the end: insert_failed and chaintoolong, 159 each.
  REQUIRE(count_starting(c.differences, "conntrack -S") == 2);
  CHECK(c.differences.size() == refused + 2);
  CHECK(
      c.differences.back().ends_with("insert_failed=159 drop=0 early_drop=0 error=0 search_restart=0 "
                                     "clash_resolve=0 chaintoolong=159 \""));
}

TEST_CASE("5.10 against 6.18, events-2-missed-destroy: DESTROY content (L4) and a DESTROY never sent (L3)") {
  const Comparison c = compare_profiles("scenarios/kernels/events-2-missed-destroy.json", "6.18", 100 * kNsPerSec);
  std::string all;
  for (const std::string& d : c.differences) all += d + "\n";
  // 6.18's DESTROY of the deleted conn carries the 20 s left; 5.10's none.
  CHECK(all.find("DESTROY \"[DESTROY] udp      17 src=198.18.30.1 dst=198.18.30.53 sport=5001 dport=53 ") !=
        std::string::npos);
  CHECK(all.find("DESTROY \"[DESTROY] udp      17 20 src=198.18.30.1 dst=198.18.30.53 sport=5001 ") !=
        std::string::npos);
  // The reset TCP conn: 5.10's DESTROY (GC, 22.2 s) is not 6.18's, which
  // shows the state and comes with the 6.18 GC's sweep at 62.4 s, less
  // than its granularity before the run's end: tolerated, and said so.
  CHECK(all.find("\"[DESTROY] tcp      6 src=198.18.30.1 ") != std::string::npos);
  REQUIRE(c.tolerated.size() == 1);
  CHECK(c.tolerated[0].starts_with(
      "tolerated: listener conntrack-E: DESTROY \"[DESTROY] tcp      6 CLOSE src=198.18.30.1 "));
  CHECK(c.tolerated[0].find("at 62.432000000s only in ctsim 6.18: ctsim 5.10's run ended 37.568000000s after it") !=
        std::string::npos);
  // Conn 1 was made before the listener: 6.18 never reports its end.
  CHECK(all.find("DESTROY \"[DESTROY] udp      17 src=198.18.30.1 dst=198.18.30.53 sport=5000 dport=53 ") !=
        std::string::npos);
  CHECK(count_starting(c.differences, "listener conntrack-E: DESTROY ") == 4);
  CHECK(count_starting(c.differences, "conntrack -S") == 1);
  CHECK(c.differences.size() == 5);  // nothing about NEW/UPDATE, packets or snapshots
}

TEST_CASE("5.10 against 6.18, gc-linger: DESTROY times within 6.18's GC granularity, not within 5.10's") {
  const Comparison c = compare_profiles("scenarios/kernels/gc-linger.json", "6.18");
  REQUIRE(c.differences.size() == 1);  // the chaintoolong column
  CHECK(c.differences[0].starts_with("conntrack -S at 200.000000000s"));
  REQUIRE(c.tolerated.size() == 3);
  for (const std::string& t : c.tolerated) CHECK(t.ends_with("within the GC granularity 62.048000000s)"));
  CHECK(c.tolerated[0].find("at ctsim 5.10 30.388000000s, ctsim 6.18 62.432000000s (32.044000000s apart") !=
        std::string::npos);
  // Under 5.10's 16.384 s granularity the same times are differences.
  const Comparison strict = compare_profiles("scenarios/kernels/gc-linger.json", "5.10");
  CHECK(count_starting(strict.differences, "listener conntrack-E: DESTROY ") == 3);
  CHECK(strict.tolerated.empty());
}

// --- The line anatomy ---

TEST_CASE("conntrack_line: the timeout is cut out of event and -L lines, wherever the layout puts it") {
  using Kind = ConntrackLine::Kind;
  const ConntrackLine n = parse_conntrack_line(
      "    [NEW] tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 [UNREPLIED] src=10.0.0.2 "
      "dst=10.0.0.1 sport=2 dport=1");
  CHECK(n.kind == Kind::kNew);
  REQUIRE(n.timeout);
  CHECK(*n.timeout == 120);
  CHECK(n.key.starts_with("    [NEW] tcp      6 * SYN_SENT src=10.0.0.1 "));
  // v5.10's DESTROY: no timeout; 5.11+'s: the timeout when not 0, and the state.
  const ConntrackLine d = parse_conntrack_line("[DESTROY] udp      17 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2");
  CHECK(d.kind == Kind::kDestroy);
  CHECK_FALSE(d.timeout);
  CHECK(d.key == "[DESTROY] udp      17 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2");
  const ConntrackLine d2 = parse_conntrack_line("[DESTROY] tcp      6 19 CLOSE src=10.0.0.1 dst=10.0.0.2");
  REQUIRE(d2.timeout);
  CHECK(*d2.timeout == 19);
  CHECK(d2.key == "[DESTROY] tcp      6 * CLOSE src=10.0.0.1 dst=10.0.0.2");
  // conntrack -L: no tag; tcp's timeout is the 3rd field, before the state,
  // and the other protocols' too (they have no state).
  const ConntrackLine l = parse_conntrack_line("udp      17 29 src=10.0.0.1 dst=10.0.0.2 mark=0 use=1");
  CHECK(l.kind == Kind::kTable);
  REQUIRE(l.timeout);
  CHECK(*l.timeout == 29);
  CHECK(l.key == "udp      17 * src=10.0.0.1 dst=10.0.0.2 mark=0 use=1");
  const ConntrackLine u = parse_conntrack_line("  [UPDATE] icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7");
  CHECK(u.kind == Kind::kUpdate);
  CHECK(*u.timeout == 30);
  CHECK(parse_conntrack_line("WARNING: We have hit ENOBUFS! We are losing events.").kind == Kind::kEnobufs);
  CHECK(parse_conntrack_line("Please, check --buffer-size in conntrack(8) manpage.").kind == Kind::kEnobufsMore);
  CHECK(parse_conntrack_line("conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown.").kind ==
        Kind::kOther);
  CHECK(parse_conntrack_line("[WEIRD] tcp 6 1 x").kind == Kind::kOther);
}

// --- The GC granularity ---

TEST_CASE("gc_granularity: one GC period of the profile, for any phase, timer wheel included") {
  // v5.10: 128 runs at most 31 + 1 jiffies apart at HZ=250.
  CHECK(gc_of("5.10") == 4096 * kNsPerSec / 250);
  CHECK(gc_of("5.10") == 16'384'000'000);
  // G1 (5.15.0): a 120 s sleep, level 3 of the wheel (512-jiffy granules).
  CHECK(gc_of("5.15") == 122'048'000'000);
  // G3 (6.x): at most 60 s, up to a granule late: the 61.44 s of an idle
  // empty table's sweeps (docs/KERNELS.md) is inside it.
  CHECK(gc_of("6.18") == 62'048'000'000);
  CHECK(gc_of("6.1") == 62'048'000'000);
  // At HZ=1000 60 s is 60000 jiffies: level 4, 4096-jiffy granules.
  CHECK(gc_of("6.18", 1000) == 64'096'000'000);
  // v5.10 at HZ=1000: 125-jiffy runs are on level 1 (8-jiffy granules).
  CHECK(gc_of("5.10", 1000) == 128 * (125 + 8) * kNsPerSec / 1000);
}

// --- Hand-built records: every rule ---

namespace {

constexpr SimTime kS = kNsPerSec;

RunRecord base(const std::string& source) {
  RunRecord r;
  r.source = source;
  r.end = 200 * kS;
  r.packets = {{1, 0, "init", 0, "forward", "udp 10.0.0.1:1 > 10.0.0.2:2", "new orig", "accept", ""},
               {2, kS, "init", 1, "forward", "udp 10.0.0.2:2 > 10.0.0.1:1", "established reply", "accept", ""}};
  r.events = {{0, "e",
               "    [NEW] udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 [UNREPLIED] src=10.0.0.2 "
               "dst=10.0.0.1 sport=2 dport=1"},
              {kS, "e",
               " [UPDATE] udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
               "dst=10.0.0.1 sport=2 dport=1"},
              {40 * kS, "e",
               "[DESTROY] udp      17 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
               "dst=10.0.0.1 sport=2 dport=1"}};
  r.snapshots = {{2 * kS,
                  "init",
                  {"udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 "
                   "dport=1 mark=0 use=1",
                   "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.3 sport=5 dport=80 src=10.0.0.3 "
                   "dst=10.0.0.1 sport=80 dport=5 [ASSURED] mark=0 use=1"}}};
  r.stats = {{200 * kS,
              "init",
              {"cpu=0   \tfound=0 invalid=0 insert=1 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 "
               "clash_resolve=0 ",
               "cpu=1   \tfound=1 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 "
               "clash_resolve=0 "}}};
  return r;
}

Comparison compare(const RunRecord& a, const RunRecord& b, bool counts_only = false) {
  CompareOptions o;
  o.gc_granularity = gc_of("6.18");
  o.counts_only = counts_only;
  const Comparison c = compare_runs(a, b, o);
  MESSAGE(format_comparison(c, a, b, o));
  return c;
}

}  // namespace

TEST_CASE("compare_runs: equal records agree, with nothing tolerated") {
  const Comparison c = compare(base("ctsim 6.18"), base("kernel 6.18.44"));
  CHECK(c.agree);
  CHECK(c.differences.empty());
  CHECK(c.tolerated.empty());
  CHECK(c.packets == 2);
  CHECK(c.listeners == 1);
  CHECK(c.snapshots == 1);
  CHECK(c.stats == 1);
}

TEST_CASE("compare_runs: a packet's ct_state, verdict or by that differs is listed with both values") {
  RunRecord k = base("kernel");
  k.packets[1].ct_state = "invalid";
  k.packets[1].verdict = "drop";
  k.packets[1].by = "rule \"ct state invalid\"";
  const Comparison c = compare(base("ctsim"), k);
  CHECK_FALSE(c.agree);
  REQUIRE(c.differences.size() == 1);
  CHECK(c.differences[0] ==
        "packet 2 at 1.000000000s netns init cpu 1 forward \"udp 10.0.0.2:2 > 10.0.0.1:1\": ct_state: ctsim "
        "\"established reply\", kernel \"invalid\"; verdict: ctsim \"accept\", kernel \"drop\"; by: ctsim \"\", "
        "kernel \"rule \\\"ct state invalid\\\"\"");
  // A packet on one side only.
  RunRecord k2 = base("kernel");
  k2.packets.pop_back();
  const Comparison c2 = compare(base("ctsim"), k2);
  REQUIRE(c2.differences.size() == 1);
  CHECK(c2.differences[0].find("packet 2 ") == 0);
  CHECK(c2.differences[0].find("only in ctsim") != std::string::npos);
}

TEST_CASE("compare_runs: a reordered UPDATE is a difference; reordered DESTROYs are not") {
  RunRecord a = base("ctsim"), b = base("kernel");
  const std::string u2 =
      " [UPDATE] udp      17 120 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
      "dst=10.0.0.1 sport=2 dport=1 [ASSURED]";
  a.events.insert(a.events.begin() + 2, {3 * kS, "e", u2});
  b.events.insert(b.events.begin() + 1, {kS, "e", u2});  // before the other UPDATE
  const Comparison c = compare(a, b);
  CHECK_FALSE(c.agree);
  REQUIRE(c.differences.size() == 2);
  CHECK(c.differences[0].starts_with("listener e: NEW/UPDATE line 2: ctsim \" [UPDATE] udp      17 30 "));
  CHECK(c.differences[1].starts_with("listener e: NEW/UPDATE line 3: ctsim \" [UPDATE] udp      17 120 "));

  // Two DESTROYs in the other order (the GC's walk follows the hash).
  RunRecord d1 = base("ctsim"), d2 = base("kernel");
  const std::string other =
      "[DESTROY] tcp      6 src=10.0.0.1 dst=10.0.0.3 sport=5 dport=80 src=10.0.0.3 "
      "dst=10.0.0.1 sport=80 dport=5 [ASSURED]";
  d1.events.push_back({40 * kS, "e", other});
  d2.events.insert(d2.events.begin() + 2, {40 * kS, "e", other});
  const Comparison c2 = compare(d1, d2);
  CHECK(c2.agree);
  CHECK(c2.tolerated.empty());
}

TEST_CASE("compare_runs: a DESTROY late by up to the GC granularity is tolerated and reported, later is not") {
  RunRecord b = base("kernel 6.18.44");
  b.events[2].at = 70 * kS;  // 30 s after ctsim's
  const Comparison c = compare(base("ctsim 6.18"), b);
  CHECK(c.agree);
  REQUIRE(c.tolerated.size() == 1);
  CHECK(c.tolerated[0].starts_with("tolerated: listener e: DESTROY \"[DESTROY] udp      17 src=10.0.0.1 "));
  CHECK(c.tolerated[0].find("at ctsim 6.18 40.000000000s, kernel 6.18.44 70.000000000s (30.000000000s apart, "
                            "within the GC granularity 62.048000000s)") != std::string::npos);
  // 61 s is still within: a 60 s sleep ends on the timer wheel's 512-jiffy
  // grid, up to 2.048 s late (at HZ=250).
  b.events[2].at = 101 * kS;
  CHECK(compare(base("ctsim 6.18"), b).agree);
  // Past the granularity: a difference.
  b.events[2].at = 40 * kS + gc_of("6.18") + kS;
  const Comparison late = compare(base("ctsim 6.18"), b);
  CHECK_FALSE(late.agree);
  REQUIRE(late.differences.size() == 1);
  CHECK(late.differences[0].find("more than the GC granularity 62.048000000s") != std::string::npos);
  CHECK(late.tolerated.empty());
  // Within the time slack (1 s): the same time, nothing reported.
  b.events[2].at = 40 * kS + kS / 2;
  const Comparison same = compare(base("ctsim 6.18"), b);
  CHECK(same.agree);
  CHECK(same.tolerated.empty());
}

TEST_CASE("compare_runs: a DESTROY on one side only is tolerated only near the other run's end") {
  RunRecord b = base("kernel");
  b.events.pop_back();  // the kernel's GC has not reaped it ...
  b.end = 80 * kS;      // ... and its run ended 40 s after ctsim's DESTROY
  const Comparison c = compare(base("ctsim"), b);
  CHECK(c.agree);
  REQUIRE(c.tolerated.size() == 1);
  CHECK(c.tolerated[0].find("only in ctsim: kernel's run ended 40.000000000s after it, within the GC granularity") !=
        std::string::npos);
  b.end = 200 * kS;  // long enough for any GC phase: a difference
  const Comparison d = compare(base("ctsim"), b);
  CHECK_FALSE(d.agree);
  REQUIRE(d.differences.size() == 1);
  CHECK(d.differences[0].find("at 40.000000000s only in ctsim") != std::string::npos);
}

TEST_CASE("compare_runs: conntrack -L as a multiset, timeouts within 1 s (reported), 2 s off is a difference") {
  RunRecord b = base("kernel");
  std::swap(b.snapshots[0].lines[0], b.snapshots[0].lines[1]);  // hash order differs
  CHECK(compare(base("ctsim"), b).tolerated.empty());
  CHECK(compare(base("ctsim"), b).agree);
  b.snapshots[0].lines[1].replace(b.snapshots[0].lines[1].find(" 29 "), 4, " 28 ");
  const Comparison one = compare(base("ctsim"), b);
  CHECK(one.agree);
  REQUIRE(one.tolerated.size() == 1);
  CHECK(one.tolerated[0] == "tolerated: conntrack -L: 1 line whose timeout differs by 1 s (the live clock's jitter)");
  b.snapshots[0].lines[1].replace(b.snapshots[0].lines[1].find(" 28 "), 4, " 27 ");
  const Comparison two = compare(base("ctsim"), b);
  CHECK_FALSE(two.agree);
  REQUIRE(two.differences.size() == 1);
  CHECK(two.differences[0].starts_with("conntrack -L at 2.000000000s netns init: timeout: ctsim \"udp      17 29 "));
  CHECK(two.differences[0].find("kernel \"udp      17 27 ") != std::string::npos);
  // An entry on one side only, and a dump of another namespace.
  RunRecord m = base("kernel");
  m.snapshots[0].lines.pop_back();
  const Comparison missing = compare(base("ctsim"), m);
  REQUIRE(missing.differences.size() == 1);
  CHECK(missing.differences[0].starts_with("conntrack -L at 2.000000000s netns init: only in ctsim: \"tcp "));
  m.snapshots[0].netns = "other";
  CHECK(compare(base("ctsim"), m).differences ==
        std::vector<std::string>{"conntrack -L dump 1: netns init in ctsim, other in kernel"});
}

TEST_CASE("compare_runs: event timeouts 1 s off are tolerated and counted; conntrack -S lines compare exactly") {
  RunRecord b = base("kernel");
  b.events[0].line.replace(b.events[0].line.find(" 30 "), 4, " 29 ");
  const Comparison c = compare(base("ctsim"), b);
  CHECK(c.agree);
  REQUIRE(c.tolerated.size() == 1);
  CHECK(c.tolerated[0] == "tolerated: listener e: 1 line whose timeout differs by 1 s (the live clock's jitter)");
  RunRecord s = base("kernel");
  s.stats[0].lines[1].replace(s.stats[0].lines[1].find("found=1"), 7, "found=2");
  const Comparison d = compare(base("ctsim"), s);
  REQUIRE(d.differences.size() == 1);
  CHECK(d.differences[0].starts_with("conntrack -S at 200.000000000s netns init: line 2: ctsim \"cpu=1   \tfound=1 "));
  s.stats.push_back(s.stats[0]);
  CHECK(compare(base("ctsim"), s).differences.front() == "conntrack -S: 1 dumps in ctsim, 2 in kernel");
}

TEST_CASE("compare_runs: ENOBUFS warnings compare by count") {
  RunRecord b = base("kernel");
  b.events.insert(b.events.begin() + 1, {kS, "e", "WARNING: We have hit ENOBUFS! We are losing events."});
  b.events.insert(b.events.begin() + 2, {kS, "e", "Please, check --buffer-size in conntrack(8) manpage."});
  const Comparison c = compare(base("ctsim"), b);
  CHECK(c.differences == std::vector<std::string>{"listener e: ENOBUFS warnings: ctsim 0, kernel 1"});
}

TEST_CASE("compare_runs: counts_only ignores per-item identity and compares totals") {
  RunRecord a = base("ctsim"), b = base("kernel");
  // Two CPUs raced: the other packet lost, and the insert was counted on
  // the other CPU.
  a.packets[1].verdict = "drop";
  a.packets[1].by = "nf_conntrack_confirm";
  b.packets[0].verdict = "drop";
  b.packets[0].by = "nf_conntrack_confirm";
  b.stats[0].lines[0].replace(b.stats[0].lines[0].find("insert=1"), 8, "insert=0");
  b.stats[0].lines[1].replace(b.stats[0].lines[1].find("insert=0"), 8, "insert=1");
  const Comparison exact = compare(a, b);
  CHECK_FALSE(exact.agree);
  CHECK(exact.differences.size() == 4);  // both packets, both -S lines
  const Comparison counts = compare(a, b, true);
  CHECK(counts.agree);
  CHECK(counts.differences.empty());
  CHECK(counts.information.size() == 4);
  // Totals that differ are differences.
  b.packets[1].verdict = "drop";
  b.stats[0].lines[1].replace(b.stats[0].lines[1].find("found=1"), 7, "found=3");
  const Comparison totals = compare(a, b, true);
  CHECK_FALSE(totals.agree);
  CHECK(totals.differences ==
        std::vector<std::string>{"netns init: packets accepted: ctsim 1, kernel 0",
                                 "netns init: packets dropped: ctsim 1, kernel 2",
                                 "conntrack -S at 200.000000000s netns init: found (all CPUs): ctsim 1, kernel 3"});
  // Event counts per listener and kind.
  RunRecord e = base("kernel");
  e.events.erase(e.events.begin() + 1);
  CHECK(compare(base("ctsim"), e, true).differences ==
        std::vector<std::string>{"listener e: UPDATE lines: ctsim 1, kernel 0"});
  // One DESTROY fewer: tolerated while the kernel's run ended within the GC
  // granularity after ctsim's extra DESTROY, a difference otherwise.
  RunRecord g = base("kernel");
  g.events.pop_back();
  g.end = 70 * kS;
  const Comparison late = compare(base("ctsim"), g, true);
  CHECK(late.agree);
  REQUIRE(late.tolerated.size() == 1);
  CHECK(late.tolerated[0].starts_with("tolerated: listener e: DESTROY lines: ctsim 1, kernel 0 (the extra ones came "));
  CHECK(late.information.size() == 1);  // the DESTROY itself, as an item
  g.end = 200 * kS;
  CHECK(compare(base("ctsim"), g, true).differences ==
        std::vector<std::string>{"listener e: DESTROY lines: ctsim 1, kernel 0"});
}

TEST_CASE("format_comparison: what was compared, one line per entry, the result last") {
  RunRecord b = base("kernel 6.18.44");
  b.packets[0].ct_state = "invalid";
  b.events[2].at = 70 * kS;
  CompareOptions o;
  o.gc_granularity = gc_of("6.18");
  const Comparison c = compare_runs(base("ctsim 6.18"), b, o);
  const std::vector<std::string> lines = nonempty_lines(format_comparison(c, base("ctsim 6.18"), b, o));
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "compared: ctsim 6.18 (reference) with kernel 6.18.44");
  CHECK(lines[1] == "  2 packets, 3 event lines of 1 listeners, 1 conntrack -L dumps, 1 conntrack -S dumps");
  CHECK(lines[2] == "  GC granularity 62.048000000s, same time within 1.000000000s");
  CHECK(lines[3].starts_with("differs: packet 1 at 0.000000000s netns init cpu 0 forward"));
  CHECK(lines[4].starts_with("tolerated: listener e: DESTROY "));
  CHECK(lines[5] == "result: 1 difference");
  CHECK(nonempty_lines(format_comparison(compare_runs(base("a"), base("b"), o), base("a"), base("b"), o)).back() ==
        "result: agree");
}

TEST_CASE("kernel_run_notes: a table size the kernel rounds up and a hash seed it does not take are said") {
  auto notes_of = [](const std::string& table) {
    ctsim::Scenario s;
    REQUIRE(ctsim::parse_scenario("t.json", R"({"ctsim": 1, "table": )" + table + "}", &s).ok());
    return ctsim::verify::kernel_run_notes(s);
  };
  // A page of bucket heads: 512 with 4 KiB pages and 8-byte pointers (the
  // kernel's nf_ct_alloc_hashtable rounding; writing 1 gave 512 on 6.18.44).
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) / sizeof(void*);
  const std::vector<std::string> one = notes_of(R"({"buckets": 1})");
  REQUIRE(one.size() == 1);
  CHECK(one[0].starts_with(fmt::format("kernel-run: table.buckets 1 is played as {}: ", page)));
  CHECK(notes_of(fmt::format(R"({{"buckets": {}}})", page * 2)).empty());
  const std::vector<std::string> seeded = notes_of(fmt::format(R"({{"buckets": {}, "hash_rnd": 7}})", page + 1));
  REQUIRE(seeded.size() == 2);
  CHECK(seeded[0].starts_with("kernel-run: table.hash_rnd is ctsim's"));
  CHECK(seeded[1].starts_with(fmt::format("kernel-run: table.buckets {} is played as {}: ", page + 1, page * 2)));
  CHECK(notes_of(R"({"max": 100})").empty());
}
