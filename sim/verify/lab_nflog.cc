#include "sim/verify/lab_nflog.h"

#include <sys/select.h>

#include <condition_variable>
#include <cstring>

#include "sim/scenario/pcap_library.h"
#include "sim/verify/lab_process.h"

namespace ctsim::verify {

namespace {

// NFULA_ attribute types (linux/netfilter/nfnetlink_log.h).
constexpr uint16_t kAttrPayload = 9;
constexpr uint16_t kAttrPrefix = 10;

}  // namespace

bool decode_nflog(const uint8_t* data, size_t len, NflogMessage* out) {
  if (len < 4) return false;
  size_t i = 4;  // family, version, resource id
  bool have_prefix = false, have_ip = false;
  while (i + 4 <= len) {
    uint16_t tlv_len, tlv_type;
    std::memcpy(&tlv_len, data + i, 2);  // host order, as libpcap passes them
    std::memcpy(&tlv_type, data + i + 2, 2);
    if (tlv_len < 4 || i + tlv_len > len) break;
    const uint8_t* v = data + i + 4;
    const size_t vlen = tlv_len - 4u;
    if (tlv_type == kAttrPrefix) {
      out->prefix.assign(reinterpret_cast<const char*>(v), strnlen(reinterpret_cast<const char*>(v), vlen));
      have_prefix = true;
    } else if (tlv_type == kAttrPayload && vlen >= 1) {
      const int version = v[0] >> 4;
      if (version == 4 && vlen >= 20) {
        out->v6 = false;
        out->stamp = static_cast<uint32_t>(v[4]) << 8 | v[5];
        have_ip = true;
      } else if (version == 6 && vlen >= 40) {
        out->v6 = true;
        out->stamp = (static_cast<uint32_t>(v[1] & 0x0f) << 16) | (static_cast<uint32_t>(v[2]) << 8) | v[3];
        have_ip = true;
      }
    }
    i += (tlv_len + 3u) & ~3u;
  }
  return have_prefix && have_ip;
}

Status NflogReader::start(const std::string& netns, uint16_t group) {
  if (Status st = load_pcap(); !st.ok()) return st;
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  Status result;
  stop_ = false;
  thread_ = std::thread([&, netns, group] {
    pcap_t* p = nullptr;
    {
      NetnsEnter in(netns);  // this thread stays in the namespace
      char err[PCAP_ERRBUF_SIZE] = "";
      Status st = in.status();
      if (st.ok()) {
        const std::string dev = "nflog:" + std::to_string(group);
        p = pcap().pcap_create(dev.c_str(), err);
        if (p) {
          pcap().pcap_set_snaplen(p, 65535);
          pcap().pcap_set_timeout(p, 50);
          pcap().pcap_set_buffer_size(p, 32 << 20);
          if (pcap().pcap_activate(p) < 0) {
            st = Status::IOError("cannot open " + dev + " in " + netns + ": " + pcap().pcap_geterr(p));
            pcap().pcap_close(p);
            p = nullptr;
          } else if (pcap().pcap_datalink(p) != DLT_NFLOG) {
            st = Status::IOError(dev + " did not give NFLOG records");
            pcap().pcap_close(p);
            p = nullptr;
          }
        } else {
          st = Status::IOError("cannot open " + dev + ": " + err);
        }
      }
      std::lock_guard<std::mutex> lock(m);
      result = st;
      ready = true;
      // Stay in the namespace: the socket is bound; reading works from any.
      cv.notify_one();
    }
    if (p) loop(p);
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return ready; });
  if (!result.ok()) {
    lock.unlock();
    thread_.join();
  }
  return result;
}

void NflogReader::loop(void* handle) {
  pcap_t* p = static_cast<pcap_t*>(handle);
  pcap().pcap_setnonblock(p, 1, nullptr);
  auto on_packet = [](u_char* self, const pcap_pkthdr* h, const u_char* bytes) {
    auto* r = reinterpret_cast<NflogReader*>(self);
    NflogMessage msg;
    std::lock_guard<std::mutex> lock(r->mu_);
    if (decode_nflog(bytes, h->caplen, &msg)) {
      r->messages_.push_back(std::move(msg));
    } else {
      ++r->dropped_;
    }
  };
  // Read until told to stop, then drain what is left.
  for (;;) {
    const bool last = stop_.load();
    int n;
    while ((n = pcap().pcap_dispatch(p, -1, on_packet, reinterpret_cast<u_char*>(this))) > 0) {
    }
    if (last) break;
    {
      const int fd = pcap().pcap_get_selectable_fd(p);
      fd_set set;
      FD_ZERO(&set);
      FD_SET(fd, &set);
      timeval tv{0, 20000};
      (void)select(fd + 1, &set, nullptr, nullptr, &tv);
    }
  }
  pcap().pcap_close(p);
}

void NflogReader::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
}

std::vector<NflogMessage> NflogReader::messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

}  // namespace ctsim::verify
