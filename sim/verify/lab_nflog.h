// Reads what a lab namespace's log rules (lab_ruleset.h) sent to NFLOG,
// through libpcap's "nflog:<group>" device opened inside that namespace:
// for each message its prefix ("A new orig", "D3", "Z") and the packet
// number kernel-run stamped into the packet (the IPv4 identification, the
// IPv6 flow label).
//
// Threading: the reader owns one thread; messages() may be called after
// stop().
#ifndef CTSIM_SIM_VERIFY_LAB_NFLOG_H_
#define CTSIM_SIM_VERIFY_LAB_NFLOG_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/engine/status.h"

namespace ctsim::verify {

struct NflogMessage {
  std::string prefix;
  uint32_t stamp = 0;  // IPv4 id (16 bits) or IPv6 flow label (20 bits)
  bool v6 = false;
};

class NflogReader {
 public:
  NflogReader() = default;
  ~NflogReader() { stop(); }
  NflogReader(const NflogReader&) = delete;
  NflogReader& operator=(const NflogReader&) = delete;

  // Opens nflog:<group> in network namespace `netns` and starts reading.
  // Returns once the socket is bound (messages from then on are kept).
  Status start(const std::string& netns, uint16_t group);
  void stop();
  // In arrival order.
  std::vector<NflogMessage> messages() const;
  uint64_t dropped() const { return dropped_; }

 private:
  void loop(void* handle);
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<NflogMessage> messages_;
  uint64_t dropped_ = 0;
};

// Decodes one NFLOG record as libpcap delivers it (LINKTYPE_NFLOG: a
// 4-byte header, then TLVs). False when it holds no prefix or no IP header.
bool decode_nflog(const uint8_t* data, size_t len, NflogMessage* out);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_LAB_NFLOG_H_
