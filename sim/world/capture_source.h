// A `captures[]` entry replayed as traffic (docs/SCENARIO.md "Captures"):
// the capture is read one frame ahead of the clock, so that a capture of
// any size replays in the memory of one frame. The world keeps one pending
// event per capture, for its next packet.
//
// Time: a packet's virtual time is offset + (its capture time - the first
// frame's) / speed; a packet that follows the one before by less than
// `burst` arrives at the same instant as it; time never goes backwards (a
// frame stamped earlier than the one before arrives with it).
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_
#define CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/packet.h"
#include "sim/engine/sim_time.h"
#include "sim/engine/status.h"
#include "sim/scenario/capture_reader.h"
#include "sim/scenario/packet_wire.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

// What a capture's replay did, for the summary.
struct CaptureSummary {
  std::string file;     // as the scenario named it
  uint64_t frames = 0;  // frames that passed the filter
  uint64_t replayed = 0;
  std::array<uint64_t, kFrameSkipCount> skipped{};
  std::string error;  // the file ended in a damaged record (counted, not fatal)
};

class CaptureSource {
 public:
  CaptureSource(const CaptureSpec& spec, uint16_t cpus) : spec_(spec), cpus_(cpus), spec_place_{spec.netns, spec.path} {
    summary_.file = spec.file_text;
  }

  Status open();
  // Reads up to the next packet to replay. False at the end of the file.
  // Frames skipped on the way are in skips() until the next call.
  bool advance();
  // The packet advance() found, its virtual time and CPU, and where it
  // arrives (the spec's netns and path, or the interface its frame names).
  const ctcore::Packet& packet() const { return pkt_; }
  SimTime at() const { return at_; }
  uint16_t cpu() const { return cpu_; }
  const CapturePlace& place() const { return *place_; }

  struct Skip {
    uint64_t frame;
    FrameSkip reason;
  };
  const std::vector<Skip>& skips() const { return skips_; }
  const CaptureSpec& spec() const { return spec_; }
  const CaptureSummary& summary() const { return summary_; }

 private:
  SimTime virtual_time(int64_t ts_ns);

  const CaptureSpec& spec_;
  uint16_t cpus_;
  CaptureReader reader_;
  int linktype_ = 0;
  CapturePlace spec_place_;  // netns and path of a spec without interfaces
  const CapturePlace* place_ = &spec_place_;
  bool started_ = false;
  int64_t first_ts_ = 0;
  SimTime last_at_ = 0;
  uint64_t frame_no_ = 0;
  ctcore::Packet pkt_;
  SimTime at_ = 0;
  uint16_t cpu_ = 0;
  std::vector<Skip> skips_;
  CaptureSummary summary_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_
