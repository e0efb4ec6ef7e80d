// A capture's frames as the replay takes them: read through libpcap,
// decoded into packets, given their virtual time and CPU, one frame per
// call. This is the reading half of a `captures[]` entry; CaptureSource
// hands its items to the simulator, directly or from a reader thread.
//
// Time: a packet's virtual time is offset + (its capture time - the first
// frame's) / speed; a packet that follows the one before by less than
// `burst` arrives at the same instant as it; time never goes backwards (a
// frame stamped earlier than the one before arrives with it).
//
// Threading: one thread at a time (the owner's, or after it hands the
// decoder over, the reader thread's).
#ifndef CTSIM_SIM_WORLD_CAPTURE_DECODER_H_
#define CTSIM_SIM_WORLD_CAPTURE_DECODER_H_

#include <cstdint>
#include <string>

#include "core/packet.h"
#include "sim/engine/sim_time.h"
#include "sim/engine/status.h"
#include "sim/scenario/capture_reader.h"
#include "sim/scenario/packet_wire.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

// One frame of the capture, or its end.
struct CaptureItem {
  enum class Kind : uint8_t {
    kPacket,  // pkt, at, cpu and place are set
    kSkip,    // a frame that is not replayed, for `skip`'s reason
    kEnd,     // no more frames (CaptureDecoder::error() says whether the file ended damaged)
  };
  Kind kind = Kind::kEnd;
  FrameSkip skip = FrameSkip::kNone;
  uint16_t cpu = 0;
  SimTime at = 0;
  const CapturePlace* place = nullptr;  // the spec's, or one of its interfaces
  ctcore::Packet pkt;
};

class CaptureDecoder {
 public:
  CaptureDecoder(const CaptureSpec& spec, uint16_t cpus) : spec_(spec), cpus_(cpus), spec_place_{spec.netns, spec.path} {}

  Status open();
  // The next frame that passed the filter, or the end. After kEnd, every
  // call gives kEnd again.
  void next(CaptureItem* out);
  // Why the file ended, if it ended in a damaged record (a capture cut
  // while tcpdump wrote it); empty at a clean end.
  const std::string& error() const { return error_; }

 private:
  SimTime virtual_time(int64_t ts_ns);

  const CaptureSpec& spec_;
  uint16_t cpus_;
  CaptureReader reader_;
  int linktype_ = 0;
  CapturePlace spec_place_;  // netns and path of a spec without interfaces
  const CapturePlace* place_ = &spec_place_;
  bool started_ = false;
  bool ended_ = false;
  int64_t first_ts_ = 0;
  SimTime last_at_ = 0;
  uint64_t replayed_ = 0;  // packets given so far (round-robin CPUs count them)
  std::string error_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_CAPTURE_DECODER_H_
