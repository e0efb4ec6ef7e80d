// Kernel profile rows L1-L3 (docs/KERNELS.md, "Lists and events"): the same
// core sequence under the profile before and after each change, both
// outcomes pinned. L4 (DESTROY content) is in kernel_lists_format_test.cc.
#include <doctest/doctest.h>

#include <vector>

#include "core/nf_conntrack_ecache.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

constexpr int kENOBUFS = -105;

ConntrackConfig config_of(const char* kernel) {
  ConntrackConfig cfg{1024, 4096, 0x12345678, 2};
  const kernel_profile_entry* e = kernel_profile_find(kernel);
  REQUIRE(e != nullptr);
  cfg.profile = e->profile;
  return cfg;
}

ConntrackConfig config_with(kernel_profile p) {
  ConntrackConfig cfg{1024, 4096, 0x12345678, 2};
  cfg.profile = p;
  return cfg;
}

// ctnetlink stand-in: records the conn id of every DESTROY offered and
// fails (-ENOBUFS) while `fail` is set, as a full reliable listener does.
class DestroyLog : public EventNotifier {
 public:
  int ctnetlink_conntrack_event(unsigned events, const nf_conn& ct, const net&, uint32_t, int) override {
    if (events & (1u << IPCT_DESTROY)) destroys.push_back(ct.id);
    ++calls;
    return fail ? kENOBUFS : 0;
  }
  bool fail = false;
  uint32_t calls = 0;
  std::vector<uint32_t> destroys;
};

// Each run of the redelivery work.
class WorkRuns : public Recorder {
 public:
  struct Run {
    uint32_t sent;
    bool congested;
    int delay;
    uint64_t at;
  };
  explicit WorkRuns(const Clock& clock) : clock_(clock) {}
  void on_ecache_work(const net&, uint32_t sent, bool congested, int delay) override {
    runs.push_back({sent, congested, delay, clock_.jiffies()});
  }
  std::vector<Run> runs;

 private:
  const Clock& clock_;
};

nf_conn* udp_conn(World& w, uint16_t sport, net* n = nullptr) {
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(udp_packet(ipv4(198, 18, 30, 1), sport, ipv4(198, 18, 30, 2), 53), n, 0, &ct) == NF_ACCEPT);
  return ct;
}

uint32_t unconfirmed_on(const World& w) { return w.ct.unconfirmed_list_length(w.init); }
uint32_t dying_on(const World& w) { return w.ct.dying_list_length(w.init); }

}  // namespace

TEST_CASE("L1: an unconfirmed conn is on CPU 1's unconfirmed list in 5.10 and on no list in 6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    const bool v510 = std::string(kernel) == "5.10";
    Packet p = udp_packet(ipv4(198, 18, 30, 1), 1000, ipv4(198, 18, 30, 2), 53);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 1, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(unconfirmed_on(w) == (v510 ? 1u : 0u));
    CHECK(Conntrack::list_length(w.init.pcpu[1].unconfirmed) == (v510 ? 1u : 0u));
    CHECK((p.ct->list_pprev == nullptr) == !v510);
    CHECK(w.init.count == 1);  // counted either way
    CHECK(w.invariants({&p}) == "");
    REQUIRE(w.ct.nf_conntrack_confirm(1, p) == NF_ACCEPT);
    CHECK(unconfirmed_on(w) == 0);
    CHECK(w.ct.conns_in_table() == 1);
    CHECK(w.invariants({&p}) == "");
    w.ct.nf_reset_ct(p);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("L1: a killed conn a packet still holds is on the dying list in 5.10 and on no list in 6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    DestroyLog nl;
    w.init.event_cb = &nl;
    w.ct.nf_ctnetlink_set_listener(w.init, true);  // events=2 under 6.18: a listener exists
    const bool v510 = std::string(kernel) == "5.10";
    udp_conn(w, 1000);
    // A second packet takes a reference; then conntrack -F kills the conn.
    Packet p = udp_packet(ipv4(198, 18, 30, 1), 1000, ipv4(198, 18, 30, 2), 53);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(w.ct.nf_conntrack_flush(&w.init) == 1);
    CHECK(nl.destroys.size() == 1);
    CHECK(nf_ct_is_dying(p.ct));
    CHECK(w.ct.conns_in_table() == 0);
    CHECK(w.init.count == 1);
    CHECK(dying_on(w) == (v510 ? 1u : 0u));
    CHECK(is_a_nulls(w.init.ecache_dying_list.first));  // DESTROY went out: not waiting
    CHECK(w.invariants({&p}) == "");
    w.ct.nf_reset_ct(p);
    CHECK(w.init.count == 0);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE(
    "L1: a failed DESTROY parks the conn on CPU 0's dying list in 5.10, on the netns' ecache dying list in "
    "6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    DestroyLog nl;
    w.init.event_cb = &nl;
    w.ct.nf_ctnetlink_set_listener(w.init, true);
    const bool v510 = std::string(kernel) == "5.10";
    nf_conn* ct = udp_conn(w, 1000);
    const uint32_t id = ct->id;
    nl.fail = true;
    CHECK_FALSE(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
    CHECK(ct->use == 1);  // the table's reference, kept for the redelivery
    CHECK(w.init.count == 1);
    CHECK(dying_on(w) == 1);
    CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == (v510 ? 1u : 0u));
    CHECK(Conntrack::list_length(w.init.ecache_dying_list) == (v510 ? 0u : 1u));
    CHECK(w.invariants() == "");
    nl.fail = false;
    w.advance_seconds(1);
    CHECK(nl.destroys == std::vector<uint32_t>{id, id});
    CHECK(w.init.count == 0);
    CHECK(dying_on(w) == 0);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("L1: a clash loser goes to the dying list in 5.10 and to no list in 6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    const bool v510 = std::string(kernel) == "5.10";
    // Two CPUs' first packets of one UDP flow: the second to confirm loses
    // and (UDP allows clashes) is merged into the winner.
    Packet a = udp_packet(ipv4(198, 18, 30, 1), 1000, ipv4(198, 18, 30, 2), 53);
    Packet b = a;
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    nf_conn* loser = b.ct;
    REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
    // Hold the loser with a third reference to see where it sits.
    w.ct.nf_conntrack_get(loser);
    REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
    CHECK(b.ct == a.ct);
    CHECK(dying_on(w) == (v510 ? 1u : 0u));
    CHECK((loser->list_pprev == nullptr) == !v510);
    Packet holder;
    holder.ct = loser;
    CHECK(w.invariants({&a, &b, &holder}) == "");
    w.ct.nf_ct_put(loser);
    w.ct.nf_reset_ct(a);
    w.ct.nf_reset_ct(b);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE(
    "L1: a lookup that reaps an expired conn restarts in 5.10 (the node moved to the dying list) and walks on "
    "in 6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    Recorder rec;
    w.ct.set_observer(&rec);
    uint32_t b = 0;
    std::vector<Packet> pk = colliding_udp(w.ct, w.init, 2, &b);
    nf_conn* old = nullptr;
    REQUIRE(w.forward(pk[0], nullptr, 0, &old) == NF_ACCEPT);
    const uint32_t old_id = old->id;
    w.clock.advance(31 * w.clock.hz());  // expired, the GC not run
    REQUIRE(w.forward(pk[0]) == NF_ACCEPT);
    CHECK(rec.was_freed(old_id));
    // 5.10: the killed node's `next` became the dying list's nulls marker;
    // 6.18: it is on no list and keeps its chain's `next`.
    CHECK(w.ct.stat(w.init, 0).search_restart == (std::string(kernel) == "5.10" ? 1u : 0u));
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("L1: check_invariants refuses a conn on a list the profile does not have") {
  World w(config_of("6.18"));
  Packet p = udp_packet(ipv4(198, 18, 30, 1), 1000, ipv4(198, 18, 30, 2), 53);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  CHECK(w.invariants({&p}) == "");
  // Without the packet's reference the conn is nowhere: caught.
  CHECK(w.invariants() != "");
  w.ct.nf_reset_ct(p);
  CHECK(w.invariants() == "");
}

// Three conns whose DESTROY failed, then the listener has room again.
std::vector<WorkRuns::Run> redeliver_three(kernel_profile profile, std::vector<uint32_t>* order) {
  World w(config_with(profile));
  DestroyLog nl;
  WorkRuns log(w.clock);
  w.ct.set_observer(&log);
  w.init.event_cb = &nl;
  w.ct.nf_ctnetlink_set_listener(w.init, true);
  std::vector<nf_conn*> conns;
  for (uint16_t i = 0; i < 3; ++i) conns.push_back(udp_conn(w, static_cast<uint16_t>(1000 + i)));
  nl.fail = true;
  for (nf_conn* ct : conns) CHECK_FALSE(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  nl.destroys.clear();
  nl.fail = false;
  w.advance_seconds(1);
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
  *order = nl.destroys;
  return log.runs;
}

TEST_CASE(
    "L2: 5.10 resends the dying list in one run; 6.18.0's inverted time_after() one entry per run; the fix "
    "all in one run") {
  std::vector<uint32_t> order;
  kernel_profile p = kernel_profile_find("6.18")->profile;

  auto v510 = redeliver_three(kernel_profile_find("5.10")->profile, &order);
  REQUIRE(v510.size() == 1);
  CHECK(v510[0].sent == 3);
  CHECK(v510[0].delay == -1);
  CHECK(order == std::vector<uint32_t>{3, 2, 1});  // newest first (list head)

  p.redelivery = ct_redelivery::kListOnePerRun;
  auto one = redeliver_three(p, &order);
  REQUIRE(one.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(one[i].sent == 1);
    CHECK(one[i].delay == 0);  // restarted at once
    CHECK(one[i].at == one[0].at);
  }
  CHECK(one[3].sent == 0);
  CHECK(one[3].delay == -1);
  CHECK(order == std::vector<uint32_t>{3, 2, 1});

  p.redelivery = ct_redelivery::kList10ms;
  auto fixed = redeliver_three(p, &order);
  REQUIRE(fixed.size() == 1);
  CHECK(fixed[0].sent == 3);
  CHECK(fixed[0].delay == -1);
  CHECK(order == std::vector<uint32_t>{3, 2, 1});
}

TEST_CASE("L2: a congested listener is retried after HZ/10 in 5.10 and after 10 ms (3 jiffies at HZ=250) in 6.18") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    DestroyLog nl;
    WorkRuns log(w.clock);
    w.ct.set_observer(&log);
    w.init.event_cb = &nl;
    w.ct.nf_ctnetlink_set_listener(w.init, true);
    nf_conn* ct = udp_conn(w, 1000);
    nl.fail = true;
    const uint64_t t0 = w.clock.jiffies();
    CHECK_FALSE(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
    CHECK(w.init.ecache_dwork.due == t0 + 250);  // the first try after HZ, both
    w.wq.advance_to(t0 + 250 + 30);
    REQUIRE(log.runs.size() >= 2);
    const int want = std::string(kernel) == "5.10" ? 25 : 3;
    CHECK(log.runs[0].congested);
    CHECK(log.runs[0].delay == want);
    CHECK(log.runs[1].at - log.runs[0].at == static_cast<uint64_t>(want));
    CHECK(w.init.count == 1);
    nl.fail = false;
    w.advance_seconds(1);
    CHECK(w.init.count == 0);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("L2: in 6.18 a later delivered DESTROY re-kicks the work only while the ecache list holds something") {
  World w(config_of("6.18"));
  DestroyLog nl;
  WorkRuns log(w.clock);
  w.ct.set_observer(&log);
  w.init.event_cb = &nl;
  w.ct.nf_ctnetlink_set_listener(w.init, true);
  nf_conn* a = udp_conn(w, 1000);
  nf_conn* b = udp_conn(w, 1001);
  nl.fail = true;
  CHECK_FALSE(w.ct.nf_ct_kill(a, DeathReason::kDelete));
  nl.fail = false;
  // b's DESTROY gets through before the one-second retry: a's follows at once.
  CHECK(w.ct.nf_ct_kill(b, DeathReason::kDelete));
  w.wq.run_due();
  REQUIRE(log.runs.size() >= 1);
  CHECK(log.runs[0].at == w.clock.jiffies());
  CHECK(log.runs[0].sent == 1);
  CHECK(w.init.count == 0);
  CHECK(w.init.ecache_dwork_pending);  // 5.19+ leaves the flag to the next DESTROY
  nf_conn* c = udp_conn(w, 1002);
  CHECK(w.ct.nf_ct_kill(c, DeathReason::kDelete));
  CHECK_FALSE(w.init.ecache_dwork_pending);  // list empty: nothing pending any more
  CHECK_FALSE(w.wq.is_queued(&w.init.ecache_dwork));
}

TEST_CASE("L3: under events=2 a conn made before any listener never reports, not even its DESTROY") {
  for (const char* kernel : {"5.10", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    const bool v510 = std::string(kernel) == "5.10";
    CHECK(w.init.sysctl.events == (v510 ? 1u : 2u));
    DestroyLog nl;
    w.init.event_cb = &nl;  // ctnetlink is loaded, but nobody listens yet
    nf_conn* early = udp_conn(w, 1000);
    CHECK(static_cast<bool>(early->ecache.present) == v510);
    w.ct.nf_ctnetlink_set_listener(w.init, true);  // conntrack -E starts
    nf_conn* late = udp_conn(w, 1001);
    CHECK(late->ecache.present);
    const uint32_t early_id = early->id, late_id = late->id;
    CHECK(w.ct.nf_ct_kill(early, DeathReason::kDelete));
    CHECK(w.ct.nf_ct_kill(late, DeathReason::kDelete));
    if (v510)
      CHECK(nl.destroys == std::vector<uint32_t>{early_id, late_id});
    else
      CHECK(nl.destroys == std::vector<uint32_t>{late_id});
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("L3: the listener flag is per namespace in 6.1 and global in 6.18") {
  for (const char* kernel : {"6.1", "6.18"}) {
    CAPTURE(kernel);
    World w(config_of(kernel));
    net& other = w.ct.net_add("other", 7);
    w.ct.nf_ctnetlink_set_listener(other, true);  // a listener in the other namespace only
    nf_conn* ct = udp_conn(w, 1000);
    CHECK(static_cast<bool>(ct->ecache.present) == (std::string(kernel) == "6.18"));
    // events=1 ignores listeners; events=0 gives nothing, under both.
    w.init.sysctl.events = 1;
    CHECK(udp_conn(w, 1001)->ecache.present);
    w.init.sysctl.events = 0;
    CHECK_FALSE(udp_conn(w, 1002)->ecache.present);
    // The last listener going clears the flag.
    w.ct.nf_ctnetlink_set_listener(other, false);
    w.init.sysctl.events = 2;
    CHECK_FALSE(udp_conn(w, 1003)->ecache.present);
  }
}
