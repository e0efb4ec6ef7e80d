#include "sim/scenario/pcap_library.h"

#include <dlfcn.h>

#include <string>

#include "core/nf_conntrack_common.h"

namespace ctsim {

namespace {

struct Loaded {
  PcapLibrary lib{};
  Status status;
};

// Resolves `name` into `*fn`; false (and the reason in *why) if missing.
template <typename Fn>
bool resolve(void* handle, const char* name, Fn* fn, std::string* why) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) {
    const char* e = ::dlerror();
    *why = e != nullptr ? e : name;
    return false;
  }
  *fn = reinterpret_cast<Fn>(sym);
  return true;
}

Loaded load() {
  Loaded l;
  // The soname the build linked against (CMake reads it from the libpcap.so
  // link), then the development link itself.
  void* h = nullptr;
  std::string why;
  for (const char* name : {CTSIM_LIBPCAP_SONAME, "libpcap.so"}) {
    h = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h != nullptr) break;
    if (why.empty()) {
      const char* e = ::dlerror();
      why = e != nullptr ? e : name;
    }
  }
  if (h == nullptr) {
    l.status = Status::IOError("cannot load libpcap (" CTSIM_LIBPCAP_SONAME "): " + why);
    return l;
  }
  why.clear();
  PcapLibrary& p = l.lib;
#define CTSIM_PCAP_RESOLVE(fn) resolve(h, #fn, &p.fn, &why)
  const bool ok =
      CTSIM_PCAP_RESOLVE(pcap_fopen_offline_with_tstamp_precision) && CTSIM_PCAP_RESOLVE(pcap_datalink) &&
      CTSIM_PCAP_RESOLVE(pcap_compile) && CTSIM_PCAP_RESOLVE(pcap_setfilter) && CTSIM_PCAP_RESOLVE(pcap_freecode) &&
      CTSIM_PCAP_RESOLVE(pcap_geterr) && CTSIM_PCAP_RESOLVE(pcap_next_ex) && CTSIM_PCAP_RESOLVE(pcap_close) &&
      CTSIM_PCAP_RESOLVE(pcap_open_dead_with_tstamp_precision) && CTSIM_PCAP_RESOLVE(pcap_dump_fopen) &&
      CTSIM_PCAP_RESOLVE(pcap_dump) && CTSIM_PCAP_RESOLVE(pcap_dump_flush) && CTSIM_PCAP_RESOLVE(pcap_dump_file) &&
      CTSIM_PCAP_RESOLVE(pcap_dump_close) && CTSIM_PCAP_RESOLVE(pcap_create) && CTSIM_PCAP_RESOLVE(pcap_set_snaplen) &&
      CTSIM_PCAP_RESOLVE(pcap_set_timeout) && CTSIM_PCAP_RESOLVE(pcap_set_buffer_size) &&
      CTSIM_PCAP_RESOLVE(pcap_activate) && CTSIM_PCAP_RESOLVE(pcap_setnonblock) && CTSIM_PCAP_RESOLVE(pcap_dispatch) &&
      CTSIM_PCAP_RESOLVE(pcap_get_selectable_fd);
#undef CTSIM_PCAP_RESOLVE
  if (!ok) l.status = Status::IOError("libpcap (" CTSIM_LIBPCAP_SONAME ") lacks an entry point: " + why);
  return l;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

}  // namespace

Status load_pcap() { return loaded().status; }

const PcapLibrary& pcap() {
  const Loaded& l = loaded();
  CT_ASSERT(l.status.ok(), "libpcap used without a successful load_pcap()");
  return l.lib;
}

}  // namespace ctsim
