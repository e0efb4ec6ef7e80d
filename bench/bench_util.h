// Shared helpers for ctsim_bench: timing, memory, allocation counting, a
// deterministic PRNG, synthetic flows and a workqueue the benchmark drives.
//
// Not a test: the benchmark prints figures (and their targets) and exits 0
// unless a workload finds a wrong result (a missed lookup, a lost conn).
//
// Threading: single-threaded.
#ifndef CTSIM_BENCH_BENCH_UTIL_H_
#define CTSIM_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "core/clock.h"
#include "core/nf_conntrack_core.h"
#include "core/packet.h"
#include "core/workqueue.h"
#include "sim/engine/rng.h"

namespace bench {

// The benchmark's clock: this thread's CPU time (user + system), not wall
// time. The machine is shared (load above its core count): CPU time leaves
// out the time the thread waits for a core, which wall time would add.
struct SteadyClock {
  using time_point = double;  // seconds
  static time_point now();
};

// Heap allocations made by the process so far (counting operator new).
uint64_t allocations();

inline double seconds_since(SteadyClock::time_point t0) { return SteadyClock::now() - t0; }

// Peak resident set (VmHWM) and current resident set (VmRSS), bytes.
uint64_t peak_rss_bytes();
uint64_t rss_bytes();

// The project's PRNG (sim/engine/rng.h), one stream per use.
using Rng = ctsim::Rng;

// A random-looking order of 0..count-1 that needs no memory (so that the
// benchmark's own scaffolding does not show in W6's peak RSS): the k-th
// index is (a*k + b) mod count, a coprime to count, both drawn from `seed`.
class InsertionOrder {
 public:
  InsertionOrder(uint32_t count, uint64_t seed);
  uint32_t operator[](uint32_t k) const { return static_cast<uint32_t>((a_ * k + b_) % count_); }

 private:
  uint64_t count_, a_, b_;
};

// Flow i: 10.x.y.z:sport -> 192.0.2.1:53 UDP; distinct for i < 2^30.
inline ctcore::Packet flow(uint32_t i) {
  ctcore::Packet p;
  p.l3num = ctcore::NFPROTO_IPV4;
  const uint32_t host = 0x0a000000u | (i >> 6);
  p.saddr.all[0] =
      ((host >> 24) & 0xff) | (((host >> 16) & 0xff) << 8) | (((host >> 8) & 0xff) << 16) | ((host & 0xff) << 24);
  p.daddr.all[0] = 192u | (0u << 8) | (2u << 16) | (1u << 24);
  p.protonum = ctcore::IPPROTO_UDP_;
  p.sport = static_cast<uint16_t>(1024 + (i & 63));
  p.dport = 53;
  return p;
}

// The reply of flow i (server to client).
inline ctcore::Packet flow_reply(uint32_t i) {
  ctcore::Packet p = flow(i);
  std::swap(p.saddr, p.daddr);
  std::swap(p.sport, p.dport);
  return p;
}

// A workqueue the benchmark runs by hand: run_until() executes due works in
// time order on a ManualClock.
class ManualWorkqueue : public ctcore::Workqueue {
 public:
  explicit ManualWorkqueue(ctcore::ManualClock& clock) : clock_(clock) {}
  bool queue_delayed_work(ctcore::delayed_work* w, uint64_t delay) override;
  bool mod_delayed_work(ctcore::delayed_work* w, uint64_t delay) override;
  bool cancel_delayed_work(ctcore::delayed_work* w) override;
  // Runs every work due up to jiffy `end` (inclusive), advancing the clock;
  // returns how many ran.
  uint64_t run_until(uint64_t end);

 private:
  ctcore::ManualClock& clock_;
  std::vector<ctcore::delayed_work*> pending_;
};

// A table of n established UDP conns (flows 0..n-1, request and reply seen),
// inserted in a random order. Buckets: the v5.10 default for a table at
// nf_conntrack_max (max = 4 x buckets), unless `buckets` is given. A
// `udp_timeout` (jiffies, both UDP sysctls) other than 0 is set first.
struct Table {
  Table(uint32_t n, uint64_t seed, uint32_t buckets = 0, bool with_reply = true, uint32_t udp_timeout = 0,
        const ctcore::kernel_profile& profile = {});
  ctcore::ManualClock clock{250};
  ManualWorkqueue wq{clock};
  std::unique_ptr<ctcore::Conntrack> ct;
  ctcore::net* n = nullptr;
  uint32_t conns = 0;
  uint32_t buckets = 0;
};

// One packet through the conntrack hooks: in, confirm, skb freed.
inline unsigned packet_through(ctcore::Conntrack& ct, ctcore::net& n, ctcore::Packet p) {
  const unsigned v = ct.nf_conntrack_in(n, 0, p, ctcore::NF_INET_PRE_ROUTING);
  ct.nf_conntrack_confirm(0, p);
  ct.nf_reset_ct(p);
  return v;
}

// A figure next to its target. `lower_is_better`: pass iff value <= target.
void print_figure(const char* name, double value, const char* unit, const char* target_text, bool pass);

struct Options {
  bool smoke = false;
  int reps = 3;                                  // best of
  bool w4_trace_off = true, w4_trace_on = true;  // --w4 off|on: one half only
  uint32_t w2_conns = 0;                         // --w2-conns N: W2 at this size only (0: the usual sizes)
  bool w4_writers = true;                        // W4: the events, snapshots, series and explain writers too
};

void run_w1(const Options& o);
void run_w2(const Options& o);
void run_w3(const Options& o);
void run_w4(const Options& o);
void run_w5(const Options& o);
void run_w6(const Options& o);
void run_w8(const Options& o);

}  // namespace bench

#endif  // CTSIM_BENCH_BENCH_UTIL_H_
