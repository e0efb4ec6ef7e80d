// A bounded ring between one producer thread and one consumer thread: the
// producer fills slots in place and publishes them, the consumer reads
// them in the same order and releases them. Either side blocks (on a
// condition variable, no spinning) only when the ring is full or empty.
//
// Indices are published in batches of kBatch slots (and whenever a side
// is about to wait), so that the two threads touch each other's cache
// line once per batch, not once per slot.
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
  explicit SpscRing(size_t capacity) : slots_(std::make_unique<T[]>(capacity)), mask_(capacity - 1) {
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
      sleep_until_changed(producer_waiting_, producer_wake_, head_, h);
    }
    return &slots_[produced_ & mask_];
  }
  // Producer: the slot slot() gave is filled. Published at the end of a
  // batch, or by publish().
  void push() {
    ++produced_;
    if (produced_ % kBatch == 0) publish();
  }
  // Producer: makes every pushed slot visible to the consumer.
  void publish() {
    if (tail_.load(std::memory_order_relaxed) == produced_) return;
    tail_.store(produced_, std::memory_order_seq_cst);
    wake(consumer_waiting_, consumer_wake_);
  }

  // Consumer: the oldest published item, waiting while there is none.
  T& front() {
    while (consumed_ == tail_seen_) {
      release();
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (consumed_ != tail_seen_) break;
      sleep_until_changed(consumer_waiting_, consumer_wake_, tail_, tail_seen_);
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
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    producer_wake_.notify_all();
  }

 private:
  void release() {
    if (head_.load(std::memory_order_relaxed) == consumed_) return;
    head_.store(consumed_, std::memory_order_seq_cst);
    wake(producer_waiting_, producer_wake_);
  }
  // Sleeping and waking. A side about to sleep sets its flag, then looks
  // at the other side's index once more; a side that moves its index
  // stores it, then looks at the other's flag (all seq_cst): one of the
  // two looks sees the other's store, so either the sleeper does not sleep
  // or the other side wakes it. The wake takes the mutex the sleeper holds
  // from its last look until it sleeps, so it cannot fall between the two.
  // Only the sleeper writes its flag; a wake is a system call, made only
  // while the flag is up.
  void sleep_until_changed(std::atomic<bool>& waiting, std::condition_variable& wake_up,
                           const std::atomic<uint64_t>& index, uint64_t seen) {
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    waiting.store(true, std::memory_order_seq_cst);
    while (index.load(std::memory_order_seq_cst) == seen) wake_up.wait(lock);
    waiting.store(false, std::memory_order_relaxed);
  }
  void wake(const std::atomic<bool>& waiting, std::condition_variable& wake_up) {
    if (!waiting.load(std::memory_order_seq_cst)) return;
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    wake_up.notify_one();
  }

  std::unique_ptr<T[]> slots_;
  const uint64_t mask_;
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
  alignas(64) std::atomic<bool> producer_waiting_{false};
  std::atomic<bool> consumer_waiting_{false};
  std::mutex sleep_mutex_;
  std::condition_variable producer_wake_, consumer_wake_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_SPSC_RING_H_
