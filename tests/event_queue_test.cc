// The event queue's total order: time, then phase, then insertion order.
#include <doctest/doctest.h>

#include "sim/engine.h"
#include "sim/event_queue.h"

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
