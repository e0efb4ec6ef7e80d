// A `captures[]` entry replayed as traffic (docs/SCENARIO.md "Captures"):
// its frames, read and decoded by a CaptureDecoder, handed to the world
// one packet at a time as the clock reaches them. The world keeps one
// pending event per capture, for its next packet.
//
// Reading ahead: the first kInlineFrames frames are read on the caller's
// thread; a capture that goes on past them is read and decoded by a
// reader thread of its own, at most kRingFrames frames ahead of the
// replay (so a capture of any size replays in the memory of those
// frames), when `read_ahead` is set. The reader thread changes nothing but
// the time the replay takes: the items, and everything made from them,
// are the same in the same order (a test compares the two ways).
//
// Threading: one owner thread calls every public method; the reader
// thread touches only the decoder and the ring's producer side.
#ifndef CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_
#define CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/packet.h"
#include "sim/engine/sim_time.h"
#include "sim/engine/spsc_ring.h"
#include "sim/engine/status.h"
#include "sim/scenario/packet_wire.h"
#include "sim/scenario/scenario.h"
#include "sim/world/capture_decoder.h"

namespace ctsim {

// What a capture's replay did, for the summary.
struct CaptureSummary {
  std::string file;     // as the scenario named it
  uint64_t frames = 0;  // frames that passed the filter
  uint64_t replayed = 0;
  std::array<uint64_t, kFrameSkipCount> skipped{};
  std::string error;  // the file ended in a damaged record (counted, not fatal)
};

// Whether this process can run a reader thread beside the simulation: more
// than one CPU in its affinity mask.
bool capture_read_ahead_possible();

class CaptureSource {
 public:
  static constexpr uint64_t kInlineFrames = 4096;
  static constexpr size_t kRingFrames = 1024;

  CaptureSource(const CaptureSpec& spec, uint16_t cpus, bool read_ahead)
      : spec_(spec), decoder_(spec, cpus), read_ahead_(read_ahead) {
    summary_.file = spec.file_text;
  }
  ~CaptureSource() { stop(); }
  CaptureSource(const CaptureSource&) = delete;
  CaptureSource& operator=(const CaptureSource&) = delete;

  Status open() { return decoder_.open(); }
  // Reads up to the next packet to replay. False at the end of the file.
  // Frames skipped on the way are in skips() until the next call.
  bool advance();
  // The packet advance() found (valid until the next advance()), its
  // virtual time and CPU, and where it arrives (the spec's netns and path,
  // or the interface its frame names).
  const ctcore::Packet& packet() const { return current_->pkt; }
  SimTime at() const { return current_->at; }
  uint16_t cpu() const { return current_->cpu; }
  const CapturePlace& place() const { return *current_->place; }
  // Ends the reading: the reader thread, if one runs, stops and is joined.
  // For the end of a run, which may come before the capture's: a process
  // that exits without destroying the source (ctsim leaves the simulator
  // to the exit) must not exit under a thread reading a stdio stream.
  void stop();
  // Whether the reader thread has taken over the reading.
  bool reading_ahead() const { return reader_.joinable(); }

  struct Skip {
    uint64_t frame;
    FrameSkip reason;
  };
  const std::vector<Skip>& skips() const { return skips_; }
  const CaptureSpec& spec() const { return spec_; }
  const CaptureSummary& summary() const { return summary_; }

 private:
  // The next item: from the decoder itself, or the ring's oldest.
  CaptureItem& next_item();
  void start_reader();

  const CaptureSpec& spec_;
  CaptureDecoder decoder_;  // the reader thread's alone once it runs
  bool read_ahead_;
  CaptureItem item_;                       // the inline reading's item
  const CaptureItem* current_ = &item_;    // the packet advance() found
  bool current_in_ring_ = false;           // current_ is the ring's front (popped at the next advance)
  std::unique_ptr<SpscRing<CaptureItem>> ring_;
  std::thread reader_;
  uint64_t frame_no_ = 0;
  std::vector<Skip> skips_;
  CaptureSummary summary_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_
