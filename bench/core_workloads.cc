// W2 (lookup hits vs. a hash-table limit), W3 (new conns), W5 (GC idle
// scan) and W6 (memory per conn): the conntrack core alone, no simulator.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/bench_util.h"
#include "core/huge_pages.h"
#include "core/jhash.h"

namespace bench {

using namespace ctcore;

namespace {

// The physical limit of a lookup: a chained hash table that holds the same
// keys (both directions of every conn, 40-byte tuples, inserted in the same
// order at the head of the same number of buckets, hashed with the same
// jhash2 words and seed) and does nothing but walk the chain and compare.
// Nodes are intrusive (next + key, 48 bytes), laid out in insertion order,
// on the same (huge-page advised) memory as the core's slab and buckets.
class LimitTable {
 public:
  // Holds `conns` conns, with room for `spare` more (insert_new).
  LimitTable(uint32_t conns, uint32_t buckets, uint64_t seed, uint32_t hash_seed, uint32_t spare = 0)
      : buckets_(buckets), seed_(hash_seed), heads_(buckets, nullptr), nodes_(2ull * (uint64_t{conns} + spare)) {
    const InsertionOrder order(conns, seed);
    size_t k = 0;
    for (uint32_t j = 0; j < conns; ++j) {
      const uint32_t i = order[j];
      nf_conntrack_tuple t;
      nf_ct_get_tuple(flow(i), &t, ctcore::kernel_profile{});
      nf_conntrack_tuple r;
      nf_ct_invert_tuple(&r, t);
      insert(&nodes_[k++], t);
      insert(&nodes_[k++], r);
    }
    used_ = k;
  }
  // The limit of a new conn: both directions missed (each chain walked to
  // its end, as lookup and the confirm-time clash check must), then both
  // linked in. REQUIRES: the constructor's `spare` left room.
  bool insert_new(const nf_conntrack_tuple& t, const nf_conntrack_tuple& r) {
    if (find(t) != nullptr || find(r) != nullptr) return false;
    insert(&nodes_[used_++], t);
    insert(&nodes_[used_++], r);
    return true;
  }

  const nf_conntrack_tuple* find(const nf_conntrack_tuple& t) const {
    for (const Node* n = heads_[reciprocal_scale(hash(t), buckets_)]; n != nullptr; n = n->next)
      if (nf_ct_tuple_equal(n->key, t)) return &n->key;
    return nullptr;
  }

 private:
  struct Node {
    Node* next;
    nf_conntrack_tuple key;
  };
  uint32_t hash(const nf_conntrack_tuple& t) const {  // as Conntrack::hash_conntrack_raw
    const uint32_t words[9] = {
        t.src.u3.all[0],
        t.src.u3.all[1],
        t.src.u3.all[2],
        t.src.u3.all[3],
        static_cast<uint32_t>(t.src.u_all) | (static_cast<uint32_t>(t.src.l3num) << 16),
        t.dst.u3.all[0],
        t.dst.u3.all[1],
        t.dst.u3.all[2],
        t.dst.u3.all[3],
    };
    return jhash2(words, 9, seed_ ^ ((static_cast<uint32_t>(t.dst.u_all) << 16) | t.dst.protonum));
  }
  void insert(Node* n, const nf_conntrack_tuple& t) {
    Node*& head = heads_[reciprocal_scale(hash(t), buckets_)];
    n->key = t;
    n->next = head;
    head = n;
  }
  uint32_t buckets_;
  uint32_t seed_;
  size_t used_ = 0;
  std::vector<Node*, HugePageAllocator<Node*>> heads_;
  std::vector<Node, HugePageAllocator<Node>> nodes_;
};

template <typename F>
double best_ns_per(int reps, uint64_t ops, F&& body) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = SteadyClock::now();
    body(r);
    best = std::min(best, seconds_since(t0) * 1e9 / static_cast<double>(ops));
  }
  return best;
}

}  // namespace

void run_w2(const Options& o) {
  std::printf(
      "W2 lookup hits: packets uniformly over N established UDP conns (buckets = N/4,\n"
      "   the v5.10 default at nf_conntrack_max), against a bare chained hash table\n"
      "   of the same keys (the limit). best of %d\n",
      o.reps);
  std::vector<uint32_t> sizes =
      o.smoke ? std::vector<uint32_t>{10000, 100000} : std::vector<uint32_t>{10000, 1000000, 10000000};
  if (o.w2_conns != 0) sizes = {o.w2_conns};
  for (uint32_t n_conns : sizes) {
    const uint64_t ops = o.smoke ? 200000 : std::max<uint64_t>(n_conns, 2000000);
    double ns_packet = 0, ns_find = 0, allocs_per_packet = 0;
    uint32_t buckets = 0;
    {
      Table t(n_conns, 42);
      buckets = t.buckets;
      uint64_t hits = 0;
      const uint64_t a0 = allocations();
      ns_packet = best_ns_per(o.reps, ops, [&](int r) {
        Rng rng(1000u + static_cast<uint64_t>(r), 0);
        for (uint64_t k = 0; k < ops; ++k) {
          Packet p = flow(static_cast<uint32_t>(rng.next() % n_conns));
          t.ct->nf_conntrack_in(*t.n, 0, p, NF_INET_PRE_ROUTING);
          hits += p.ctinfo == IP_CT_ESTABLISHED;
          t.ct->nf_conntrack_confirm(0, p);
          t.ct->nf_reset_ct(p);
        }
      });
      allocs_per_packet = static_cast<double>(allocations() - a0) / static_cast<double>(ops * o.reps);
      if (hits != ops * o.reps)
        std::printf("!! %llu of %llu packets hit\n", (unsigned long long)hits, (unsigned long long)(ops * o.reps));
      ns_find = best_ns_per(o.reps, ops, [&](int r) {
        Rng rng(1000u + static_cast<uint64_t>(r), 0);
        for (uint64_t k = 0; k < ops; ++k) {
          nf_conntrack_tuple tuple;
          nf_ct_get_tuple(flow(static_cast<uint32_t>(rng.next() % n_conns)), &tuple, ctcore::kernel_profile{});
          nf_conntrack_tuple_hash* h = t.ct->nf_conntrack_find_get(*t.n, 0, tuple);
          if (h == nullptr)
            std::printf("!! lookup missed\n");
          else
            t.ct->nf_ct_put(nf_ct_tuplehash_to_ctrack(h));
        }
      });
      if (t.n->count != n_conns) std::printf("!! count changed to %u\n", t.n->count);
    }
    double ns_limit = 0;
    {
      LimitTable lim(n_conns, buckets, 42, 0x5eed1234u ^ 0x9e3779b9u);
      uint64_t found = 0;
      ns_limit = best_ns_per(o.reps, ops, [&](int r) {
        Rng rng(1000u + static_cast<uint64_t>(r), 0);
        for (uint64_t k = 0; k < ops; ++k) {
          nf_conntrack_tuple tuple;
          nf_ct_get_tuple(flow(static_cast<uint32_t>(rng.next() % n_conns)), &tuple, ctcore::kernel_profile{});
          found += lim.find(tuple) != nullptr;
        }
      });
      if (found != ops * o.reps) std::printf("!! limit found %llu\n", (unsigned long long)found);
    }
    std::printf(" N=%u buckets=%u (%.1f nodes/bucket), %llu packets\n", n_conns, buckets, 2.0 * n_conns / buckets,
                static_cast<unsigned long long>(ops));
    print_figure("limit: bare chained lookup", ns_limit, "ns/packet", "-", true);
    print_figure("core: find_get + put", ns_find, "ns/packet", "-", true);
    print_figure("core: in + confirm + free (packet hit)", ns_packet, "ns/packet", "-", true);
    const bool big = n_conns >= 1000000;
    print_figure("ratio packet hit / limit", ns_packet / ns_limit, "x", big ? "<= 1.5x" : "- (N<1M)",
                 ns_packet / ns_limit <= 1.5);
    print_figure("heap allocations per packet hit", allocs_per_packet, "allocs", "0", allocs_per_packet == 0);
  }
}

// W3: new conns. The figure with the target fills a table sized for N
// (v5.10 defaults: buckets N/4, nf_conntrack_max N) from empty with N new
// conns: chains grow from 0 to 8 nodes. The second one adds N more to a
// table already holding N (max lifted): chains grow from 8 to 16 nodes.
// Each is printed next to the limit: the same inserts into the bare
// chained table (both directions missed, each chain walked to its end,
// then both linked).
void run_w3(const Options& o) {
  const uint32_t n_conns = o.smoke ? 50000 : 1000000;
  const uint32_t buckets = nf_ct_round_buckets((n_conns + 3) / 4);
  std::printf("W3 new conns: init + confirm of %u distinct flows (buckets %u). best of %d\n", n_conns, buckets, o.reps);
  auto measure = [&](uint32_t held) {
    double best = 1e300, allocs = 0, best_limit = 1e300;
    for (int r = 0; r < o.reps; ++r) {
      Table t(held, 42 + static_cast<uint64_t>(r), buckets, false);
      const uint64_t a0 = allocations();
      const auto t0 = SteadyClock::now();
      for (uint32_t i = held; i < held + n_conns; ++i) packet_through(*t.ct, *t.n, flow(i));
      best = std::min(best, seconds_since(t0) * 1e9 / n_conns);
      allocs = static_cast<double>(allocations() - a0) / n_conns;
      if (t.n->count != held + n_conns) std::printf("!! count %u\n", t.n->count);
    }
    for (int r = 0; r < o.reps; ++r) {
      LimitTable lim(held, buckets, 42 + static_cast<uint64_t>(r), 0x5eed1234u ^ 0x9e3779b9u, n_conns);
      uint32_t inserted = 0;
      const auto t0 = SteadyClock::now();
      for (uint32_t i = held; i < held + n_conns; ++i) {
        nf_conntrack_tuple t, rt;
        nf_ct_get_tuple(flow(i), &t, ctcore::kernel_profile{});
        nf_ct_invert_tuple(&rt, t);
        inserted += lim.insert_new(t, rt);
      }
      best_limit = std::min(best_limit, seconds_since(t0) * 1e9 / n_conns);
      if (inserted != n_conns) std::printf("!! limit inserted %u\n", inserted);
    }
    return std::array<double, 3>{best, best_limit, allocs};
  };
  const auto fill = measure(0);
  std::printf(" fill an empty table to %u conns (chains 0 -> 8 nodes)\n", n_conns);
  print_figure("limit: two chain misses + two links", fill[1], "ns/conn", "-", true);
  print_figure("new + confirm", fill[0], "ns/conn", "<= 400 ns", fill[0] <= 400);
  print_figure("ratio new + confirm / limit", fill[0] / fill[1], "x", "-", true);
  print_figure("heap allocations per new conn (slab growth)", fill[2], "allocs", "-", true);
  const auto more = measure(n_conns);
  std::printf(" %u more into a table holding %u (chains 8 -> 16 nodes)\n", n_conns, n_conns);
  print_figure("limit: two chain misses + two links", more[1], "ns/conn", "-", true);
  print_figure("new + confirm", more[0], "ns/conn", "-", true);
  print_figure("ratio new + confirm / limit", more[0] / more[1], "x", "-", true);
}

// W5: gc_worker over an idle table. The figure is for conns made with
// their long timeout; the second one is the same table when every conn was
// made with UDP's 30 s and then refreshed to the hour, so that every
// bucket's hint is stale once and its chain is walked (and the hint
// tightened) the first time the GC finds it passed.
void run_w5(const Options& o) {
  const uint32_t n_conns = o.smoke ? 50000 : 1000000;
  const uint32_t minutes = o.smoke ? 1 : 10;
  const uint32_t hour = 3600 * 250;
  std::printf(
      "W5 GC: a %u-conn table (assured UDP, 1 h timeout: nothing expires) idling\n"
      "   through %u virtual minutes of gc_worker runs. best of %d\n",
      n_conns, minutes, o.reps);
  struct Figure {
    double ns_bucket = 1e300, wall = 1e300;
    uint64_t runs = 0, buckets = 0;
  };
  auto measure = [&](bool refreshed) {
    Figure f;
    for (int r = 0; r < o.reps; ++r) {
      Table t(n_conns, 7, 0, false, refreshed ? 0 : hour);
      if (refreshed) {
        t.n->sysctl.udp.timeout_unreplied = hour;
        t.n->sysctl.udp.timeout_replied = hour;
        for (uint32_t i = 0; i < n_conns; ++i) packet_through(*t.ct, *t.n, flow(i));
      }
      const uint64_t end = t.clock.jiffies() + uint64_t{minutes} * 60 * 250;
      const auto t0 = SteadyClock::now();
      f.runs = t.wq.run_until(end);
      const double wall = seconds_since(t0);
      f.buckets = f.runs * (t.buckets / GC_MAX_BUCKETS_DIV);
      f.wall = std::min(f.wall, wall);
      f.ns_bucket = std::min(f.ns_bucket, wall * 1e9 / static_cast<double>(f.buckets));
      if (t.n->count != n_conns) std::printf("!! count %u after idling\n", t.n->count);
    }
    return f;
  };
  const Figure idle = measure(false);
  std::printf(" %llu gc runs, %llu buckets scanned\n", (unsigned long long)idle.runs, (unsigned long long)idle.buckets);
  print_figure("gc scan", idle.ns_bucket, "ns/bucket", "<= 10 ns", idle.ns_bucket <= 10);
  print_figure("CPU time per virtual hour", idle.wall * 60.0 / minutes, "s", "-", true);
  const Figure stale = measure(true);
  print_figure("gc scan, every hint stale once", stale.ns_bucket, "ns/bucket", "-", true);
  print_figure("  CPU time per virtual hour", stale.wall * 60.0 / minutes, "s", "-", true);

  // The same idle table under the 6.18 profile (rows G1-G3): whole-table
  // cycles every ~60 s, each walking every node (the average of the
  // timeouts needs them all; chains whose hint shows 300 s or more left on
  // every conn are stepped without reading them), cut into runs by the
  // modelled 10 ms budget.
  // Buckets are counted from the runs' reports.
  struct Buckets : ctcore::Observer {
    uint64_t runs = 0, buckets = 0;
    void on_gc(uint32_t, uint32_t, uint32_t b, uint32_t, uint32_t) override {
      ++runs;
      buckets += b;
    }
  };
  Figure v618;
  for (int r = 0; r < o.reps; ++r) {
    Table t(n_conns, 7, 0, false, hour, ctcore::kernel_profile_find("6.18")->profile);
    Buckets counted;
    t.ct->set_observer(&counted);
    const uint64_t end = t.clock.jiffies() + uint64_t{minutes} * 60 * 250;
    const auto t0 = SteadyClock::now();
    t.wq.run_until(end);
    const double wall = seconds_since(t0);
    v618.runs = counted.runs;
    v618.buckets = counted.buckets;
    v618.wall = std::min(v618.wall, wall);
    v618.ns_bucket = std::min(v618.ns_bucket, wall * 1e9 / static_cast<double>(std::max<uint64_t>(counted.buckets, 1)));
    if (t.n->count != n_conns) std::printf("!! count %u after idling\n", t.n->count);
  }
  std::printf(" 6.18 profile: %llu gc runs, %llu buckets scanned\n", (unsigned long long)v618.runs,
              (unsigned long long)v618.buckets);
  print_figure("6.18: gc scan (all nodes, most from hints)", v618.ns_bucket, "ns/bucket", "-", true);
  print_figure("6.18: CPU time per virtual hour", v618.wall * 60.0 / minutes, "s", "-", true);
  print_figure("6.18 / 5.10 CPU time per virtual hour", v618.wall / idle.wall, "x", "-", true);
}

void run_w6(const Options& o) {
  std::vector<uint32_t> sizes = o.smoke ? std::vector<uint32_t>{100000} : std::vector<uint32_t>{1000000, 10000000};
  std::printf(
      "W6 memory: peak RSS (VmHWM) of a fresh process holding N confirmed conns\n"
      "   (sizeof(nf_conn) = %zu, buckets N/4)\n",
      sizeof(nf_conn));
  for (uint32_t n_conns : sizes) {
    int fd[2];
    if (pipe(fd) != 0) return;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      uint64_t out[3] = {rss_bytes(), 0, 0};
      {
        Table t(n_conns, 3, 0, false);
        out[1] = peak_rss_bytes();
        out[2] = t.ct->slab_bytes();
      }
      if (write(fd[1], out, sizeof out) != sizeof out) _exit(1);
      _exit(0);
    }
    close(fd[1]);
    uint64_t in[3] = {0, 0, 0};
    const bool ok = read(fd[0], in, sizeof in) == sizeof in;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!ok) {
      std::printf("!! child for N=%u failed\n", n_conns);
      continue;
    }
    std::printf(" N=%u: peak RSS %.1f MiB (process before: %.1f MiB), slab %.1f MiB\n", n_conns, in[1] / 1048576.0,
                in[0] / 1048576.0, in[2] / 1048576.0);
    print_figure("peak RSS / conns", static_cast<double>(in[1]) / n_conns, "bytes/conn", "-", true);
    print_figure("(peak RSS - start RSS) / conns", static_cast<double>(in[1] - in[0]) / n_conns, "bytes/conn", "-",
                 true);
    if (n_conns >= 10000000)
      print_figure("peak RSS at 10M conns", in[1] / 1073741824.0, "GiB", "< 2 GiB", in[1] < (2ull << 30));
  }
}

}  // namespace bench
