// Rows G1-G3 (docs/KERNELS.md, "GC"): gc_worker under the `gc` switch of
// the kernel profile, each case run before and after the change on the same
// core sequence (a v5.10 profile with only `gc` switched, so nothing else
// of a newer kernel moves the outcome), pinning both outcomes:
//   G1 whole_table:   the whole table per cycle, the 10 ms budget (ctsim's
//                     cost model) and requeue at delay 0, a 120 s sleep;
//   G2 autotune:      the halving average from INT_MAX;
//   G3 autotune_mean: the integer running mean with a bias of 100 x 60 s,
//                     over both directions of every conn; the yield after
//                     more than 64000/HZ reaps; the 60 s sleep ending on the
//                     timer wheel's 512-jiffy grid (HZ=250).
// The expected numbers are worked out by hand in the comments, from the
// kernel's formulas, not from ctsim's code.
#include <doctest/doctest.h>

#include <vector>

#include "core/workqueue.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

// Records each GC run with its jiffy and where the 5.14+ cycle stands.
class GcRuns : public Recorder {
 public:
  GcRuns(const Clock& clock, const Conntrack& ct) : clock_(clock), ct_(ct) {}
  struct Run {
    uint64_t at;
    GcRun r;
    GcRunEnd end;
    uint32_t next_bucket;
    uint64_t avg;
    uint64_t fires_in;
  };
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override {
    Recorder::on_gc(scanned, expired, buckets, early_dropped, next_run);
    runs.push_back(
        {clock_.jiffies(), gc.back(), ct_.gc_run_end(), ct_.gc_next_bucket(), ct_.gc_avg_timeout(), ct_.gc_fires_in()});
  }
  std::vector<Run> runs;

 private:
  const Clock& clock_;
  const Conntrack& ct_;
};

ConntrackConfig config(ct_gc_mode gc, uint32_t buckets = 1024, bool exact = false) {
  ConntrackConfig cfg{buckets, 4096, 0x12345678, 2};
  cfg.profile.gc = gc;
  cfg.exact_walks = exact;
  return cfg;
}

struct GcWorld {
  ManualClock clock;
  TestWorkqueue wq{clock};
  Conntrack ct;
  net& n;
  GcRuns log{clock, ct};
  GcWorld(ConntrackConfig cfg, uint32_t hz = 250)
      : clock(hz, initial_jiffies_for_hz(hz)), ct(cfg, clock, wq), n(ct.net_add("init", 0)) {
    ct.set_observer(&log);
  }
  void udp(uint32_t k) {
    Packet p = udp_packet(ipv4(198, 18, 20, static_cast<uint8_t>(1 + k % 200)), static_cast<uint16_t>(1024 + k / 200),
                          ipv4(198, 18, 20, 250), 53);
    unsigned v = ct.nf_conntrack_in(n, 0, p, NF_INET_PRE_ROUTING);
    REQUIRE(v == NF_ACCEPT);
    REQUIRE(ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
    ct.nf_reset_ct(p);
  }
  void advance_to(uint64_t j) { wq.advance_to(j); }
  std::string invariants() const { return ct.check_invariants({}); }
};

}  // namespace

TEST_CASE("G1: whole_table walks the whole table per cycle, then sleeps 120 s; v5.10 walks 1/128 per run") {
  for (ct_gc_mode mode : {ct_gc_mode::kSlices, ct_gc_mode::kWholeTable}) {
    CAPTURE(static_cast<int>(mode));
    GcWorld w(config(mode));
    const uint64_t t0 = w.clock.jiffies();
    w.udp(0);
    w.advance_to(t0 + 250);  // the first run, HZ after start (nf_conntrack_init_start)
    REQUIRE(w.log.runs.size() == 1);
    if (mode == ct_gc_mode::kSlices) {
      CHECK(w.log.runs[0].r.buckets == 1024 / 128);
      CHECK(w.log.runs[0].r.next_run == 31);  // min(HZ + HZ/128, 16 * HZ / 128)
    } else {
      CHECK(w.log.runs[0].r.buckets == 1024);
      CHECK(w.log.runs[0].r.scanned == 2);  // both directions of the one conn
      CHECK(w.log.runs[0].end == GcRunEnd::kCycleDone);
      CHECK(w.log.runs[0].r.next_run == 120 * 250);
      // 30000 jiffies is timer-wheel level 3 (4032..32255, granularity
      // 512): the timer fires on the next multiple of 512 after its expiry.
      const uint64_t expiry = t0 + 250 + 30000;
      CHECK(w.log.runs[0].fires_in == ((expiry >> 9) + 1) * 512 - (t0 + 250));
      w.advance_to(t0 + 250 + w.log.runs[0].fires_in);
      REQUIRE(w.log.runs.size() == 2);
      // The UDP conn (30 s) expired long before: reaped 120+ s after start.
      CHECK(w.log.runs[1].r.expired == 1);
    }
    CHECK(w.invariants().empty());
  }
}

TEST_CASE("G1: a run stops when its 10 ms budget has passed and the cycle goes on at once") {
  // HZ=1000: GC_SCAN_MAX_DURATION is 10 jiffies; the run stops after the
  // bucket at which its modelled time (10 ns a bucket) passes 10 jiffies,
  // i.e. reaches 11 ms: after 1,100,000 of the 2^21 buckets.
  for (bool exact : {false, true}) {
    CAPTURE(exact);
    GcWorld w(config(ct_gc_mode::kWholeTable, 1u << 21, exact), 1000);
    const uint64_t t0 = w.clock.jiffies();
    w.advance_to(t0 + 1000);
    REQUIRE(w.log.runs.size() == 1);
    CHECK(w.log.runs[0].end == GcRunEnd::kBudget);
    CHECK(w.log.runs[0].r.buckets == 1'100'000);
    CHECK(w.log.runs[0].next_bucket == 1'100'000);
    CHECK(w.log.runs[0].r.next_run == 0);
    CHECK(w.log.runs[0].fires_in == 11);  // requeued at 0 when the 11 ms run ends
    w.advance_to(t0 + 1000 + 11);
    REQUIRE(w.log.runs.size() == 2);
    CHECK(w.log.runs[1].r.buckets == (1u << 21) - 1'100'000);
    CHECK(w.log.runs[1].end == GcRunEnd::kCycleDone);
    CHECK(w.log.runs[1].next_bucket == 0);
    CHECK(w.log.runs[1].r.next_run == 120 * 1000);
  }
  // v5.10 on the same table: 2^21 / 128 buckets per run, no budget.
  GcWorld w(config(ct_gc_mode::kSlices, 1u << 21), 1000);
  w.advance_to(w.clock.jiffies() + 1000);
  REQUIRE(w.log.runs.size() == 1);
  CHECK(w.log.runs[0].r.buckets == (1u << 21) / 128);
}

TEST_CASE("G2, G3: the sleep is the average of the timeouts of both directions of every conn") {
  // One UDP conn (30 s = 7500 jiffies at HZ=250), made at t0; the first run
  // at t0 + 250 meets its two nodes with 7250 jiffies left each.
  //  G3: avg 15000, count 100. (7250 - 15000) / 101 = -76 (truncated):
  //      14924; (7250 - 14924) / 102 = -75: 14849. Clamped to 250..15000:
  //      14849; less the cycle's time (at least 1 jiffy): sleep 14848.
  //  G2: (2147483647 + 7250) / 2 = 1073745448; (1073745448 + 7250) / 2 =
  //      536876349; clamped: 15000; sleep 14999.
  //  G1: 30000 whatever the table holds.
  struct Want {
    ct_gc_mode mode;
    uint32_t next_run;
    uint64_t avg;
  };
  for (Want want : {Want{ct_gc_mode::kAutotuneMean, 14848, 14849}, Want{ct_gc_mode::kAutotune, 14999, 15000},
                    Want{ct_gc_mode::kWholeTable, 30000, 0}}) {
    CAPTURE(static_cast<int>(want.mode));
    GcWorld w(config(want.mode));
    const uint64_t t0 = w.clock.jiffies();
    w.udp(0);
    w.advance_to(t0 + 250);
    REQUIRE(w.log.runs.size() == 1);
    CHECK(w.log.runs[0].r.scanned == 2);
    CHECK(w.log.runs[0].r.next_run == want.next_run);
    if (want.mode != ct_gc_mode::kWholeTable) CHECK(w.log.runs[0].avg == want.avg);
  }
}

TEST_CASE("G3: an idle expired conn lingers until the next ~60 s sweep, which ends on the timer wheel's grid") {
  // v5.10 reaps the 30 s UDP conn within a few seconds of its expiry (a
  // slice every HZ/8 at most, 128 slices: every bucket within 16 s); G3
  // sleeps 14848 jiffies after the first run (see above), rounded up by
  // the timer wheel (level 3 at HZ=250: a multiple of 512 jiffies).
  for (ct_gc_mode mode : {ct_gc_mode::kSlices, ct_gc_mode::kAutotuneMean}) {
    CAPTURE(static_cast<int>(mode));
    GcWorld w(config(mode));
    const uint64_t t0 = w.clock.jiffies();
    w.udp(0);
    w.advance_to(t0 + 200 * 250);
    REQUIRE(w.log.dying.size() == 1);
    uint64_t reaped_at = 0;
    for (const auto& r : w.log.runs)
      if (r.r.expired == 1) reaped_at = r.at;
    const uint64_t expiry = t0 + 7500;
    if (mode == ct_gc_mode::kSlices) {
      CHECK(reaped_at > expiry);
      CHECK(reaped_at <= expiry + 16 * 250);
    } else {
      const uint64_t first = t0 + 250;
      CHECK(w.log.runs[0].at == first);
      CHECK(reaped_at == (((first + 14848) >> 9) + 1) << 9);
      CHECK(reaped_at % 512 == 0);
      CHECK(w.log.runs[1].at == reaped_at);  // no run in between
      CHECK(reaped_at - expiry > 30 * 250);  // lingers 30+ s after expiry
    }
    CHECK(w.invariants().empty());
  }
}

TEST_CASE("G2, G3: a run yields after more than 64000/HZ reaps; G1 reaps them all in one run") {
  // 300 UDP conns made at once expire together at t0 + 30 s; the second
  // cycle (about 60 s in) meets them. At HZ=250 GC_SCAN_EXPIRED_MAX is 256:
  // the 257th reap makes the count exceed it, and the next node yields
  // (requeue in 1 jiffy, the cycle being under 60 s old; level 0 of the
  // timer wheel fires one jiffy late: 2 jiffies on).
  for (ct_gc_mode mode : {ct_gc_mode::kWholeTable, ct_gc_mode::kAutotune, ct_gc_mode::kAutotuneMean}) {
    CAPTURE(static_cast<int>(mode));
    for (bool exact : {false, true}) {
      CAPTURE(exact);
      GcWorld w(config(mode, 1024, exact));
      const uint64_t t0 = w.clock.jiffies();
      for (uint32_t k = 0; k < 300; ++k) w.udp(k);
      w.advance_to(t0 + 200 * 250);
      std::vector<GcRuns::Run> reaping;
      for (const auto& r : w.log.runs)
        if (r.r.expired != 0) reaping.push_back(r);
      if (mode == ct_gc_mode::kWholeTable) {
        // One run, no yield. (A kill through a conn's ORIGINAL node ends
        // that bucket's walk on v5.10's dying list, as in the kernel: a
        // conn behind it in the chain waits for the next cycle.)
        REQUIRE(reaping.size() == 1);
        CHECK(reaping[0].r.expired > 256);
        CHECK(reaping[0].end == GcRunEnd::kCycleDone);
      } else {
        REQUIRE(w.log.dying.size() == 300);
        // (A conn skipped behind a kill, as above, waits for a later cycle.)
        REQUIRE(reaping.size() >= 2);
        CHECK(reaping[0].r.expired == 257);
        CHECK(reaping[0].end == GcRunEnd::kExpiredMax);
        CHECK(reaping[0].r.next_run == 1);
        CHECK(reaping[1].at == reaping[0].at + 2);
        CHECK(reaping[1].r.expired <= 43);
        CHECK(reaping[1].r.expired >= 40);
        CHECK(reaping[1].end == GcRunEnd::kCycleDone);
      }
      CHECK(w.invariants().empty());
    }
  }
}

TEST_CASE("G3: the timer wheel rounds a GC sleep up to its level's granularity") {
  // kernel/time/timer.c calc_wheel_index: level n holds distances from
  // 63 << 3(n-1) and fires on the next multiple of 8^n after the expiry.
  CHECK(timer_wheel_fire_delay(1000, 1) == 2);             // level 0: one jiffy late
  CHECK(timer_wheel_fire_delay(1000, 62) == 63);           // still level 0
  CHECK(timer_wheel_fire_delay(1000, 63) == 1064 - 1000);  // level 1: next multiple of 8 after 1063
  CHECK(timer_wheel_fire_delay(0, 14848) == 15360);        // level 3: next multiple of 512 after 14848
  CHECK(timer_wheel_fire_delay(0, 14847) == 14848);        // 29 x 512
}

TEST_CASE("G2, G3: the bucket hints' shortcut (chains whose conns all have 300 s or more left) changes nothing") {
  // 200 conns with a 1 h timeout (their chains' steps are done from the
  // hint) and 20 with 30 s (walked), through ten minutes: every run's
  // report and average equal those of the exact walks.
  for (ct_gc_mode mode : {ct_gc_mode::kAutotune, ct_gc_mode::kAutotuneMean}) {
    CAPTURE(static_cast<int>(mode));
    std::vector<GcRuns::Run> runs[2];
    for (bool exact : {false, true}) {
      GcWorld w(config(mode, 64, exact));
      w.n.sysctl.udp.timeout_unreplied = 3600 * 250;
      for (uint32_t k = 0; k < 200; ++k) w.udp(k);
      w.n.sysctl.udp.timeout_unreplied = 30 * 250;
      for (uint32_t k = 200; k < 220; ++k) w.udp(k);
      w.advance_to(w.clock.jiffies() + 600 * 250);
      CHECK(w.invariants().empty());
      runs[exact] = w.log.runs;
    }
    REQUIRE(runs[0].size() == runs[1].size());
    REQUIRE(runs[0].size() >= 10);
    for (size_t k = 0; k < runs[0].size(); ++k) {
      CAPTURE(k);
      CHECK(runs[0][k].at == runs[1][k].at);
      CHECK(runs[0][k].r.scanned == runs[1][k].r.scanned);
      CHECK(runs[0][k].r.expired == runs[1][k].r.expired);
      CHECK(runs[0][k].r.next_run == runs[1][k].r.next_run);
      CHECK(runs[0][k].avg == runs[1][k].avg);
    }
    CHECK(runs[0][0].r.scanned == 440);
  }
}
