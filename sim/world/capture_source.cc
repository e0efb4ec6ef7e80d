#include "sim/world/capture_source.h"

#include "sim/world/rss_toeplitz.h"

namespace ctsim {

Status CaptureSource::open() {
  if (Status s = reader_.open(spec_.file, spec_.filter); !s.ok()) return s;
  linktype_ = reader_.linktype();
  return Status::OK();
}

SimTime CaptureSource::virtual_time(int64_t ts_ns) {
  if (!started_) {
    started_ = true;
    first_ts_ = ts_ns;
    last_at_ = spec_.offset;
  }
  const int64_t delta = ts_ns - first_ts_;
  // Scaled in 128 bits: a day of nanoseconds times 10^6 overflows 64. At
  // speed 1 (the default) the scaling is the identity, and a 128-bit
  // division per packet (a libgcc call) is skipped.
  SimTime at =
      spec_.offset + (spec_.speed_ppm == 1'000'000 ? delta
                                                   : static_cast<SimTime>(static_cast<__int128>(delta) * 1'000'000 /
                                                                          static_cast<__int128>(spec_.speed_ppm)));
  if (at < last_at_ || at - last_at_ < spec_.burst) at = last_at_;
  last_at_ = at;
  return at;
}

bool CaptureSource::advance() {
  skips_.clear();
  CaptureFrame f;
  for (;;) {
    const CaptureReader::Read r = reader_.next(&f);
    if (r == CaptureReader::Read::kEnd) return false;
    if (r == CaptureReader::Read::kError) {
      // A damaged last record (a capture cut while tcpdump wrote it):
      // reported, and the replay ends there.
      summary_.error = reader_.error();
      return false;
    }
    ++frame_no_;
    ++summary_.frames;
    const SimTime at = virtual_time(f.ts_ns);
    FrameSkip why = FrameSkip::kNone;
    if (!spec_.interfaces.empty()) {
      const int mark = ethernet_interface_mark(linktype_, f.data, f.caplen);
      if (mark < 0 || static_cast<size_t>(mark) >= spec_.interfaces.size())
        why = FrameSkip::kNoInterface;
      else
        place_ = &spec_.interfaces[static_cast<size_t>(mark)];
    }
    if (why == FrameSkip::kNone) {
      // A cooked capture holds a forwarded packet twice: the output path
      // takes the outgoing copy, the others the incoming one.
      const CookedDirection dir =
          place_->path == PathKind::kOutput ? CookedDirection::kOutgoing : CookedDirection::kIncoming;
      why = decode_frame(linktype_, f.data, f.caplen, f.wirelen, dir, &pkt_);
    }
    if (why != FrameSkip::kNone) {
      ++summary_.skipped[static_cast<size_t>(why)];
      skips_.push_back({frame_no_, why});
      continue;
    }
    ++summary_.replayed;
    at_ = at;
    switch (spec_.cpu_mode) {
      case CaptureSpec::Cpu::kPinned: cpu_ = spec_.cpu; break;
      case CaptureSpec::Cpu::kRss: cpu_ = rss_cpu(rss_hash(pkt_), cpus_); break;
      case CaptureSpec::Cpu::kRoundRobin: cpu_ = static_cast<uint16_t>((summary_.replayed - 1) % cpus_); break;
      case CaptureSpec::Cpu::kMac: {
        const int mark = ethernet_cpu_mark(linktype_, f.data, f.caplen);
        cpu_ = mark < 0 ? 0 : static_cast<uint16_t>(mark % cpus_);
        break;
      }
    }
    return true;
  }
}

}  // namespace ctsim
