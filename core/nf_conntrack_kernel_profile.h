// Which kernel the core behaves as: every conntrack behaviour that changed
// between v5.10 and v6.18 is one named switch here, and a profile is the
// set of switch values of one kernel release (docs/KERNELS.md has the
// table, rows x versions, with the commit and the test of each row).
//
// The core consults these switches, and nothing else, where the kernels
// differ: no version numbers are compared anywhere in core/. A scenario may
// start from a named profile and override single switches for what-if work.
//
// Names: each switch is named for what it changes, in the words the
// scenario's `kernel` object uses; `row` ties it to the change table (H1,
// C1, G3, ...).
//
// Threading: plain data; the profile table is immutable.
#ifndef CTSIM_CORE_NF_CONNTRACK_KERNEL_PROFILE_H_
#define CTSIM_CORE_NF_CONNTRACK_KERNEL_PROFILE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/nf_conntrack_common.h"

namespace ctcore {

// hash_conntrack_raw()'s form (rows H1-H3; nf_conntrack_hash_forms.h).
enum class ct_hash_form : uint8_t {
  kJhash2,          // v5.10: jhash2 over the tuple words, seed ^ net_hash_mix ^ (dport<<16 | proto)
  kSiphashStruct,   // H1, v5.15 .. v6.1.y: siphash over a zeroed 48-byte struct
  kSiphash4u64,     // H2, v6.2 .. v6.4.4: siphash_4u64 of folded tuple words
  kSiphashTuple,    // H3, v6.5+ (6.4.5+): siphash over the tuple's first 39 bytes
};

// The default table size rule of nf_conntrack_init_start() (row S1).
enum class ct_sizing : uint8_t {
  kV510,  // buckets = RAM/16 KiB/8 capped 16384 (>1 GiB) / 65536 (>4 GiB), min 32; max = 4 x buckets
  kV515,  // caps 65536 / 262144, min 1024; max = buckets
};

// gc_worker()'s schedule (rows G1-G3).
enum class ct_gc_mode : uint8_t {
  kSlices,        // v5.10: 1/128 of the buckets per run, interval HZ/128 .. HZ/8
  kWholeTable,    // G1, 5.14 .. 5.17: whole table per cycle, 10 ms budget, then sleep 120 s
  kAutotune,      // G2, 5.18 .. 6.0.2: sleep from a running halving average of the timeouts
  kAutotuneMean,  // G3, 6.1+ (6.0.3): sleep from an integer running mean, bias 60 s x 100
};

// How DESTROY events that failed are redelivered (rows L1, L2).
enum class ct_redelivery : uint8_t {
  kPcpuDying,     // v5.10: one work per netns walks every CPU's dying list, 32 per batch
  kListOnePerRun, // 5.19 .. 6.18.x: dedicated ecache dying list; the inverted time_after()
                  // restarts the work after each success, so one entry per run
  kList10ms,      // the fix: up to 10 ms of entries per run
};

// The TCP window check's failure verdict (row T5).
enum class ct_tcp_window : uint8_t {
  kInvalid,          // v5.10: any failure is INVALID unless be_liberal
  kOvershootAccept,  // 6.0 (5.15.68): data overshooting the window within maxwin is accepted
  kIgnore,           // 6.1: too-old SEQ/ACK and overshoot are IGNORED (no state change, not invalid)
};

// Which packets re-initialise a TCP direction's window data (row T3).
enum class ct_tcp_reinit : uint8_t {
  kV510,  // a new SYN in SYN_SENT (original), a SYN-ACK in SYN_RECV (reply)
  kV517,  // + a retransmitted SYN-ACK or simultaneous-open SYN in SYN_SENT
  kV518,  // SYN-bearing packets only, either direction, in SYN_SENT/SYN_RECV, when end > td_end
};

// Where the "ctnetlink has a listener" flag of nf_conntrack_events=2 lives (row L3).
enum class ct_listener_scope : uint8_t { kNetns, kGlobal };

struct kernel_profile {
  // H1-H3: the hash function.
  ct_hash_form hash = ct_hash_form::kJhash2;
  // C1: at insertion, more than base + prandom(rand) chain entries passed
  // without a match refuses the insertion (chaintoolong). base 0: no limit.
  uint32_t chain_max_base = 0;
  uint32_t chain_max_rand = 0;
  // C2: the chaintoolong counter exists (conntrack -S, /proc/net/stat column 8).
  bool stat_chaintoolong = false;
  // C3: a TCP reopen (-NF_REPEAT) is counted as invalid before the retry.
  bool repeat_counts_invalid = true;
  // S1: the default table size.
  ct_sizing sizing = ct_sizing::kV510;
  // G1-G3: the GC worker's schedule.
  ct_gc_mode gc = ct_gc_mode::kSlices;
  // L1: unconfirmed conns sit on a per-CPU unconfirmed list.
  bool unconfirmed_list = true;
  // L1/L2: killed conns sit on per-CPU dying lists (else: only those whose
  // DESTROY failed, on the namespace's ecache dying list), and how those are
  // redelivered.
  ct_redelivery redelivery = ct_redelivery::kPcpuDying;
  // L3: nf_conntrack_events' default (1: every conn gets the event extension;
  // 2: only if a listener existed when it was made) and the listener flag's scope.
  uint32_t events_default = 1;
  ct_listener_scope listener_scope = ct_listener_scope::kNetns;
  // L4: DESTROY events carry the timeout left and the TCP state.
  bool destroy_timeout_protoinfo = false;
  // T1: RST rework (nf_conntrack_tcp_ignore_invalid_rst exists; RSTs in
  // closing states skip validation; the maxack check skipped after a SYN;
  // seq 0 RST accepted in non-established conns).
  bool tcp_rst_rework = false;
  // T2: a retransmitted SYN in SYN_SENT does not renew the timeout.
  bool tcp_syn_sent_no_renew = false;
  // T3: window re-initialisation.
  ct_tcp_reinit tcp_reinit = ct_tcp_reinit::kV510;
  // T4: option parsing keeps the BE_LIBERAL flag.
  bool tcp_keep_liberal = false;
  // T5: out-of-window verdicts.
  ct_tcp_window tcp_window = ct_tcp_window::kInvalid;
  // T6: an invalid FIN/RST answering the other side's FIN/RST cuts a long
  // ASSURED timeout to UNACK.
  bool tcp_bad_fin_rst_timeout = false;
  // T7: a challenge ACK in SYN_SENT makes the following RST in-window.
  bool tcp_challenge_ack = false;
  // T9: a retransmitted SYN keeps its window scale.
  bool tcp_syn_retrans_wscale = false;
  // T10 (late stables): a non-closing RST gets min(timeout, UNACK), and the
  // RST-to-SYN shortcut requires the other direction.
  bool tcp_rst_unack_timeout = false;
  bool tcp_rst_direction_check = false;
  // U1: UDP is ASSURED only after the 2-second stream rule.
  bool udp_stream_assured = false;
  // I1: a valid ICMPv6 redirect is RELATED to the redirected flow.
  bool icmpv6_redirect_related = false;
  // I2: ICMPv6 multicast router discovery (151, 152) is UNTRACKED.
  bool icmpv6_mrd_untracked = false;
  // K1: clash merge only for identical or exactly reversed tuples.
  bool clash_reverse = false;
  // K2: protocols whose clashes may be resolved, beyond UDP and UDP-Lite.
  bool gre_allow_clash = false;
  bool generic_allow_clash = false;
  // P1-P6: the SCTP tracker (nf_conntrack_proto_sctp.cc; docs/KERNELS.md).
  // P1: the first packet leaves the state NONE and the table moves it, so
  // an INIT makes a CLOSED conn (with its PROTOINFO event) and the INIT_ACK
  // moves it to COOKIE_WAIT. v5.6, so on in every profile (v5.10 too);
  // off gives the tracker of the kernels before it.
  bool sctp_init_closed = true;
  // P2: an INIT that leaves a confirmed conn CLOSED does not renew its timeout.
  bool sctp_closed_init_no_renew = false;
  // P3: HEARTBEAT_ACKED merged into ESTABLISHED (210 s by default); any
  // move into ESTABLISHED makes the conn ASSURED, once.
  bool sctp_established_merged = false;
  // P4: ABORT and SHUTDOWN_COMPLETE (T bit clear) must carry the sender's own vtag.
  bool sctp_abort_own_vtag = false;
  // P5: SHUTDOWN_SENT/RECD default to 3 s; an originator INIT in them closes.
  bool sctp_shutdown_3s = false;
  // P6: INIT collisions: per-direction INIT flags check an INIT_ACK's tag;
  // COOKIE_ECHO and COOKIE_ACK may come from either side.
  bool sctp_init_collision = false;
  // D1: the DCCP tracker (nf_conntrack_proto_dccp.c). The 6.18 kernels have
  // none (removed after 6.12, with DCCP itself), so protocol 33 goes to the
  // generic tracker: no ports in the tuple, the generic timeout, no state,
  // no nf_conntrack_dccp_* sysctls.
  bool dccp_tracker = true;

  bool operator==(const kernel_profile&) const = default;
};

// The protocol whose tracker a kernel with profile `p` runs for
// `protonum`: itself, or 0, the generic tracker, for a protocol that kernel
// has no tracker for (row D1: DCCP in 6.18). The kernel looks its tracker
// up by number (nf_ct_l4proto_find) and finds the generic one.
constexpr uint8_t nf_ct_tracker_of(uint8_t protonum, const kernel_profile& p) {
  return protonum == IPPROTO_DCCP_ && !p.dccp_tracker ? 0 : protonum;
}

// One switch, for the scenario's overrides, the trace and the docs.
struct kernel_profile_switch {
  const char* name;  // as the scenario's `kernel` object spells it
  const char* row;   // the change table's row (H1, C1, ...)
  // The words of an enum switch in value order; empty for bool/uint.
  std::span<const char* const> words;
  bool is_bool;
  uint32_t lo, hi;  // the values a number switch takes
  uint32_t (*get)(const kernel_profile&);
  void (*set)(kernel_profile&, uint32_t);
};

// Every switch, in the struct's order.
std::span<const kernel_profile_switch> kernel_profile_switches();
const kernel_profile_switch* kernel_profile_switch_find(std::string_view name);

// One named profile.
struct kernel_profile_entry {
  const char* name;         // "5.10", "6.1", "6.1-late", ...
  const char* description;  // which release it is and what it stands for
  kernel_profile profile;
};

// Every named profile, oldest first; "5.10" (the default) is first.
std::span<const kernel_profile_entry> kernel_profiles();
const kernel_profile_entry* kernel_profile_find(std::string_view name);
// The default: v5.10.
inline constexpr std::string_view kDefaultKernel = "5.10";

// The switch's value as its word (enum), "true"/"false" or the number.
std::string kernel_profile_switch_value(const kernel_profile_switch& sw, const kernel_profile& p);

}  // namespace ctcore

#endif  // CTSIM_CORE_NF_CONNTRACK_KERNEL_PROFILE_H_
