// A `captures[]` entry replayed as traffic (docs/SCENARIO.md "Captures"):
// the capture is read and decoded a batch of up to kBatch packets ahead of
// the clock, so that a capture of any size replays in the memory of one
// batch (reading and decoding a batch at a time keeps libpcap's and the
// decoder's code and data hot: docs/PERFORMANCE.md, W7). Everything the
// outputs see (skips, the summary's counts) happens as the clock reaches
// each packet, exactly as if it were read one at a time. The world keeps
// one pending event per capture, for its next packet.
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
#include <span>
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
  // Moves to the next packet to replay. False at the end of the file.
  // Frames skipped on the way are in skips() until the next call.
  bool advance();
  // The packet advance() found, its virtual time and CPU, and where it
  // arrives (the spec's netns and path, or the interface its frame names).
  const ctcore::Packet& packet() const { return batch_[cur_].pkt; }
  SimTime at() const { return batch_[cur_].at; }
  uint16_t cpu() const { return batch_[cur_].cpu; }
  const CapturePlace& place() const { return *batch_[cur_].place; }

  struct Skip {
    uint64_t frame;
    FrameSkip reason;
  };
  std::span<const Skip> skips() const { return skips_; }
  const CaptureSpec& spec() const { return spec_; }
  const CaptureSummary& summary() const { return summary_; }

 private:
  static constexpr size_t kBatch = 64;
  // One decoded packet. The frames skipped just before it are
  // batch_skips_[the previous packet's skips_end (0 for the first),
  // skips_end).
  struct Decoded {
    ctcore::Packet pkt;
    SimTime at = 0;
    uint16_t cpu = 0;
    const CapturePlace* place = nullptr;
    uint32_t skips_end = 0;
  };
  SimTime virtual_time(int64_t ts_ns);
  // Reads and decodes up to kBatch packets into batch_ (fewer at the end of
  // the file, where ended_ is set; the frames skipped after the last packet
  // are then the rest of batch_skips_).
  void fill();
  // The CPU a decoded packet arrives on (the spec's `cpu`).
  uint16_t cpu_of(const ctcore::Packet& pkt, const CaptureFrame& f) const;

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
  uint64_t decoded_ = 0;  // packets decoded so far (the round-robin CPU's count)
  std::array<Decoded, kBatch> batch_;
  size_t count_ = 0;  // packets in batch_
  size_t cur_ = 0;    // the current one
  bool ended_ = false;  // fill() met the end of the file
  bool done_ = false;   // advance() reported it
  std::string end_error_;  // the damaged last record's error, reported at the end
  std::vector<Skip> batch_skips_;
  std::span<const Skip> skips_;
  CaptureSummary summary_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_CAPTURE_SOURCE_H_
