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

uint16_t CaptureSource::cpu_of(const ctcore::Packet& pkt, const CaptureFrame& f) const {
  switch (spec_.cpu_mode) {
    case CaptureSpec::Cpu::kPinned: return spec_.cpu;
    case CaptureSpec::Cpu::kRss: return rss_cpu(rss_hash(pkt), cpus_);
    case CaptureSpec::Cpu::kRoundRobin: return static_cast<uint16_t>((decoded_ - 1) % cpus_);
    case CaptureSpec::Cpu::kMac: {
      const int mark = ethernet_cpu_mark(linktype_, f.data, f.caplen);
      return mark < 0 ? 0 : static_cast<uint16_t>(mark % cpus_);
    }
  }
  return 0;
}

void CaptureSource::fill() {
  count_ = 0;
  cur_ = 0;
  batch_skips_.clear();
  CaptureFrame f;
  while (count_ < kBatch) {
    const CaptureReader::Read r = reader_.next(&f);
    if (r != CaptureReader::Read::kFrame) {
      // The end, or a damaged last record (a capture cut while tcpdump
      // wrote it): reported once the clock gets there, and the replay ends
      // there.
      if (r == CaptureReader::Read::kError) end_error_ = reader_.error();
      ended_ = true;
      return;
    }
    ++frame_no_;
    const SimTime at = virtual_time(f.ts_ns);
    Decoded& d = batch_[count_];
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
      why = decode_frame(linktype_, f.data, f.caplen, f.wirelen, dir, &d.pkt);
    }
    if (why != FrameSkip::kNone) {
      batch_skips_.push_back({frame_no_, why});
      continue;
    }
    ++decoded_;
    d.at = at;
    d.place = place_;
    d.cpu = cpu_of(d.pkt, f);
    d.skips_end = static_cast<uint32_t>(batch_skips_.size());
    ++count_;
  }
}

bool CaptureSource::advance() {
  if (done_) {  // the end was reported
    skips_ = {};
    return false;
  }
  if (cur_ + 1 < count_) {
    ++cur_;
  } else if (!ended_) {
    fill();
  } else {
    cur_ = count_;  // past the batch: only the frames skipped at the end
  }
  const bool have = cur_ < count_;
  // The frames skipped before packet cur_ (or before the end): after the
  // packet before it.
  const uint32_t begin = cur_ == 0 ? 0 : batch_[cur_ - 1].skips_end;
  const uint32_t end = have ? batch_[cur_].skips_end : static_cast<uint32_t>(batch_skips_.size());
  skips_ = std::span<const Skip>(batch_skips_).subspan(begin, end - begin);
  // The summary counts what the clock has reached.
  summary_.frames += skips_.size() + (have ? 1 : 0);
  for (const Skip& k : skips_) ++summary_.skipped[static_cast<size_t>(k.reason)];
  if (have) {
    ++summary_.replayed;
  } else {
    done_ = true;
    summary_.error = end_error_;
  }
  return have;
}

}  // namespace ctsim
