// gc_worker as in v5.10 (net/netfilter/nf_conntrack_core.c): first run one
// second after start, htable_size/128 buckets per run (at least one) after a
// wrapping cursor, the adaptive interval (grows by max(HZ/128, 1) up to
// 16*HZ/128 while little expires, drops to the minimum when more than half
// of what it scanned had expired), lazy coverage of the table, and the 95%
// early drop requested by a "table full" drop.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

// Records the jiffy of every GC run besides what the run reported, and
// every lookup.
class GcLog : public Recorder {
 public:
  explicit GcLog(const Clock& clock) : clock_(clock) {}
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override {
    Recorder::on_gc(scanned, expired, buckets, early_dropped, next_run);
    at.push_back(clock_.jiffies());
  }
  // Every lookup: its bucket, the nodes it walked, whether it matched.
  void on_lookup(const net& n, uint16_t cpu, const nf_conntrack_tuple& t, uint32_t hash, uint32_t bucket,
                 uint32_t chain, const nf_conntrack_tuple_hash* match) override {
    Recorder::on_lookup(n, cpu, t, hash, bucket, chain, match);
    lookups.push_back({bucket, chain, match != nullptr ? 1u : 0u});
  }
  std::vector<uint64_t> at;
  std::vector<std::array<uint32_t, 3>> lookups;

 private:
  const Clock& clock_;
};

// A Conntrack on a clock of any HZ (World is fixed at HZ = 250).
struct HzWorld {
  ManualClock clock;
  TestWorkqueue wq{clock};
  Conntrack ct;
  net& n;
  GcLog log{clock};
  HzWorld(uint32_t hz, ConntrackConfig cfg)
      : clock(hz, initial_jiffies_for_hz(hz)), ct(cfg, clock, wq), n(ct.net_add("init", 0)) {
    ct.set_observer(&log);
  }
  unsigned forward(Packet p) {
    unsigned v = ct.nf_conntrack_in(n, 0, p, NF_INET_PRE_ROUTING);
    if (v == NF_ACCEPT) v = ct.nf_conntrack_confirm(0, p);
    ct.nf_reset_ct(p);
    return v;
  }
  // Advances one jiffy at a time until the GC has run once more.
  void run_next_gc() {
    const size_t runs = log.gc.size();
    while (log.gc.size() == runs) wq.advance_to(clock.jiffies() + 1);
  }
};

uint32_t min_interval(uint32_t hz) { return std::max(hz / 128, 1u); }
uint32_t max_interval(uint32_t hz) { return 16 * hz / 128; }

}  // namespace

TEST_CASE("the first gc_worker run is HZ after start") {
  World w;
  GcLog log(w.clock);
  w.ct.set_observer(&log);
  const uint64_t start = w.clock.jiffies();
  CHECK(w.ct.gc_next_run() == w.clock.hz());  // conntrack_gc_work_init
  w.wq.advance_to(start + w.clock.hz() - 1);
  CHECK(log.gc.empty());
  w.wq.advance_to(start + w.clock.hz());
  REQUIRE(log.gc.size() == 1);
  CHECK(log.at[0] == start + w.clock.hz());
}

TEST_CASE("the bucket cursor advances by htable_size/128 (at least 1) and wraps") {
  struct Case {
    uint32_t size, per_run;
  };
  for (Case c : {Case{1024, 8}, Case{300, 2}, Case{100, 1}, Case{1, 1}}) {
    CAPTURE(c.size);
    HzWorld w(250, {c.size, 0, 1, 1});
    uint32_t cursor = 0;
    // Enough runs to wrap at least once.
    const uint32_t runs = c.size / c.per_run + 3;
    for (uint32_t r = 0; r < runs; ++r) {
      w.run_next_gc();
      CHECK(w.log.gc.back().buckets == c.per_run);
      // i = last_bucket; per bucket: i++, wrap to 0 at size.
      for (uint32_t k = 0; k < c.per_run; ++k) cursor = cursor + 1 >= c.size ? 0 : cursor + 1;
      CHECK(w.ct.gc_last_bucket() == cursor);
    }
  }
}

TEST_CASE("gc interval with nothing expiring: HZ first, then 16*HZ/128") {
  for (uint32_t hz : {100u, 250u, 1000u}) {
    CAPTURE(hz);
    HzWorld w(hz, {1024, 0, 1, 1});
    // Some live conns so that every run scans something.
    for (uint16_t i = 0; i < 50; ++i) {
      REQUIRE(w.forward(udp_packet(ipv4(10, 0, 0, 1), static_cast<uint16_t>(5000 + i), ipv4(10, 0, 0, 2), 53)) ==
              NF_ACCEPT);
    }
    for (int r = 0; r < 6; ++r) w.run_next_gc();
    const uint64_t start = initial_jiffies_for_hz(hz);
    CHECK(w.log.at[0] == start + hz);
    // next_gc_run starts at HZ, so HZ + min_interval is already above the cap.
    const uint32_t want = max_interval(hz);
    CHECK(want == (hz == 100 ? 12u : hz == 250 ? 31u : 125u));
    for (size_t r = 0; r < w.log.gc.size(); ++r) {
      CAPTURE(r);
      CHECK(w.log.gc[r].expired == 0);
      CHECK(w.log.gc[r].next_run == want);
      if (r > 0) CHECK(w.log.at[r] - w.log.at[r - 1] == want);
    }
    CHECK(w.n.count == 50);
  }
}

TEST_CASE("gc interval when more than half expired: min_interval, then it grows back") {
  for (uint32_t hz : {100u, 250u, 1000u}) {
    CAPTURE(hz);
    // One bucket: every run scans the whole table.
    HzWorld w(hz, {1, 0, 1, 1});
    w.n.sysctl.generic_timeout = 2 * hz;
    for (uint8_t i = 1; i <= 6; ++i) {
      REQUIRE(w.forward(generic_packet(ipv4(10, 0, 0, i), ipv4(10, 0, 1, i))) == NF_ACCEPT);
    }
    const uint32_t mn = min_interval(hz), mx = max_interval(hz);
    CHECK(mn == (hz == 1000 ? 7u : 1u));
    // Run until the table has been empty for long enough to reach the cap.
    int guard = 0;
    while (!(w.n.count == 0 && w.log.gc.back().next_run == mx && w.log.gc.back().scanned == 0)) {
      w.run_next_gc();
      REQUIRE(++guard < 1000);
    }
    bool saw_hurry = false;
    uint32_t prev = hz;  // conntrack_gc_work_init
    for (size_t r = 0; r < w.log.gc.size(); ++r) {
      CAPTURE(r);
      const auto& g = w.log.gc[r];
      const uint32_t ratio = g.scanned ? g.expired * 100 / g.scanned : 0;
      const uint32_t want = ratio > 50 ? mn : std::min(prev + mn, mx);
      CHECK(g.next_run == want);
      if (r > 0) CHECK(w.log.at[r] - w.log.at[r - 1] == w.log.gc[r - 1].next_run);
      if (ratio > 50) saw_hurry = true;
      prev = g.next_run;
    }
    REQUIRE(saw_hurry);
    // After the last hurried run the interval climbs by mn: 2mn, 3mn, ...
    size_t last_hurry = 0;
    for (size_t r = 0; r < w.log.gc.size(); ++r)
      if (w.log.gc[r].next_run == mn && w.log.gc[r].expired > 0) last_hurry = r;
    for (size_t r = last_hurry + 1, k = 2; r < w.log.gc.size(); ++r, ++k) {
      CHECK(w.log.gc[r].next_run == std::min<uint32_t>(static_cast<uint32_t>(k) * mn, mx));
    }
    if (hz == 1000) {
      // 14, 21, ..., 119, then capped at 125.
      CHECK(w.log.gc[last_hurry + 1].next_run == 14);
      CHECK(w.log.gc[last_hurry + 16].next_run == 119);
      CHECK(w.log.gc[last_hurry + 17].next_run == 125);
    }
    CHECK(w.n.count == 0);
    CHECK(w.ct.check_invariants({}) == "");
  }
}

TEST_CASE("an expired conn stays until the GC reaches its bucket or a lookup walks past") {
  World w;
  GcLog log(w.clock);
  w.ct.set_observer(&log);
  const uint32_t hz = w.clock.hz();
  w.init.sysctl.generic_timeout = 1 * hz;
  w.wq.advance_to(w.clock.jiffies() + hz);  // first GC run: cursor at 8
  REQUIRE(w.ct.gc_last_bucket() == 8);
  // A conn whose buckets (both directions) lie 300..700 buckets ahead of the
  // cursor: about 40 runs (more than a second) before the GC gets there.
  Packet p;
  uint32_t ob = 0, rb = 0;
  for (uint8_t i = 1;; ++i) {
    REQUIRE(i < 250);
    p = generic_packet(ipv4(10, 0, 0, i), ipv4(10, 0, 1, 1));
    ob = bucket_of(w.ct, w.init, p);
    rb = reply_bucket_of(w.ct, w.init, p);
    if (ob >= 308 && ob <= 708 && rb >= 308 && rb <= 708) break;
  }
  const uint32_t first = std::min(ob, rb);

  SUBCASE("reaped by the GC run that scans its first bucket") {
    nf_conn* ct = nullptr;
    REQUIRE(w.forward(p, nullptr, 0, &ct) == NF_ACCEPT);
    const uint32_t id = ct->id;
    bool expired_seen = false;
    for (;;) {
      const uint32_t before = w.ct.gc_last_bucket();
      const size_t runs = log.gc.size();
      while (log.gc.size() == runs) w.wq.advance_to(w.clock.jiffies() + 1);
      const uint32_t after = w.ct.gc_last_bucket();
      if (nf_ct_is_expired(ct, w.ct.now32())) expired_seen = true;
      if (first > before && first <= after) {
        // This run scanned it: gone, and by the GC.
        CHECK(log.was_freed(id));
        REQUIRE(log.reasons.size() == 1);
        CHECK(log.reasons[0] == DeathReason::kGc);
        CHECK(log.gc.back().expired >= 1);
        break;
      }
      // Not reached yet: still in the table, expired or not.
      REQUIRE_FALSE(log.was_freed(id));
      REQUIRE(in_table(w.ct, ct));
    }
    CHECK(expired_seen);
    CHECK(w.init.count == 0);
  }

  SUBCASE("reaped by a lookup for another tuple of the same bucket") {
    nf_conn* ct = nullptr;
    REQUIRE(w.forward(p, nullptr, 0, &ct) == NF_ACCEPT);
    const uint32_t id = ct->id;
    w.wq.advance_to(w.clock.jiffies() + hz + 1);  // expired, GC far away
    REQUIRE(w.ct.gc_last_bucket() < first);
    REQUIRE(nf_ct_is_expired(ct, w.ct.now32()));
    REQUIRE(in_table(w.ct, ct));
    // Another tuple (UDP) whose bucket is `ob`.
    Packet other;
    for (uint32_t sp = 1024;; ++sp) {
      REQUIRE(sp < 65535);
      other = udp_packet(ipv4(10, 0, 2, 1), static_cast<uint16_t>(sp), ipv4(10, 0, 3, 1), 53);
      if (bucket_of(w.ct, w.init, other) == ob) break;
    }
    CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(other)) == nullptr);
    CHECK(log.was_freed(id));
    REQUIRE(log.reasons.size() == 1);
    CHECK(log.reasons[0] == DeathReason::kTimeout);
    CHECK(w.init.count == 0);
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("after a 'table full' drop the next GC run early-drops down below 95% of max") {
  // max 100: max95 = 95. 100 unreplied UDP conns whose REPLY nodes all lie
  // in buckets 1..8 (the first GC run's slice) and whose ORIGINAL nodes lie
  // outside that slice and outside the new packet's early_drop range.
  World w({1024, 100, 0x12345678, 1});
  GcLog log(w.clock);
  w.ct.set_observer(&log);
  Packet fresh = udp_packet(ipv4(10, 5, 0, 1), 1000, ipv4(10, 5, 0, 2), 53);
  uint32_t e = 0;
  for (uint16_t sp = 1000;; ++sp) {
    fresh.sport = sp;
    e = bucket_of(w.ct, w.init, fresh);
    if (e >= 100 && e < 1000) break;
  }
  auto in_e = [&](uint32_t b) { return b >= e && b < e + NF_CT_EVICTION_RANGE; };
  std::vector<Packet> fill;
  for (uint8_t host = 1; fill.size() < 100; ++host) {
    REQUIRE(host < 200);
    for (uint32_t sp = 1024; sp < 65535 && fill.size() < 100; ++sp) {
      Packet p = udp_packet(ipv4(10, 1, 0, host), static_cast<uint16_t>(sp), ipv4(10, 2, 0, 1), 53);
      const uint32_t rb = reply_bucket_of(w.ct, w.init, p);
      const uint32_t ob = bucket_of(w.ct, w.init, p);
      if (rb < 1 || rb > 8 || (ob >= 1 && ob <= 8) || in_e(ob) || in_e(rb)) continue;
      fill.push_back(p);
    }
  }
  for (const Packet& p : fill) REQUIRE(w.forward(p) == NF_ACCEPT);
  REQUIRE(w.init.count == 100);
  REQUIRE(w.ct.stat(w.init, 0).early_drop == 0);

  // early_drop() finds nothing in its 8 buckets: table full.
  CHECK(w.forward(fresh) == NF_DROP);
  CHECK(w.ct.stat(w.init, 0).drop == 1);
  CHECK(w.ct.gc_early_drop_pending());
  CHECK(w.init.count == 100);

  w.wq.advance_to(w.clock.jiffies() + w.clock.hz());  // the first GC run
  REQUIRE(log.gc.size() == 1);
  // Killed while count >= 95: 100, 99, ..., 95 -> six kills, count 94.
  CHECK(log.gc[0].early_dropped == 6);
  CHECK(w.init.count == 94);
  CHECK(log.dying.size() == 6);
  for (DeathReason r : log.reasons) CHECK(r == DeathReason::kEarlyDrop);
  // Each kill is reported as gc_worker's early-drop branch (the narrative's
  // "may be dropped (gc_worker_can_early_drop)"), before its IPS_DYING.
  std::vector<std::string> gc_facts;
  for (const std::string& f : log.facts)
    if (f.rfind("gc_worker branch " + std::to_string(static_cast<int>(CtBranch::kGcEarlyDrop)), 0) == 0 ||
        f.rfind("nf_ct_delete status bit", 0) == 0)
      gc_facts.push_back(f.substr(0, f.find(" conn")));
  REQUIRE(gc_facts.size() == 12);
  for (size_t i = 0; i < gc_facts.size(); i += 2) {
    CHECK(gc_facts[i].rfind("gc_worker branch", 0) == 0);
    CHECK(gc_facts[i + 1] == "nf_ct_delete status bit " + std::to_string(IPS_DYING_BIT));
  }
  CHECK_FALSE(w.ct.gc_early_drop_pending());
  CHECK(w.ct.stat(w.init, 0).early_drop == 0);  // GC kills are not counted

  // Without a new request the next runs kill nothing.
  w.wq.advance_to(w.clock.jiffies() + w.clock.hz());
  CHECK(w.init.count == 94);
  // And the packet now gets in.
  CHECK(w.forward(fresh) == NF_ACCEPT);
  CHECK(w.init.count == 95);
  CHECK(w.invariants() == "");
}

TEST_CASE("without a 'table full' drop the GC never early-drops") {
  World w({1024, 100, 0x12345678, 1});
  GcLog log(w.clock);
  w.ct.set_observer(&log);
  for (uint16_t i = 0; i < 100; ++i) {
    REQUIRE(w.forward(udp_packet(ipv4(10, 1, 0, 1), static_cast<uint16_t>(2000 + i), ipv4(10, 2, 0, 1), 53)) ==
            NF_ACCEPT);
  }
  w.advance_seconds(20);  // more than a full sweep
  CHECK(w.init.count == 100);
  CHECK(log.dying.empty());
  for (const auto& g : log.gc) CHECK(g.early_dropped == 0);
}

TEST_CASE("a GC kill through an ORIGINAL node ends that bucket's scan, without restart") {
  // Chain O3 O2 O1, all expired. The run kills conn 3; O3 has moved to the
  // dying list, so the walk ends on the dying list's nulls marker. gc_worker
  // does not check the nulls value ("gc is best-effort"): conns 1 and 2 stay
  // until a later run or a lookup.
  World w;
  GcLog log(w.clock);
  w.ct.set_observer(&log);
  uint32_t b = 0;
  std::vector<Packet> pk = colliding_udp(w.ct, w.init, 3, &b);
  std::vector<nf_conn*> conns;
  for (const Packet& p : pk) {
    nf_conn* c = nullptr;
    REQUIRE(w.forward(p, nullptr, 0, &c) == NF_ACCEPT);
    conns.push_back(c);
  }
  // Run the GC (conns still live) until the next run's slice covers b.
  auto next_slice_has = [&](uint32_t bucket) {
    const uint32_t c = w.ct.gc_last_bucket();
    for (uint32_t k = 1; k <= 8; ++k)
      if ((c + k) % w.ct.nf_conntrack_htable_size() == bucket) return true;
    return false;
  };
  int guard = 0;
  while (!next_slice_has(b)) {
    const size_t runs = log.gc.size();
    while (log.gc.size() == runs) w.wq.advance_to(w.clock.jiffies() + 1);
    REQUIRE(++guard < 200);
  }
  for (const Packet& p : pk) REQUIRE_FALSE(next_slice_has(reply_bucket_of(w.ct, w.init, p)));
  REQUIRE(log.dying.empty());
  // Expire them all without running work, then let the overdue run go.
  w.clock.advance(31 * w.clock.hz());
  const size_t runs = log.gc.size();
  w.wq.advance_to(w.clock.jiffies() + 1);
  REQUIRE(log.gc.size() == runs + 1);
  CHECK(log.dying == std::vector<uint32_t>{conns[2]->id});
  CHECK(log.reasons[0] == DeathReason::kGc);
  CHECK(log.gc.back().scanned == 1);
  CHECK(log.gc.back().expired == 1);
  CHECK(log.gc.back().next_run == 1);  // 100% expired: min_interval at HZ 250
  CHECK(in_table(w.ct, conns[0]));
  CHECK(in_table(w.ct, conns[1]));
  CHECK(w.ct.stat(w.init, 0).search_restart == 0);
  CHECK(w.init.count == 2);
  CHECK(w.invariants() == "");
}

// gc_worker counts the nodes of buckets whose hint shows no expired conn,
// lookups count the nodes of chains whose hint rules out both a match and
// an expired conn, and confirm skips clash walks the hint rules out; all
// others are walked exactly. This runs the same traffic (UDP, and TCP whose
// deadlines move earlier) twice, with and without the hints, on a table
// big enough for many GC slices (4096 buckets: 32 per run) and wrapping
// cursors, with conns expiring at scattered times and lookups reaping some,
// and requires identical GC reports, lookups, kills and frees.
TEST_CASE("the bucket hints skip only walks that change nothing") {
  auto run = [](bool fast) {
    HzWorld w(250, ConntrackConfig{4096, 0, 0x12345678u, 1, /*exact_walks=*/!fast});
    uint32_t next = 0;
    for (int step = 0; step < 400; ++step) {
      // A few new conns per jiffy-step; some get a reply (longer timeout).
      for (int k = 0; k < 20; ++k, ++next) {
        const nf_inet_addr src =
            ipv4(10, static_cast<uint8_t>(next >> 16), static_cast<uint8_t>(next >> 8), static_cast<uint8_t>(next));
        const nf_inet_addr dst = ipv4(192, 0, 2, 1);
        const uint16_t sport = static_cast<uint16_t>(1024 + next % 5000);
        w.forward(udp_packet(src, sport, dst, 53));
        if (next % 3 == 0) w.forward(udp_packet(dst, 53, src, sport));
      }
      // TCP conns: established (5 days), then, a few steps later, a FIN
      // (FIN_WAIT, 2 min) or an RST (CLOSE, 10 s) moves their deadline
      // earlier, which must lower their buckets' hints.
      const nf_inet_addr server = ipv4(192, 0, 2, 80);
      const nf_inet_addr client = ipv4(10, 200, static_cast<uint8_t>(step >> 8), static_cast<uint8_t>(step));
      if (step < 300) {
        w.forward(tcp_packet(client, 40000, server, 443, TCPHDR_SYN, 100));
        w.forward(tcp_packet(server, 443, client, 40000, TCPHDR_SYN | TCPHDR_ACK, 900, 101));
        w.forward(tcp_packet(client, 40000, server, 443, TCPHDR_ACK, 101, 901));
      }
      if (step >= 5 && step < 305) {
        const nf_inet_addr old = ipv4(10, 200, static_cast<uint8_t>((step - 5) >> 8), static_cast<uint8_t>(step - 5));
        w.forward(tcp_packet(old, 40000, server, 443, step % 2 != 0 ? TCPHDR_FIN | TCPHDR_ACK : TCPHDR_RST, 101, 901));
      }
      w.wq.advance_to(w.clock.jiffies() + 37);
      if (step % 50 == 0) REQUIRE(w.ct.check_invariants({}) == "");  // hints too
    }
    w.wq.advance_to(w.clock.jiffies() + 200 * 250);  // everything expires
    return w.log;
  };
  const GcLog slow = run(false), fast = run(true);
  REQUIRE(slow.gc.size() == fast.gc.size());
  REQUIRE(slow.gc.size() > 100);
  uint64_t expired = 0;
  for (size_t i = 0; i < slow.gc.size(); ++i) {
    CHECK(slow.gc[i].scanned == fast.gc[i].scanned);
    CHECK(slow.gc[i].expired == fast.gc[i].expired);
    CHECK(slow.gc[i].buckets == fast.gc[i].buckets);
    CHECK(slow.gc[i].next_run == fast.gc[i].next_run);
    expired += slow.gc[i].expired;
  }
  CHECK(expired > 1000);
  CHECK(slow.lookups.size() > 10000);
  CHECK(slow.lookups == fast.lookups);
  CHECK(slow.dying == fast.dying);
  CHECK(slow.freed == fast.freed);
  CHECK(slow.at == fast.at);
}

// The bucket hints' deadline bounds are 16-bit and rely on the GC
// revisiting every bucket; a core driven without its work running (here:
// 12 hours of jiffies, past the bounds' wrap window at HZ 250) must not
// trust them. A lookup in the only bucket must still reap the expired conn
// it walks past, as the kernel's does, and the GC's next run walks a full
// cycle exactly before trusting them again.
TEST_CASE("the bucket hints are not trusted after the GC did not run for hours") {
  HzWorld w(250, ConntrackConfig{1, 0, 0x12345678u, 1});
  const nf_inet_addr server = ipv4(192, 0, 2, 53);
  w.forward(udp_packet(ipv4(10, 0, 0, 1), 1111, server, 53));
  REQUIRE(w.n.count == 1);
  w.clock.advance(12u * 3600u * 250u);  // no work runs
  w.forward(udp_packet(ipv4(10, 0, 0, 2), 2222, server, 53));
  REQUIRE(w.log.dying.size() == 1);
  CHECK(w.log.dying[0] == 1);
  CHECK(w.log.reasons[0] == DeathReason::kTimeout);
  CHECK(w.n.count == 1);
  CHECK(w.ct.check_invariants({}) == "");
  // The GC resumes: its first run finds the pause and walks exactly.
  w.run_next_gc();
  CHECK(w.log.gc.back().scanned == 2);
  CHECK(w.ct.check_invariants({}) == "");
}
