// The reader thread's ring (sim/engine/spsc_ring.h): every item arrives
// once, in order, whichever side is faster, and closing it stops a
// producer that waits on a full ring.
#include "sim/engine/spsc_ring.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace {

struct Item {
  uint64_t value = 0;
  uint64_t check = 0;  // a second word written with it: a torn slot shows
};

// Spins for about `n` loop turns (a stand-in for work on one side).
void busy(uint64_t n) {
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < n; ++i) x = x + i;
}

// Sends `count` items through a ring of `capacity`, the producer and the
// consumer each pausing every so often (`producer_pause` / `consumer_pause`
// turns every 1000 items), and checks what arrives.
void run_through(size_t capacity, uint64_t count, uint64_t producer_pause, uint64_t consumer_pause) {
  ctsim::SpscRing<Item> ring(capacity);
  std::thread producer([&] {
    for (uint64_t i = 0; i < count; ++i) {
      Item* s = ring.slot();
      if (s == nullptr) return;  // never: nobody closes this ring (the count below shows it)
      s->value = i;
      s->check = i * 0x9e3779b97f4a7c15ull;
      ring.push();
      if (i % 1000 == 0) busy(producer_pause);
    }
    ring.publish();
  });
  uint64_t in_order = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const Item& it = ring.front();
    if (it.value == i && it.check == i * 0x9e3779b97f4a7c15ull) ++in_order;
    ring.pop();
    if (i % 1000 == 0) busy(consumer_pause);
  }
  producer.join();
  CHECK(in_order == count);
}

}  // namespace

TEST_CASE("every item arrives once and in order, with either side the faster") {
  run_through(64, 200'000, 0, 0);
  run_through(64, 200'000, 200'000, 0);  // the consumer waits on an empty ring
  run_through(64, 200'000, 0, 200'000);  // the producer waits on a full ring
  run_through(1024, 1'000'003, 0, 0);    // a count that is not a whole batch: publish() sends the rest
}

TEST_CASE("an item is published by the end of its batch or by publish(), not before the consumer can use it") {
  ctsim::SpscRing<Item> ring(64);
  // 40 items: one batch of 32 goes out by itself, the last 8 with publish().
  std::thread producer([&] {
    for (uint64_t i = 0; i < 40; ++i) {
      ring.slot()->value = i + 1;
      ring.push();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ring.publish();
  });
  uint64_t sum = 0;
  for (int i = 0; i < 40; ++i) {
    sum += ring.front().value;
    ring.pop();
  }
  producer.join();
  CHECK(sum == 40 * 41 / 2);
}

TEST_CASE("close() stops a producer that waits on a full ring") {
  ctsim::SpscRing<Item> ring(64);
  uint64_t pushed = 0;
  bool stopped = false;
  std::thread producer([&] {
    for (;;) {
      Item* s = ring.slot();
      if (s == nullptr) {
        stopped = true;
        return;
      }
      s->value = pushed;
      ring.push();
      ++pushed;
    }
  });
  // Take a few, then stop reading: the producer fills the ring and waits.
  for (int i = 0; i < 10; ++i) {
    CHECK(ring.front().value == static_cast<uint64_t>(i));
    ring.pop();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ring.close();
  producer.join();  // hangs (the test times out) if close() did not wake it
  CHECK(stopped);
  CHECK(pushed <= 64 + 10);  // at most a ring's worth past what was read
}
