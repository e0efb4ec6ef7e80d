// The event queue's total order: time, then phase, then insertion order.
#include <doctest/doctest.h>

#include "sim/engine/engine.h"
#include "sim/engine/event_queue.h"

#include <set>
#include <tuple>

#include "sim/engine/rng.h"

using namespace ctsim;

TEST_CASE("EventQueue pops by time, then phase, then insertion order") {
  EventQueue q;
  auto push = [&](SimTime t, Phase p, uint32_t tag) {
    Event e;
    e.t = t;
    e.phase = p;
    e.arg = tag;
    q.push(e);
  };
  push(5, Phase::kPacket, 1);
  push(5, Phase::kAction, 2);
  push(1, Phase::kListener, 3);
  push(5, Phase::kPacket, 4);
  push(5, Phase::kWork, 5);
  push(3, Phase::kPacket, 6);
  std::vector<uint32_t> order;
  while (!q.empty()) order.push_back(q.pop().arg);
  CHECK(order == std::vector<uint32_t>{3, 6, 2, 5, 1, 4});
}

// The queue keeps runs of events (those due at the current instant among
// them) in FIFO lanes beside the heap; this checks, against a std::set of (t, phase, seq), that the mix of
// the two still pops in exactly the total order, with many pushes at the
// instant of the last pop in every phase order.
TEST_CASE("EventQueue matches a sorted-set model under mixed now/future pushes") {
  EventQueue q;
  std::set<std::tuple<SimTime, int, uint64_t>> model;
  Rng rng(99, 1);
  SimTime now = 0;
  for (int round = 0; round < 20000; ++round) {
    const int pushes = static_cast<int>(rng.below(4));
    for (int k = 0; k < pushes; ++k) {
      Event e;
      e.t = rng.below(3) == 0 ? now + static_cast<SimTime>(rng.below(5)) : now;
      e.phase = static_cast<Phase>(rng.below(5));
      const uint64_t seq = q.push(e);
      model.emplace(e.t, static_cast<int>(e.phase), seq);
    }
    if (!q.empty() && rng.below(3) != 0) {
      REQUIRE(q.top_time() == std::get<0>(*model.begin()));
      REQUIRE(static_cast<int>(q.top_phase()) == std::get<1>(*model.begin()));
      const Event e = q.pop();
      REQUIRE(std::make_tuple(e.t, static_cast<int>(e.phase), e.seq) == *model.begin());
      model.erase(model.begin());
      now = e.t;
    }
    REQUIRE(q.size() == model.size());
  }
}

// Runs of events at fixed delays (as flows schedule their next packets)
// fill the FIFO lanes, with their rings wrapping and growing; occasional
// events at odd delays and more runs than lanes spill into the heap. The
// pop order must still be exactly the model's.
TEST_CASE("EventQueue matches a sorted-set model with runs of fixed delays") {
  EventQueue q;
  std::set<std::tuple<SimTime, int, uint64_t>> model;
  Rng rng(5, 2);
  const SimTime delays[] = {0, 10, 100, 1000, 250, 7};  // more runs than lanes
  SimTime now = 0;
  for (int round = 0; round < 50000; ++round) {
    const int pushes = static_cast<int>(rng.below(3));
    for (int k = 0; k < pushes; ++k) {
      Event e;
      const int run = static_cast<int>(rng.below(round < 25000 ? 3 : 6));
      e.t = now + (rng.chance(1, 50) ? static_cast<SimTime>(rng.below(5000)) : delays[run]);
      e.phase = rng.chance(1, 20) ? static_cast<Phase>(rng.below(5)) : Phase::kPacket;
      const uint64_t seq = q.push(e);
      model.emplace(e.t, static_cast<int>(e.phase), seq);
    }
    if (!q.empty() && rng.below(5) != 0) {
      REQUIRE(q.would_pop_first(now, Phase::kPacket) ==
              (std::make_tuple(now, static_cast<int>(Phase::kPacket), UINT64_MAX) < *model.begin()));
      const Event e = q.pop();
      REQUIRE(std::make_tuple(e.t, static_cast<int>(e.phase), e.seq) == *model.begin());
      model.erase(model.begin());
      now = e.t;
    }
    REQUIRE(q.size() == model.size());
  }
  while (!q.empty()) {
    const Event e = q.pop();
    REQUIRE(std::make_tuple(e.t, static_cast<int>(e.phase), e.seq) == *model.begin());
    model.erase(model.begin());
  }
  CHECK(model.empty());
}

TEST_CASE("EventQueue keeps FIFO order among thousands of equal keys") {
  EventQueue q;
  for (uint32_t i = 0; i < 5000; ++i) {
    Event e;
    e.t = 7;
    e.phase = Phase::kPacket;
    e.arg = i;
    q.push(e);
  }
  for (uint32_t i = 0; i < 5000; ++i) REQUIRE(q.pop().arg == i);
}

TEST_CASE("Engine runs delayed work at the first time its jiffy is reached") {
  TimeBase tb{250, 1000};
  Engine eng(tb);
  int runs = 0;
  SimTime ran_at = -1;
  ctcore::delayed_work w;
  w.func = [&] {
    ++runs;
    ran_at = eng.now();
  };
  CHECK(eng.queue_delayed_work(&w, 3));
  CHECK_FALSE(eng.queue_delayed_work(&w, 1));  // already pending: unchanged
  Event ev;
  while (!eng.empty()) eng.next(&ev);
  CHECK(runs == 1);
  CHECK(ran_at == 12'000'000);  // 3 jiffies at 250 Hz = 12 ms
  CHECK(eng.jiffies() == 1003);
}

TEST_CASE("Engine::mod_delayed_work moves a pending work; cancel drops it") {
  Engine eng(TimeBase{100, 0});
  int runs = 0;
  ctcore::delayed_work w;
  w.func = [&] { ++runs; };
  eng.queue_delayed_work(&w, 100);
  CHECK(eng.mod_delayed_work(&w, 0));
  Event ev;
  eng.next(&ev);
  CHECK(runs == 1);
  CHECK(eng.now() == 0);
  eng.queue_delayed_work(&w, 5);
  CHECK(eng.cancel_delayed_work(&w));
  while (!eng.empty()) eng.next(&ev);  // the stale event is skipped
  CHECK(runs == 1);
}
