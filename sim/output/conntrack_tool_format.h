// The text formats of conntrack-tools and procfs, byte for byte:
//   conntrack -E event lines, conntrack -L table lines, /proc/net/nf_conntrack
//   lines, conntrack -S per-CPU lines, /proc/net/stat/nf_conntrack.
//
// Mirrors: libnetfilter_conntrack's default snprintf (as conntrack(8) 1.4.x
//          prints), the kernel's ctnetlink attribute choices (v5.10
//          ctnetlink_conntrack_event / ctnetlink_fill_info), and
//          net/netfilter/nf_conntrack_standalone.c ct_seq_show() /
//          ct_cpu_seq_show().
//
// Threading: pure functions.
#ifndef CTSIM_SIM_OUTPUT_CONNTRACK_TOOL_FORMAT_H_
#define CTSIM_SIM_OUTPUT_CONNTRACK_TOOL_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/nf_conn.h"
#include "core/nf_conntrack_common.h"

namespace ctsim {

enum class EventType : uint8_t { kNew, kUpdate, kDestroy };
const char* event_type_name(EventType t);  // "NEW", "UPDATE", "DESTROY"

// ctnetlink_conntrack_event(): which message an event mask becomes, or
// false if none (no bit that ctnetlink reports).
bool event_type_for_mask(unsigned events, EventType* out);

// One `conntrack -E` line (no newline). `timeout_secs` is what ctnetlink
// would put in CTA_TIMEOUT (absent in v5.10's DESTROY); the protocol state
// is shown when the message carries protoinfo (an IPCT_PROTOINFO event; NEW
// always has it for stateful protocols in practice).
// With `with_id`, the line ends in " id=N" as `conntrack -E -o id` prints
// it (N: ctsim's conn id; the kernel's is a hash of the conn's address).
// `profile`: the kernel's. Under `destroy_timeout_protoinfo` (row L4,
// 5.11+) a DESTROY carries the timeout left (omitted when 0) and the
// protocol state; the state is the tracker's (none from the generic one,
// which tracks DCCP under D1: conntrack(8) still names it dccp, by its
// number, and prints its ports as the 0 of its tuple).
std::string format_event_line(EventType type, unsigned events, const ctcore::nf_conn& ct, uint32_t timeout_secs,
                              const ctcore::kernel_profile& profile, bool with_id = false);

// One `conntrack -L` line (no newline).
std::string format_list_line(const ctcore::nf_conn& ct, uint32_t timeout_secs, const ctcore::kernel_profile& profile);

// One /proc/net/nf_conntrack line (no newline). `use` as the reader sees it
// (ct_seq_show holds a reference while it prints: one more than -L shows).
// `zone=0` is printed as a CONFIG_NF_CONNTRACK_ZONES=y kernel does. The
// protocol's name and ports are its tracker's (`unknown` and none for the
// generic one).
std::string format_proc_line(const ctcore::nf_conn& ct, uint32_t timeout_secs, uint32_t use,
                             const ctcore::kernel_profile& profile);

// One `conntrack -S` line for a CPU (no newline; conntrack-tools leaves a
// trailing space). The counters are those v5.10's ctnetlink sends (no
// `ignore`, which 5.10 no longer reports); `chaintoolong` (the profile's
// stat_chaintoolong, row C2, 5.15+) adds CTA_STATS_CHAIN_TOOLONG at the end.
std::string format_stat_line(uint16_t cpu, const ctcore::ip_conntrack_stat& st, bool chaintoolong = false);

// /proc/net/stat/nf_conntrack: the header and one hex line per CPU. With
// `chaintoolong` (C2) column 8 is `chainlength` and shows chaintoolong;
// v5.10's is `delete_list`, always 0.
std::string format_proc_stat_header(bool chaintoolong = false);
std::string format_proc_stat_line(uint32_t entries, const ctcore::ip_conntrack_stat& st, bool chaintoolong = false);

// The message conntrack -E prints when the socket overran (ENOBUFS).
extern const char* const kEnobufsMessage;

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_CONNTRACK_TOOL_FORMAT_H_
