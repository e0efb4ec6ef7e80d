#include "sim/scenario/capture_reader.h"

#include <fmt/format.h>
#include <stdio_ext.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sim/scenario/pcap_library.h"

namespace ctsim {

CaptureReader::~CaptureReader() {
  if (p_ != nullptr) lib_->pcap_close(p_);
}

Status CaptureReader::open(const std::string& path, const std::string& filter) {
  if (Status st = load_pcap(); !st.ok()) return Status::IOError(fmt::format("{}: {}", path, st.message()));
  lib_ = &pcap();
  char err[PCAP_ERRBUF_SIZE] = {0};
  // Our own stream, with a large buffer: libpcap reads each record with two
  // small freads, and stdio's default 4 KiB buffer would make that a read
  // system call every few packets.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return Status::InvalidArgument(fmt::format("{}: cannot read the capture: {}", path, std::strerror(errno)));
  // glibc ignores the size unless given the buffer itself (not zeroed:
  // stdio fills it before reading from it).
  buffer_ = std::make_unique_for_overwrite<char[]>(kStreamBuffer);
  std::setvbuf(f, buffer_.get(), _IOFBF, kStreamBuffer);
  // One thread reads the stream: no lock per fread (two per record).
  __fsetlocking(f, FSETLOCKING_BYCALLER);
  // On success libpcap owns the stream (pcap_close closes it).
  p_ = lib_->pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  if (p_ == nullptr) {
    std::fclose(f);
    return Status::InvalidArgument(fmt::format("{}: cannot read the capture: {}", path, err));
  }
  linktype_ = lib_->pcap_datalink(p_);
  if (!filter.empty()) {
    bpf_program prog;
    if (lib_->pcap_compile(p_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      return Status::InvalidArgument(fmt::format("{}: filter \"{}\": {}", path, filter, lib_->pcap_geterr(p_)));
    const int rc = lib_->pcap_setfilter(p_, &prog);
    lib_->pcap_freecode(&prog);
    if (rc != 0)
      return Status::InvalidArgument(fmt::format("{}: filter \"{}\": {}", path, filter, lib_->pcap_geterr(p_)));
  }
  return Status::OK();
}

CaptureReader::Read CaptureReader::next(CaptureFrame* out) {
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  const int rc = lib_->pcap_next_ex(p_, &h, &data);
  if (rc == 1) {
    // With nanosecond precision libpcap puts nanoseconds in tv_usec.
    out->ts_ns = static_cast<int64_t>(h->ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(h->ts.tv_usec);
    out->data = data;
    out->caplen = h->caplen;
    out->wirelen = h->len;
    return Read::kFrame;
  }
  if (rc == PCAP_ERROR_BREAK) return Read::kEnd;
  error_ = lib_->pcap_geterr(p_);
  return Read::kError;
}

}  // namespace ctsim
