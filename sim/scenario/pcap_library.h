// libpcap, loaded when a run first needs it (dlopen), not when ctsim starts.
//
// Why: Debian's libpcap links libdbus, which brings libsystemd, libgcrypt,
// liblzma, libzstd, liblz4, libcap and libgpg-error. Loading and relocating
// them costs every `ctsim run` about 2 ms of CPU (`LD_DEBUG=statistics`:
// 3.6 M cycles in ld.so for a program linking libpcap alone, 0.09 M for
// one linking nothing), also the runs that never read or write a capture,
// which are most of them. Only the readers and writers of captures (and
// `ctsim verify`'s NFLOG reader) call libpcap; each asks load_pcap() first.
//
// The functions keep libpcap's names and types (pcap/pcap.h, only its
// types and constants are used from the header): `pcap().pcap_close(p)`.
//
// Threading: load_pcap() may be called from any thread (a function-local
// static does the loading once); the table is immutable afterwards. The
// library stays loaded until the process exits.
#ifndef CTSIM_SIM_SCENARIO_PCAP_LIBRARY_H_
#define CTSIM_SIM_SCENARIO_PCAP_LIBRARY_H_

#include <pcap/pcap.h>

#include "sim/engine/status.h"

namespace ctsim {

// The entry points ctsim uses, resolved from the loaded library.
struct PcapLibrary {
  decltype(&::pcap_fopen_offline_with_tstamp_precision) pcap_fopen_offline_with_tstamp_precision;
  decltype(&::pcap_datalink) pcap_datalink;
  decltype(&::pcap_compile) pcap_compile;
  decltype(&::pcap_setfilter) pcap_setfilter;
  decltype(&::pcap_freecode) pcap_freecode;
  decltype(&::pcap_geterr) pcap_geterr;
  decltype(&::pcap_next_ex) pcap_next_ex;
  decltype(&::pcap_close) pcap_close;
  decltype(&::pcap_open_dead_with_tstamp_precision) pcap_open_dead_with_tstamp_precision;
  decltype(&::pcap_dump_fopen) pcap_dump_fopen;
  decltype(&::pcap_dump) pcap_dump;
  decltype(&::pcap_dump_flush) pcap_dump_flush;
  decltype(&::pcap_dump_file) pcap_dump_file;
  decltype(&::pcap_dump_close) pcap_dump_close;
  decltype(&::pcap_create) pcap_create;
  decltype(&::pcap_set_snaplen) pcap_set_snaplen;
  decltype(&::pcap_set_timeout) pcap_set_timeout;
  decltype(&::pcap_set_buffer_size) pcap_set_buffer_size;
  decltype(&::pcap_activate) pcap_activate;
  decltype(&::pcap_setnonblock) pcap_setnonblock;
  decltype(&::pcap_dispatch) pcap_dispatch;
  decltype(&::pcap_get_selectable_fd) pcap_get_selectable_fd;
};

// Loads libpcap (the first call) and resolves every entry point above.
// Returns an IOError naming the library and dlerror()'s reason if it
// cannot; then every later call returns the same error.
Status load_pcap();

// The entry points. REQUIRES: load_pcap() returned OK (asserted).
const PcapLibrary& pcap();

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_PCAP_LIBRARY_H_
