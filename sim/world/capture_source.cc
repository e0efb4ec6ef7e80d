#include "sim/world/capture_source.h"

#include <sched.h>

namespace ctsim {

bool capture_read_ahead_possible() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  return CPU_COUNT(&set) > 1;
}

void CaptureSource::stop() {
  if (!reader_.joinable()) return;
  ring_->close();  // a reader waiting on a full ring wakes and stops
  reader_.join();
}

void CaptureSource::start_reader() {
  ring_ = std::make_unique<SpscRing<CaptureItem>>(kRingFrames);
  // The decoder moves to the thread here: the owner does not touch it
  // again (the thread's start orders what the owner did before it).
  reader_ = std::thread([this] {
    for (;;) {
      CaptureItem* slot = ring_->slot();
      if (slot == nullptr) return;  // closed: the replay stopped first
      decoder_.next(slot);
      const bool end = slot->kind == CaptureItem::Kind::kEnd;
      ring_->push();
      if (end) {
        ring_->publish();
        return;
      }
    }
  });
}

CaptureItem& CaptureSource::next_item() {
  if (ring_ == nullptr) {
    if (read_ahead_ && frame_no_ >= kInlineFrames) {
      start_reader();
    } else {
      decoder_.next(&item_);
      return item_;
    }
  }
  return ring_->front();
}

bool CaptureSource::advance() {
  skips_.clear();
  if (current_in_ring_) {
    ring_->pop();  // the packet the world has copied by now
    current_in_ring_ = false;
  }
  for (;;) {
    CaptureItem& item = next_item();
    switch (item.kind) {
      case CaptureItem::Kind::kEnd:
        // The end item stays the ring's front: nothing follows it.
        // decoder_.error() was written before it was published.
        summary_.error = decoder_.error();
        return false;
      case CaptureItem::Kind::kSkip:
        ++frame_no_;
        ++summary_.frames;
        ++summary_.skipped[static_cast<size_t>(item.skip)];
        skips_.push_back({frame_no_, item.skip});
        if (ring_ != nullptr) ring_->pop();
        continue;
      case CaptureItem::Kind::kPacket:
        ++frame_no_;
        ++summary_.frames;
        ++summary_.replayed;
        current_ = &item;
        current_in_ring_ = ring_ != nullptr;
        return true;
    }
  }
}

}  // namespace ctsim
