// A minimal world for driving the core directly from tests: a settable
// clock, a workqueue that runs due work when the test advances time, one
// Conntrack, and helpers to build packets and push them through the hooks.
#ifndef CTSIM_TESTS_CORE_HARNESS_H_
#define CTSIM_TESTS_CORE_HARNESS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/nf_conntrack_core.h"
#include "core/packet.h"
#include "core/workqueue.h"

namespace ctest {

using namespace ctcore;

// Runs queued work in due order (ties in queueing order) as time advances.
class TestWorkqueue : public Workqueue {
 public:
  explicit TestWorkqueue(ManualClock& clock) : clock_(clock) {}
  bool queue_delayed_work(delayed_work* w, uint64_t delay) override {
    if (w->pending) return false;
    w->pending = true;
    w->due = clock_.jiffies() + delay;
    w->token = ++seq_;
    queued_.push_back(w);
    return true;
  }
  bool mod_delayed_work(delayed_work* w, uint64_t delay) override {
    bool was = cancel_delayed_work(w);
    queue_delayed_work(w, delay);
    return was;
  }
  bool cancel_delayed_work(delayed_work* w) override {
    bool was = w->pending;
    w->pending = false;
    for (size_t i = 0; i < queued_.size(); ++i) {
      if (queued_[i] == w) {
        queued_.erase(queued_.begin() + static_cast<long>(i));
        break;
      }
    }
    return was;
  }
  // Runs every work due at or before the clock's current jiffies.
  void run_due() {
    for (;;) {
      delayed_work* best = nullptr;
      size_t at = 0;
      for (size_t i = 0; i < queued_.size(); ++i) {
        delayed_work* w = queued_[i];
        if (static_cast<int64_t>(w->due - clock_.jiffies()) > 0) continue;
        if (best == nullptr || w->due < best->due || (w->due == best->due && w->token < best->token)) {
          best = w;
          at = i;
        }
      }
      if (best == nullptr) return;
      queued_.erase(queued_.begin() + static_cast<long>(at));
      best->pending = false;
      best->func();
    }
  }
  // Advances the clock one jiffy at a time to `j`, running due work.
  void advance_to(uint64_t j) {
    while (clock_.jiffies() < j) {
      clock_.advance(1);
      run_due();
    }
  }
  bool is_queued(const delayed_work* w) const {
    for (auto* q : queued_)
      if (q == w) return true;
    return false;
  }

 private:
  ManualClock& clock_;
  std::vector<delayed_work*> queued_;
  uint64_t seq_ = 0;
};

inline nf_inet_addr ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  nf_inet_addr x;
  x.all[0] = static_cast<uint32_t>(a) | (static_cast<uint32_t>(b) << 8) | (static_cast<uint32_t>(c) << 16) |
             (static_cast<uint32_t>(d) << 24);
  return x;
}

inline Packet tcp_packet(nf_inet_addr s, uint16_t sp, nf_inet_addr d, uint16_t dp, uint8_t flags, uint32_t seq = 0,
                         uint32_t ack = 0, uint16_t win = 64240, uint32_t len = 0) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.saddr = s;
  p.daddr = d;
  p.protonum = IPPROTO_TCP_;
  p.sport = sp;
  p.dport = dp;
  p.tcp_flags = flags;
  p.seq = seq;
  p.ack_seq = ack;
  p.window = win;
  p.len = len;
  return p;
}

inline Packet udp_packet(nf_inet_addr s, uint16_t sp, nf_inet_addr d, uint16_t dp) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.saddr = s;
  p.daddr = d;
  p.protonum = IPPROTO_UDP_;
  p.sport = sp;
  p.dport = dp;
  return p;
}

inline Packet icmp_packet(nf_inet_addr s, nf_inet_addr d, uint8_t type, uint8_t code, uint16_t id) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.saddr = s;
  p.daddr = d;
  p.protonum = IPPROTO_ICMP_;
  p.icmp_type = type;
  p.icmp_code = code;
  p.icmp_id = id;
  return p;
}

// One Conntrack with one namespace "init" (more can be added).
struct World {
  ManualClock clock;
  TestWorkqueue wq{clock};
  Conntrack ct;
  net& init;

  explicit World(ConntrackConfig cfg = {1024, 4096, 0x12345678, 2})
      : clock(250), ct(cfg, clock, wq), init(ct.net_add("init", 0)) {}

  // The whole forward path at once: conntrack in, then confirm, then the
  // skb is freed. Returns the final verdict; *out (if given) gets the conn
  // the packet ended on (may be freed afterwards if it was the last ref).
  unsigned forward(Packet p, net* n = nullptr, uint16_t cpu = 0, nf_conn** out = nullptr,
                   ip_conntrack_info* ctinfo = nullptr) {
    net& nn = n ? *n : init;
    unsigned v = ct.nf_conntrack_in(nn, cpu, p, NF_INET_PRE_ROUTING);
    if (v == NF_ACCEPT) v = ct.nf_conntrack_confirm(cpu, p);
    if (out) *out = p.ct;
    if (ctinfo) *ctinfo = p.ctinfo;
    ct.nf_reset_ct(p);
    return v;
  }

  std::string invariants(const std::vector<const Packet*>& held = {}) const {
    std::vector<std::pair<const nf_conn*, uint32_t>> refs;
    for (const Packet* p : held) {
      if (!p->ct) continue;
      bool found = false;
      for (auto& r : refs)
        if (r.first == p->ct) {
          ++r.second;
          found = true;
        }
      if (!found) refs.emplace_back(p->ct, 1);
    }
    return ct.check_invariants(refs);
  }

  void advance_seconds(uint64_t s) { wq.advance_to(clock.jiffies() + s * clock.hz()); }
};

}  // namespace ctest

#endif  // CTSIM_TESTS_CORE_HARNESS_H_
