// A scenario (docs/SCENARIO.md, format version 1), loaded and fully validated
// before anything runs.
//
// Every problem found is reported, each as
//   FILE:LINE:COL: /json/pointer: what was found; what was expected
// and nothing runs when there is one (exit code 2).
//
// Threading: value types; load_scenario is a pure function of its input.
#ifndef CTSIM_SIM_SCENARIO_SCENARIO_H_
#define CTSIM_SIM_SCENARIO_SCENARIO_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "core/nf_conntrack_sysctl.h"
#include "core/nf_nat_core.h"
#include "sim/engine/sim_time.h"
#include "sim/engine/status.h"
#include "sim/scenario/flow_spec.h"
#include "sim/scenario/name_table.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/path_kind.h"
#include "sim/scenario/rule_match.h"

namespace ctsim {

struct SysctlSetting {
  const ctcore::SysctlInfo* info = nullptr;
  uint64_t value = 0;
};

// An address of a namespace's outgoing interface (masquerade maps to it).
struct InterfaceAddress {
  uint16_t l3num = ctcore::NFPROTO_IPV4;
  ctcore::nf_inet_addr addr;
  bool operator==(const InterfaceAddress&) const = default;
};

struct NamespaceSpec {
  std::string name;
  uint32_t hash_mix = 0;
  std::vector<SysctlSetting> sysctls;
  // The addresses of the interface the forward and output paths leave by,
  // in the order given (masquerade takes the first of the packet's family).
  std::vector<InterfaceAddress> addresses;
};

// ctnetlink multicast groups a listener subscribes to.
constexpr uint8_t kGroupNew = 1, kGroupUpdate = 2, kGroupDestroy = 4;
// Their names, as scenarios and conntrack -E spell them ("[NEW]"): the one
// list the scenario's "events" words and the tool format derive from, in
// the order of the output layer's EventType.
struct EventGroupName {
  uint8_t group;
  const char* name;
};
inline constexpr EventGroupName kEventGroupNames[] = {
    {kGroupNew, "NEW"}, {kGroupUpdate, "UPDATE"}, {kGroupDestroy, "DESTROY"}};

struct ListenerSpec {
  std::string name;
  std::string netns;
  bool reliable = false;   // NETLINK_BROADCAST_ERROR: a failed DESTROY defers destruction
  uint32_t rcvbuf = 0;     // events the socket holds before overrun; 0 = unbounded
  SimTime read_every = 0;  // 0: the reader keeps up (drains at once)
  SimTime at = 0;          // when it subscribes (conntrack -E started then)
  uint8_t groups = kGroupNew | kGroupUpdate | kGroupDestroy;
};

struct RuleSpec {
  std::string netns;
  ctcore::nf_inet_hooks hook = ctcore::NF_INET_FORWARD;
  RuleMatch match;
  std::string match_text;
  enum class Verdict : uint8_t { kAccept, kDrop, kQueue, kDnat, kSnat, kMasquerade } verdict = Verdict::kAccept;
  SimTime delay = 0;  // queue only
  // dnat/snat: where new conns are mapped to, used in turn (each with the
  // rule's flags); masquerade: at most one, ports only (no MAP_IPS).
  std::vector<ctcore::nf_nat_range2> to;
  SimTime at = 0;  // when the rule is added
  bool is_nat() const {
    return verdict == Verdict::kDnat || verdict == Verdict::kSnat || verdict == Verdict::kMasquerade;
  }
  // The NAT manip type of a nat verdict: dnat DST, snat and masquerade SRC.
  bool is_src_nat() const { return verdict == Verdict::kSnat || verdict == Verdict::kMasquerade; }
};
// The words of a rule's "verdict", indexed by RuleSpec::Verdict.
inline constexpr const char* kVerdictNames[] = {"accept", "drop", "queue", "dnat", "snat", "masquerade"};
static_assert(std::size(kVerdictNames) == static_cast<size_t>(RuleSpec::Verdict::kMasquerade) + 1);

struct PacketEntry {
  SimTime at = 0;
  std::string netns;
  uint16_t cpu = 0;
  PathKind path = PathKind::kForward;
  PacketSpec spec;
};

// One `captures[]` entry: a capture file replayed as traffic (docs/SCENARIO.md
// "Captures"). The world reads it as the clock reaches each packet.
// Where a capture's packets arrive: a namespace and the path through it.
struct CapturePlace {
  std::string netns;
  PathKind path = PathKind::kForward;
};

struct CaptureSpec {
  std::string file;       // the path to open (relative ones resolved against the scenario's folder)
  std::string file_text;  // as the scenario wrote it (messages, trace)
  std::string netns;      // where every packet arrives, unless `interfaces` is set
  PathKind path = PathKind::kForward;
  // `ctsim export`'s interfaces ("NETNS/PATH"), in its numbering: each
  // frame's destination MAC says which one the packet arrives by
  // (packet_wire.h encode_ethernet). Empty: every packet by netns and path.
  std::vector<CapturePlace> interfaces;
  // Which CPU each packet arrives on: one for all, a symmetric Toeplitz RSS
  // hash of the flow (both directions on one CPU), in turn (packet i on
  // CPU i mod cpus), or the CPU `ctsim export` marked in the frame.
  enum class Cpu : uint8_t { kPinned, kRss, kRoundRobin, kMac } cpu_mode = Cpu::kRss;
  uint16_t cpu = 0;             // kPinned
  std::string filter;           // BPF (tcpdump) expression; empty: every packet
  SimTime offset = 0;           // virtual time of the capture's first packet
  uint64_t speed_ppm = 1'000'000;  // capture time is divided by speed (ppm of 1.0)
  // A packet following the one before by less than this arrives at the same
  // instant (so that packets sent together race as they did on the host).
  SimTime burst = 0;
};
// The words of a capture's "cpu" that are not a number, by CaptureSpec::Cpu
// (kPinned has none).
inline constexpr const char* kCaptureCpuNames[] = {"", "rss", "round-robin", "mac"};

struct ActionSpec {
  enum class Kind : uint8_t {
    kSysctl,
    kFlush,
    kDelete,
    kNetnsAdd,
    kNetnsDel,
    kListenerStall,
    kListenerResume,
    kSnapshot,
    kStats,
    kAddrAdd,
    kAddrDel,
  };
  SimTime at = 0;
  Kind kind = Kind::kSnapshot;
  std::string netns;     // sysctl, flush, delete, snapshot ("" = all)
  std::string name;      // netns_add / netns_del: the namespace; listener_*: the listener
  SysctlSetting sysctl;  // sysctl
  std::string key;       // sysctl key as written (also nf_conntrack_max / _buckets)
  uint64_t value = 0;
  ctcore::nf_conntrack_tuple tuple;  // delete
  std::string tuple_text;
  uint32_t hash_mix = 0;               // netns_add
  std::vector<SysctlSetting> sysctls;  // netns_add
  InterfaceAddress address;            // addr_add / addr_del
  // snapshot: which conns `conntrack -L` dumps (kSnapshotListNames).
  enum class SnapshotList : uint8_t { kTable, kUnconfirmed, kDying } list = SnapshotList::kTable;
};
// The words of a snapshot's "list": conntrack -L, -L unconfirmed, -L dying.
inline constexpr const char* kSnapshotListNames[] = {"table", "unconfirmed", "dying"};
// The words of "do", indexed by ActionSpec::Kind: the one list the loader,
// the key table and the trace's action records derive from.
inline constexpr const char* kActionNames[] = {
    "sysctl", "flush",    "delete", "netns_add", "netns_del", "listener_stall", "listener_resume",
    "snapshot", "stats", "addr_add", "addr_del"};
static_assert(std::size(kActionNames) == static_cast<size_t>(ActionSpec::Kind::kAddrDel) + 1);
inline const char* action_name(ActionSpec::Kind k) { return enum_name(kActionNames, k); }

// How `ctsim verify` compares this scenario's kernel run with ctsim's
// (the top-level "verify" key, docs/SCENARIO.md "Verify"): line by line
// (kExact), or only totals (kCounts) for a scenario whose kernel result
// depends on a real race, e.g. two CPUs confirming one tuple at one
// instant. `ctsim run` ignores it.
enum class VerifyCompare : uint8_t { kExact, kCounts };
// The words of "verify.compare", indexed by VerifyCompare.
inline constexpr const char* kVerifyCompareNames[] = {"exact", "counts"};
static_assert(std::size(kVerifyCompareNames) == static_cast<size_t>(VerifyCompare::kCounts) + 1);

struct Scenario {
  std::string file;  // as given on the command line (messages only)
  std::string name;
  std::string description;
  uint64_t seed = 1;
  uint32_t hz = 250;
  uint64_t initial_jiffies = 0;
  uint16_t cpus = 1;
  // The virtual time each hook of a packet's path takes on its CPU (0: none).
  SimTime hook_time = 0;
  // The kernel the core behaves as: the profile's name (docs/KERNELS.md),
  // its switches with the scenario's overrides applied, and those overrides
  // (switch name, value as written back) in the profile's switch order.
  std::string kernel_name = "5.10";
  ctcore::kernel_profile kernel;
  std::vector<std::pair<std::string, std::string>> kernel_overrides;
  uint32_t buckets = 0;
  uint32_t max = 0;
  // table.hash_rnd: v5.10's u32 jhash seed, or under a siphash profile
  // (kernel.hash != kJhash2) the 128-bit nf_conntrack_hash_rnd in
  // siphash_rnd (hash_rnd is then unused, 0).
  uint32_t hash_rnd = 0;
  ctcore::siphash_key_t siphash_rnd;
  // table.memory: the simulated machine's RAM, from which the profile's
  // rule (row S1) sizes the table when buckets are not given.
  uint64_t memory = 0;
  bool exact_walks = false;  // table.exact_walks (ctcore::ConntrackConfig)
  // table.gc_phase in jiffies: when gc_worker first runs (unset: HZ, as
  // the kernel queues it at init).
  std::optional<uint32_t> gc_first_run = std::nullopt;
  // Which table keys the scenario wrote (the others hold the profile's
  // defaults): `ctsim kernel-run` plays only what can be set on a live
  // machine, so it must know what was asked for.
  struct TableKeysGiven {
    bool buckets = false, max = false, hash_rnd = false, memory = false;
  } table_given;
  std::vector<NamespaceSpec> namespaces;
  std::vector<ListenerSpec> listeners;
  std::vector<RuleSpec> rules;
  std::vector<PacketEntry> packets;  // sorted by `at`, stable
  std::vector<FlowSpec> flows;
  std::vector<CaptureSpec> captures;
  std::vector<ActionSpec> actions;  // sorted by `at`, stable
  std::optional<SimTime> until;
  // verify.compare and verify.because: kCounts always has a non-empty
  // reason (the loader refuses it without one); with kExact it is optional.
  VerifyCompare verify_compare = VerifyCompare::kExact;
  std::string verify_because;
};

// The simulated machine's memory when the scenario gives none: 8 GiB, on
// which v5.10 picks 65536 buckets and max 262144, and 5.15+ pick 262144
// and 262144.
constexpr uint64_t kDefaultRamBytes = 8ull << 30;

// What the command line changes in a scenario as it is loaded.
struct ScenarioLoadOptions {
  // A kernel profile name (ctcore::kernel_profile_find must know it) that
  // replaces the scenario's "kernel"; empty: the scenario's own.
  std::string kernel;
};

// table.hash_rnd as outputs print it: v5.10's seed in decimal, or the
// siphash profiles' 128-bit key as 32 hex digits (siphash_key_hex.h).
std::string hash_rnd_text(const Scenario& s);

// Parses and validates. `file` names the input in messages; `text` is its
// content.
Status parse_scenario(const std::string& file, const std::string& text, Scenario* out,
                      const ScenarioLoadOptions& options = {});
// Reads the file, then parse_scenario.
Status load_scenario(const std::string& path, Scenario* out, const ScenarioLoadOptions& options = {});

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_SCENARIO_H_
