#include "sim/output/pcap_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include "sim/scenario/packet_wire.h"
#include "sim/scenario/pcap_library.h"

namespace ctsim {

namespace {

// Snapshot length announced: ctsim writes whole frames, never above this.
constexpr uint32_t kSnaplen = 262144;

void le16(std::string* b, uint16_t v) {
  b->push_back(static_cast<char>(v));
  b->push_back(static_cast<char>(v >> 8));
}
void le32(std::string* b, uint32_t v) {
  le16(b, static_cast<uint16_t>(v));
  le16(b, static_cast<uint16_t>(v >> 16));
}
void pad4(std::string* b) {
  while (b->size() % 4 != 0) b->push_back('\0');
}
// A pcapng option: code, length, value padded to 32 bits.
void option(std::string* b, uint16_t code, std::string_view value) {
  le16(b, code);
  le16(b, static_cast<uint16_t>(value.size()));
  b->append(value);
  pad4(b);
}
// Starts a block of `type`; end_block() fills in its length (twice).
void begin_block(std::string* b, uint32_t type) {
  b->clear();
  le32(b, type);
  le32(b, 0);
}
void end_block(std::string* b) {
  const uint32_t len = static_cast<uint32_t>(b->size() + 4);
  for (int i = 0; i < 4; ++i) (*b)[4 + i] = static_cast<char>(len >> (8 * i));
  le32(b, len);
}

}  // namespace

PcapWriter::~PcapWriter() {
  if (dumper_ != nullptr) pcap().pcap_dump_close(dumper_);
  if (dead_ != nullptr) pcap().pcap_close(dead_);
}

Status PcapWriter::start() {
  if (format_ == PcapFormat::kPcap) {
    if (Status st = load_pcap(); !st.ok()) return Status::IOError(fmt::format("{}: {}", out_.path(), st.message()));
    dead_ = pcap().pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kSnaplen, PCAP_TSTAMP_PRECISION_NANO);
    if (dead_ == nullptr) return Status::IOError(fmt::format("{}: libpcap cannot start a capture", out_.path()));
    // libpcap closes the stream it writes: give it its own descriptor of
    // the same open file, so the OutputFile keeps (and later closes) its own.
    const int fd = ::dup(::fileno(out_.stdio()));
    std::FILE* f = fd < 0 ? nullptr : ::fdopen(fd, "w");
    if (f == nullptr) {
      if (fd >= 0) ::close(fd);
      return Status::IOError(fmt::format("{}: cannot open a stream for libpcap", out_.path()));
    }
    dumper_ = pcap().pcap_dump_fopen(dead_, f);
    if (dumper_ == nullptr) {
      std::fclose(f);
      return Status::IOError(fmt::format("{}: {}", out_.path(), pcap().pcap_geterr(dead_)));
    }
    return Status::OK();
  }
  // Section Header Block: byte-order magic, version 1.0, length unknown.
  begin_block(&block_, 0x0A0D0D0A);
  le32(&block_, 0x1A2B3C4D);
  le16(&block_, 1);
  le16(&block_, 0);
  le32(&block_, 0xffffffffu);
  le32(&block_, 0xffffffffu);
  option(&block_, 4, "ctsim");  // shb_userappl
  le32(&block_, 0);             // opt_endofopt
  end_block(&block_);
  out_.write(block_);
  return Status::OK();
}

uint32_t PcapWriter::interface_id(std::string_view name) {
  if (auto it = interfaces_.find(name); it != interfaces_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(interfaces_.size());
  interfaces_.emplace(std::string(name), id);
  if (format_ == PcapFormat::kPcap) return id;  // classic pcap has no interfaces
  // Interface Description Block: Ethernet, its name, nanosecond resolution.
  begin_block(&block_, 0x00000001);
  le16(&block_, kLinkEthernet);
  le16(&block_, 0);
  le32(&block_, kSnaplen);
  option(&block_, 2, name);                         // if_name
  option(&block_, 9, std::string_view("\x09", 1));  // if_tsresol: 10^-9
  le32(&block_, 0);
  end_block(&block_);
  out_.write(block_);
  return id;
}

std::vector<std::string> PcapWriter::interface_names() const {
  std::vector<std::string> names(interfaces_.size());
  for (const auto& [name, id] : interfaces_) names[id] = name;
  return names;
}

void PcapWriter::write(int64_t ts_ns, std::string_view iface, std::string_view frame, std::string_view comment) {
  if (format_ == PcapFormat::kPcap) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(ts_ns / 1'000'000'000);
    h.ts.tv_usec = static_cast<suseconds_t>(ts_ns % 1'000'000'000);  // nanoseconds: the dead handle says so
    h.caplen = h.len = static_cast<uint32_t>(frame.size());
    pcap().pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, reinterpret_cast<const u_char*>(frame.data()));
    return;
  }
  const uint32_t id = interface_id(iface);
  // Enhanced Packet Block.
  begin_block(&block_, 0x00000006);
  le32(&block_, id);
  const uint64_t ts = static_cast<uint64_t>(ts_ns);
  le32(&block_, static_cast<uint32_t>(ts >> 32));
  le32(&block_, static_cast<uint32_t>(ts));
  le32(&block_, static_cast<uint32_t>(frame.size()));
  le32(&block_, static_cast<uint32_t>(frame.size()));
  block_.append(frame);
  pad4(&block_);
  if (!comment.empty()) {
    option(&block_, 1, comment);  // opt_comment
    le32(&block_, 0);
  }
  end_block(&block_);
  out_.write(block_);
}

Status PcapWriter::finish() {
  if (dumper_ == nullptr) return Status::OK();
  const bool bad = pcap().pcap_dump_flush(dumper_) != 0 || std::ferror(pcap().pcap_dump_file(dumper_));
  pcap().pcap_dump_close(dumper_);
  dumper_ = nullptr;
  if (bad) out_.mark_failed();
  return Status::OK();
}

}  // namespace ctsim
