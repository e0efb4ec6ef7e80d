#include "sim/world/capture_decoder.h"

#include "sim/world/rss_toeplitz.h"

namespace ctsim {

Status CaptureDecoder::open() {
  if (Status s = reader_.open(spec_.file, spec_.filter); !s.ok()) return s;
  linktype_ = reader_.linktype();
  return Status::OK();
}

SimTime CaptureDecoder::virtual_time(int64_t ts_ns) {
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

void CaptureDecoder::next(CaptureItem* out) {
  CaptureFrame f;
  const CaptureReader::Read r = ended_ ? CaptureReader::Read::kEnd : reader_.next(&f);
  if (r != CaptureReader::Read::kFrame) {
    if (r == CaptureReader::Read::kError && !ended_) error_ = reader_.error();
    ended_ = true;
    out->kind = CaptureItem::Kind::kEnd;
    return;
  }
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
    why = decode_frame(linktype_, f.data, f.caplen, f.wirelen, dir, &out->pkt);
  }
  if (why != FrameSkip::kNone) {
    out->kind = CaptureItem::Kind::kSkip;
    out->skip = why;
    return;
  }
  ++replayed_;
  out->kind = CaptureItem::Kind::kPacket;
  out->at = at;
  out->place = place_;
  switch (spec_.cpu_mode) {
    case CaptureSpec::Cpu::kPinned: out->cpu = spec_.cpu; break;
    case CaptureSpec::Cpu::kRss: out->cpu = rss_cpu(rss_hash(out->pkt), cpus_); break;
    case CaptureSpec::Cpu::kRoundRobin: out->cpu = static_cast<uint16_t>((replayed_ - 1) % cpus_); break;
    case CaptureSpec::Cpu::kMac: {
      const int mark = ethernet_cpu_mark(linktype_, f.data, f.caplen);
      out->cpu = mark < 0 ? 0 : static_cast<uint16_t>(mark % cpus_);
      break;
    }
  }
}

}  // namespace ctsim
