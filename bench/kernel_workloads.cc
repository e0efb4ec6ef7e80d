// W9 (issue 14): what the newer kernels' hash and table shape cost, each
// figure next to v5.10's measured in the same run. siphash (H3, 6.5+)
// against jhash2 per hash; W1's simulator hit path under 6.18 and 5.10;
// W2's packet hit over 1M conns in 6.18's shape (max = buckets, so chains
// of about 2 nodes) and in v5.10's (buckets = N/4, chains of 8); W3's fill
// of 1M new conns under both (6.18 with its chain limit check at confirm).
#include <algorithm>
#include <cstdio>

#include "bench/bench_util.h"
#include "core/nf_conntrack_kernel_profile.h"

namespace bench {

namespace {

using namespace ctcore;

const kernel_profile& profile(const char* name) { return kernel_profile_find(name)->profile; }

// ns per hash_conntrack_raw() of `table`'s profile over `n` distinct tuples.
double hash_ns(int reps, const Table& t, uint32_t n) {
  std::vector<nf_conntrack_tuple> tuples(n);
  for (uint32_t i = 0; i < n; ++i) nf_ct_get_tuple(flow(i), &tuples[i], ctcore::kernel_profile{});
  double best = 1e300;
  uint32_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = SteadyClock::now();
    for (int pass = 0; pass < 10; ++pass)
      for (const nf_conntrack_tuple& tuple : tuples) sink += t.ct->hash_conntrack_raw(tuple, *t.n);
    best = std::min(best, seconds_since(t0) * 1e9 / (10.0 * n));
  }
  if (sink == 1) std::printf(" ");  // keeps the loop
  return best;
}

// ns per packet hit (in + confirm + free) over table `t`'s conns, random order.
double hit_ns(int reps, Table& t, uint64_t ops) {
  double best = 1e300;
  uint64_t hits = 0;
  for (int r = 0; r < reps; ++r) {
    Rng rng(1000u + static_cast<uint64_t>(r), 0);
    const auto t0 = SteadyClock::now();
    for (uint64_t k = 0; k < ops; ++k) {
      Packet p = flow(static_cast<uint32_t>(rng.next() % t.conns));
      t.ct->nf_conntrack_in(*t.n, 0, p, NF_INET_PRE_ROUTING);
      hits += p.ctinfo == IP_CT_ESTABLISHED;
      t.ct->nf_conntrack_confirm(0, p);
      t.ct->nf_reset_ct(p);
    }
    best = std::min(best, seconds_since(t0) * 1e9 / static_cast<double>(ops));
  }
  if (hits != ops * static_cast<uint64_t>(reps)) std::printf("!! %llu hits\n", static_cast<unsigned long long>(hits));
  return best;
}

// ns per new conn filling an empty table of `buckets` with `n` flows.
double fill_ns(int reps, uint32_t n, uint32_t buckets, const kernel_profile& p) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    Table t(0, 42 + static_cast<uint64_t>(r), buckets, false, 0, p);
    const auto t0 = SteadyClock::now();
    for (uint32_t i = 0; i < n; ++i) packet_through(*t.ct, *t.n, flow(i));
    best = std::min(best, seconds_since(t0) * 1e9 / n);
    if (t.n->count != n) std::printf("!! count %u of %u (chaintoolong?)\n", t.n->count, n);
  }
  return best;
}

}  // namespace

void run_w9(const Options& o) {
  const uint32_t n = o.smoke ? 100000 : 1000000;
  const uint64_t ops = o.smoke ? 200000 : 2000000;
  std::printf(
      "W9 kernel profiles: 6.18 (siphash H3, max = buckets, chain limit) against v5.10\n"
      "   (jhash2, buckets = max/4) in the same run. best of %d\n",
      o.reps);
  const double w1_510 = w1_hit_path_ns(o.reps, o.smoke ? 10 : 100, "5.10");
  const double w1_618 = w1_hit_path_ns(o.reps, o.smoke ? 10 : 100, "6.18");
  print_figure("reference: W1 simulator hit path, 5.10", w1_510, "ns/packet", "-", true);
  print_figure("W1 simulator hit path, 6.18", w1_618, "ns/packet", "-", true);
  print_figure("ratio W1 6.18 / 5.10", w1_618 / w1_510, "x", "-", true);
  // Both shapes hold the same N conns.
  const uint32_t buckets_510 = nf_ct_round_buckets((n + 3) / 4);
  const uint32_t buckets_618 = nf_ct_round_buckets(n);
  double h510 = 0, h618 = 0, hit510 = 0, hit618 = 0;
  {
    Table t(n, 42, buckets_510, true, 0, profile("5.10"));
    h510 = hash_ns(o.reps, t, n);
    hit510 = hit_ns(o.reps, t, ops);
  }
  {
    Table t(n, 42, buckets_618, true, 0, profile("6.18"));
    if (t.n->count != n) std::printf("!! 6.18 table holds %u\n", t.n->count);
    h618 = hash_ns(o.reps, t, n);
    hit618 = hit_ns(o.reps, t, ops);
  }
  std::printf(" hash_conntrack_raw over %u tuples\n", n);
  print_figure("jhash2 (5.10)", h510, "ns/hash", "-", true);
  print_figure("siphash H3 (6.5+)", h618, "ns/hash", "-", true);
  print_figure("siphash - jhash2", h618 - h510, "ns/hash", "-", true);
  std::printf(" W2 packet hit over %u conns: 5.10 buckets %u (%.1f nodes/bucket), 6.18 buckets %u (%.1f)\n", n,
              buckets_510, 2.0 * n / buckets_510, buckets_618, 2.0 * n / buckets_618);
  print_figure("5.10 shape, jhash2", hit510, "ns/packet", "-", true);
  print_figure("6.18 shape, siphash", hit618, "ns/packet", "<= 502 ns (2x OVS)", hit618 <= 502);
  print_figure("ratio 6.18 / 5.10", hit618 / hit510, "x", "-", true);
  print_figure("ratio 6.18 hit / W1 5.10", hit618 / w1_510, "x", "-", true);
  const double f510 = fill_ns(o.reps, n, buckets_510, profile("5.10"));
  const double f618 = fill_ns(o.reps, n, buckets_618, profile("6.18"));
  std::printf(" W3 fill an empty table with %u new conns\n", n);
  print_figure("5.10 (buckets N/4)", f510, "ns/conn", "-", true);
  print_figure("6.18 (buckets N, chain limit)", f618, "ns/conn", "-", true);
  print_figure("ratio 6.18 / 5.10", f618 / f510, "x", "-", true);
}

}  // namespace bench
