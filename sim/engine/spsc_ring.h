// A bounded ring between one producer thread and one consumer thread: the
// producer fills slots in place and publishes them, the consumer reads
// them in the same order and releases them. Either side blocks (on a
// condition variable, no spinning) only when the ring is full or empty.
//
// Indices are published in batches of kBatch slots (and whenever a side
// is about to wait), so that the two threads touch each other's cache
// line once per batch, not once per slot. A side that sleeps asks to be
// woken only when there is a good part of the ring to work on (a quarter
// of it filled, or half of it free): a producer faster than its consumer
// would otherwise be woken, and sleep again, every batch.
//
// Invariants: 0 <= tail_ - head_ <= capacity until close(); slots [head_, tail_) (mod
// capacity) are the producer's published, unread items; a published slot
// is written only by the producer before its publication and read only by
// the consumer after it (release/acquire on tail_), and a released slot
// the other way round (on head_).
//
// Threading: exactly one producer thread and one consumer thread; the
// consumer may close() at any time.
#ifndef CTSIM_SIM_ENGINE_SPSC_RING_H_
#define CTSIM_SIM_ENGINE_SPSC_RING_H_

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace ctsim {

template <class T>
class SpscRing {
 public:
  static constexpr uint64_t kBatch = 32;

  // `capacity`: a power of two, at least 2 * kBatch.
  explicit SpscRing(size_t capacity)
      : slots_(std::make_unique<T[]>(capacity)), mask_(capacity - 1), fill_to_wake_(std::max<uint64_t>(kBatch, capacity / 4)) {
    assert(capacity >= 2 * kBatch && (capacity & (capacity - 1)) == 0);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer: the next slot to fill, waiting while the ring is full;
  // nullptr once the consumer has closed the ring.
  T* slot() {
    while (produced_ - head_seen_ > mask_) {
      publish();
      const uint64_t h = head_.load(std::memory_order_acquire);
      if (h == kClosed) return nullptr;
      if (produced_ - h <= mask_) {
        head_seen_ = h;
        break;
      }
      // Until half the ring is free, or the ring is closed (kClosed is
      // above every mark).
      const uint64_t mark = produced_ - (mask_ + 1) / 2;
      sleep_until(producer_wake_at_, producer_wake_, mark, [&] { return head_.load(std::memory_order_seq_cst) >= mark; });
    }
    return &slots_[produced_ & mask_];
  }
  // Producer: the slot slot() gave is filled. Published at the end of a
  // batch, or by publish().
  void push() {
    ++produced_;
    if (produced_ % kBatch == 0) publish_batch();
  }
  // Producer: makes every pushed slot visible to the consumer, and wakes
  // it if it sleeps, however little it asked for (the producer's last
  // call, or before it waits).
  void publish() {
    if (tail_.load(std::memory_order_relaxed) != produced_) tail_.store(produced_, std::memory_order_seq_cst);
    flushed_.store(produced_, std::memory_order_seq_cst);
    wake(consumer_wake_at_, consumer_wake_, produced_, true);
  }

  // Consumer: the oldest published item, waiting while there is none.
  T& front() {
    while (consumed_ == tail_seen_) {
      release();
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (consumed_ != tail_seen_) break;
      // Until a quarter of the ring is filled, or the producer flushed
      // what it had (it may have nothing more for a long time).
      const uint64_t seen = tail_seen_;
      sleep_until(consumer_wake_at_, consumer_wake_, seen + fill_to_wake_, [&] {
        return tail_.load(std::memory_order_seq_cst) >= seen + fill_to_wake_ ||
               flushed_.load(std::memory_order_seq_cst) > seen;
      });
    }
    return slots_[consumed_ & mask_];
  }
  // Consumer: done with front()'s item; its slot goes back to the
  // producer at the end of a batch.
  void pop() {
    ++consumed_;
    if (consumed_ % kBatch == 0) release();
  }
  // Consumer: no more items are wanted. The producer's slot() returns
  // nullptr where it would wait on a full ring (a producer waiting now is
  // woken), so it stops within a ring's worth of items.
  void close() {
    head_.store(kClosed, std::memory_order_seq_cst);
    wake(producer_wake_at_, producer_wake_, kClosed, true);
  }

 private:
  void publish_batch() {
    tail_.store(produced_, std::memory_order_seq_cst);
    wake(consumer_wake_at_, consumer_wake_, produced_, false);
  }
  void release() {
    if (head_.load(std::memory_order_relaxed) == consumed_) return;
    head_.store(consumed_, std::memory_order_seq_cst);
    wake(producer_wake_at_, producer_wake_, consumed_, false);
  }
  // Sleeping and waking. A side about to sleep says up to where the other
  // side's index must move (`wake_at`, 0: not sleeping), then looks at
  // that index once more (`ready`); a side that moves its index stores it,
  // then looks at the other's wake_at (all seq_cst): one of the two looks
  // sees the other's store, so either the sleeper does not sleep or the
  // other side wakes it. The wake takes the mutex the sleeper holds from
  // its last look until it sleeps, so it cannot fall between the two. A
  // wake is a system call, made only when the sleeper's mark is reached,
  // or by force (publish(), close(): `ready` covers what they do).
  template <class Ready>
  void sleep_until(std::atomic<uint64_t>& wake_at, std::condition_variable& wake_up, uint64_t mark, Ready ready) {
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    wake_at.store(mark, std::memory_order_seq_cst);
    while (!ready()) wake_up.wait(lock);
    wake_at.store(0, std::memory_order_relaxed);
  }
  void wake(const std::atomic<uint64_t>& wake_at, std::condition_variable& wake_up, uint64_t index, bool force) {
    const uint64_t mark = wake_at.load(std::memory_order_seq_cst);
    if (mark == 0 || (!force && index < mark)) return;
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    wake_up.notify_one();
  }

  std::unique_ptr<T[]> slots_;
  const uint64_t mask_;
  const uint64_t fill_to_wake_;  // a sleeping consumer wakes for this many items (or publish())
  // Each side's own counters, and what it last saw of the other's.
  alignas(64) uint64_t produced_ = 0;
  uint64_t head_seen_ = 0;
  alignas(64) uint64_t consumed_ = 0;
  uint64_t tail_seen_ = 0;
  // The published indices (monotonic: they never wrap in 2^64 slots);
  // head_ is kClosed once the consumer has closed the ring.
  static constexpr uint64_t kClosed = ~uint64_t{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> head_{0};
  // tail_ at the producer's last publish() (its last call, or before it
  // sleeps): what the consumer may not wait past.
  std::atomic<uint64_t> flushed_{0};
  // Where each sleeping side wants to be woken (0: awake).
  alignas(64) std::atomic<uint64_t> producer_wake_at_{0};
  std::atomic<uint64_t> consumer_wake_at_{0};
  std::mutex sleep_mutex_;
  std::condition_variable producer_wake_, consumer_wake_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_SPSC_RING_H_
