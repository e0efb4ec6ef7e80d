#include "bench/bench_util.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <numeric>

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counting global allocation functions: the benchmark checks that the
// established packet path allocates nothing.
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, std::align_val_t al) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const size_t a = static_cast<size_t>(al);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size, std::align_val_t al) { return operator new(size, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace bench {

SteadyClock::time_point SteadyClock::now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

namespace {
uint64_t status_kib(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kib = 0;
  const size_t klen = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, klen) == 0) {
      kib = std::strtoull(line + klen, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib;
}
}  // namespace

uint64_t peak_rss_bytes() { return status_kib("VmHWM:") * 1024; }
uint64_t rss_bytes() { return status_kib("VmRSS:") * 1024; }

bool ManualWorkqueue::queue_delayed_work(ctcore::delayed_work* w, uint64_t delay) {
  if (w->pending) return false;
  w->pending = true;
  w->due = clock_.jiffies() + delay;
  if (std::find(pending_.begin(), pending_.end(), w) == pending_.end()) pending_.push_back(w);
  return true;
}

bool ManualWorkqueue::mod_delayed_work(ctcore::delayed_work* w, uint64_t delay) {
  const bool was = cancel_delayed_work(w);
  queue_delayed_work(w, delay);
  return was;
}

bool ManualWorkqueue::cancel_delayed_work(ctcore::delayed_work* w) {
  const bool was = w->pending;
  w->pending = false;
  return was;
}

uint64_t ManualWorkqueue::run_until(uint64_t end) {
  uint64_t ran = 0;
  for (;;) {
    ctcore::delayed_work* next = nullptr;
    for (ctcore::delayed_work* w : pending_)
      if (w->pending && (next == nullptr || w->due < next->due)) next = w;
    if (next == nullptr || next->due > end) break;
    if (next->due > clock_.jiffies()) clock_.set(next->due);
    next->pending = false;
    next->func();
    ++ran;
  }
  if (clock_.jiffies() < end) clock_.set(end);
  return ran;
}

InsertionOrder::InsertionOrder(uint32_t count, uint64_t seed) : count_(count) {
  Rng rng(seed, 0);
  a_ = count_ > 1 ? rng.next() % count_ : 1;
  while (std::gcd(a_, count_) != 1) ++a_;
  b_ = count_ > 1 ? rng.next() % count_ : 0;
}

Table::Table(uint32_t count, uint64_t seed, uint32_t nbuckets, bool with_reply, uint32_t udp_timeout,
             const ctcore::kernel_profile& profile) {
  buckets = nbuckets != 0 ? nbuckets : ctcore::nf_ct_round_buckets((count + 3) / 4);
  ctcore::ConntrackConfig cfg{buckets, 0, 0x5eed1234u, 1};
  cfg.profile = profile;
  cfg.siphash_rnd = kBenchSiphashKey;
  ct = std::make_unique<ctcore::Conntrack>(cfg, clock, wq);
  n = &ct->net_add("init", 0x9e3779b9u);
  if (udp_timeout != 0) {
    n->sysctl.udp.timeout_unreplied = udp_timeout;
    n->sysctl.udp.timeout_replied = udp_timeout;
  }
  const InsertionOrder order(count, seed);
  for (uint32_t k = 0; k < count; ++k) {
    const uint32_t i = order[k];
    packet_through(*ct, *n, flow(i));
    if (with_reply) packet_through(*ct, *n, flow_reply(i));
  }
  conns = count;
  if (n->count != count) std::printf("!! table holds %u conns, want %u\n", n->count, count);
}

void print_figure(const char* name, double value, const char* unit, const char* target_text, bool pass) {
  // Ratios with two decimals: their targets (1.15x, 1.5x) sit between tenths.
  const bool ratio = std::strcmp(unit, "x") == 0;
  std::printf("  %-44s %10.*f %-12s target %-22s %s\n", name, ratio ? 2 : 1, value, unit, target_text,
              target_text[0] == '-' ? "" : (pass ? "MET" : "MISSED"));
  std::fflush(stdout);
}

}  // namespace bench
