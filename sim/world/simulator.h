// The simulated world: namespaces with their rules, CPUs, listeners and
// traffic around one conntrack core, replayed on the event engine.
//
// The packet path (docs/SCENARIO.md): a packet arrives on a CPU and takes
//   forward: PRE_ROUTING -> FORWARD -> POST_ROUTING
//   input:   PRE_ROUTING -> LOCAL_IN
//   output:  LOCAL_OUT -> POST_ROUTING
// At its first hook conntrack runs (priority -200), then the scenario's
// rules for that hook (filter priority 0); at its last hook, after the
// rules, confirm runs (priority INT_MAX). Each hook is its own event at the
// same instant, so packets on different CPUs interleave hook by hook (the
// confirm race), while one CPU finishes one packet's traversal before it
// starts the next (softirq processing is not preempted). A `queue` verdict
// takes the packet off its CPU for `delay`; its skb keeps its conn
// reference meanwhile.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_SIMULATOR_H_
#define CTSIM_SIM_WORLD_SIMULATOR_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/prandom.h"
#include "sim/engine/rng.h"
#include "sim/engine/engine.h"
#include "sim/engine/status.h"
#include "sim/output/outputs.h"
#include "sim/scenario/scenario.h"
#include "sim/world/capture_source.h"
#include "sim/world/cpu_queues.h"
#include "sim/world/flow_generator.h"
#include "sim/world/hook_rules.h"
#include "sim/world/in_flight_pool.h"
#include "sim/world/netlink_listener.h"

namespace ctsim {

// What a progress display gets (RunOptions::progress).
struct RunProgress {
  SimTime now = 0;             // virtual time reached
  uint64_t engine_events = 0;  // events run so far
  uint64_t table = 0;          // conns in the hash table
};

// How to run: what to write (OutputOptions) and how to check.
struct RunOptions : OutputOptions {
  bool check_invariants = false;
  // Above 0: check the invariants once per this much virtual time (at the
  // first event at or after each multiple), for runs too long for
  // check_invariants' every event. Ignored when check_invariants is set.
  SimTime check_every = 0;
  // Above 0: the run ends after this many engine events, as if its `until`
  // had come (for the simulation fuzzer, which must bound every input).
  uint64_t max_events = 0;
  // Every conntrack walk as v5.10 does it, no bucket-hint shortcut
  // (ctcore::ConntrackConfig::exact_walks; the scenario's table can ask for
  // it too). No output changes: this is the reference to compare with.
  bool exact_walks = false;
  // Called every few thousand events with the run's progress, for a display
  // only: it must not influence any output. Empty: never called.
  std::function<void(const RunProgress&)> progress;
};

struct RunSummary {
  uint64_t packets = 0;
  uint64_t conns_created = 0;
  uint64_t conns_freed = 0;
  uint64_t events = 0;
  uint64_t engine_events = 0;
  SimTime end_time = 0;
  ctcore::ip_conntrack_stat stats;
  std::string invariant_error;  // non-empty: a core invariant broke (exit 1)
  std::vector<CaptureSummary> captures;  // per captures[] entry
  // `ctsim export`: the exported capture's interfaces, by number (what a
  // captures entry's `interfaces` lists to replay it).
  std::vector<std::string> exported_interfaces;
};

class Simulator {
 public:
  Simulator(const Scenario& scenario, const RunOptions& options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Runs to the end. Output files are complete on OK and absent otherwise.
  Status run(RunSummary* summary);

  // For tests: the core and the engine.
  ctcore::Conntrack& core() { return *core_; }
  Engine& engine() { return engine_; }
  // For tests: pool sizes that must not grow with a run's flow count.
  size_t TEST_flow_conn_slots() const { return flow_conns_.size(); }
  size_t TEST_in_flight_slots() const { return pool_.size(); }
  size_t TEST_seq_states() const { return seqs_.size(); }

 private:
  enum Kind : uint16_t {
    kArrive = kFirstUserKind,  // arg: index into scenario_.packets
    kHookStep,                 // arg: in-flight slot
    kConfirmStep,              // arg: in-flight slot (confirm after source NAT, its own turn)
    kQueueRelease,             // arg: in-flight slot
    kAction,                   // arg: index into scenario_.actions
    kListenerRead,             // arg: listener index
    kFlowStart,                // arg: flow entry index
    kFlowPacket,               // arg: live flow connection slot
    kSample,                   // a time-series row (not a scenario event)
    kCaptureArrive,            // arg: captures[] index
    kListenerSubscribe,        // arg: listener index (one whose `at` is not 0)
  };
  // A NAT rule: looked at only for a conn's first packet (rare), so a
  // plain scan of nat_rules_ is enough.
  struct RuleRef {
    uint16_t net;
    ctcore::nf_inet_hooks hook;
    const RuleSpec* rule;
    uint64_t used = 0;  // nat: conns mapped so far (picks the next `to`)
  };
  // Per-flow TCP sequence state for notation packets without seq/ack.
  struct SeqState {
    uint32_t nxt[2];
    ctcore::nf_conntrack_tuple first;  // orientation of direction 0
  };

  void schedule(SimTime t, Phase phase, uint16_t kind, uint32_t arg);
  void dispatch(const Event& ev);
  void arrive(uint32_t packet_index);
  void capture_arrive(uint32_t capture);
  // Reads capture `i` up to its next packet and schedules it.
  void capture_next(uint32_t i);
  void flow_start(uint32_t entry);
  void flow_packet(uint32_t conn_slot);
  // A new in-flight packet slot with everything but its skb set.
  uint32_t new_inflight(uint16_t net, uint16_t cpu, PathKind path, uint32_t flow_slot, uint32_t flow_gen);
  void inject(const ctcore::Packet& p, uint16_t net, uint16_t cpu, PathKind path, uint32_t flow_slot = kNoFlowSlot,
              uint32_t flow_gen = 0);
  void enqueue_on_cpu(uint32_t slot);
  void start_packet(uint32_t slot);
  void cpu_idle(uint16_t cpu);
  // Runs the packet's hooks from its current one until it leaves the CPU
  // or must wait for its turn at this instant (then as a kHookStep event).
  void hook_step(uint32_t slot);
  // The filter rules at the packet's current hook, from position `from`
  // (a queued packet resumes after its queue rule); the first match
  // decides. Returns true iff the packet goes on (accepted or no match);
  // false when a drop or queue verdict took it off its CPU.
  bool run_rules(uint32_t slot, ctcore::net& n, ctcore::nf_inet_hooks hook, std::span<const RuleSpec* const> rules,
                 size_t from);
  // The outputs' record of the packet's current hook, and of a verdict
  // given by `by` (a core function) or by `rule`. Only with outputs that
  // watch packets.
  void report_step(const InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook);
  void report_verdict(const InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook, const char* verdict,
                      const char* by, const RuleSpec* rule);
  // The confirm hook at the packet's last hook, and the packet's end.
  void confirm_step(uint32_t slot);
  // The packet's traversal ends (`dropped`: by a drop verdict).
  void finish_packet(uint32_t slot, bool dropped = false);
  // The NAT hook of `manip` type at `hook` (nf_nat_inet_fn): decides a new
  // conn's binding from the first matching rule (a null binding when none
  // matches), then rewrites the packet from its conn's tuples.
  // Returns false iff NAT drops the packet (masquerade without an address,
  // a redirect about a NATed conn).
  bool nat_step(InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook, ctcore::nf_nat_manip_type manip);
  // The addresses of namespace `net`'s outgoing interface (masquerade).
  std::vector<InterfaceAddress>& iface_addrs(uint16_t net) {
    if (iface_addrs_.size() <= net) iface_addrs_.resize(net + 1u);
    return iface_addrs_[net];
  }
  // The PRNG stream of NAT's draws (the scenario loader's are 1 and 1000+).
  static constexpr uint64_t kRngStreamNat = 2;
  // ctsim's namespaces have one outgoing interface: its ifindex.
  static constexpr int kOutIfindex = 2;
  void run_action(const ActionSpec& a);
  void schedule_listener_read(uint32_t index);
  void fill_tcp_defaults(const PacketEntry& e, ctcore::Packet* p);
  // The namespace of that name now: the last one so named (a name re-added
  // after netns_del is a new namespace), or nullopt if there is none.
  std::optional<uint16_t> find_net(std::string_view name) const;
  // find_net for capture `i`'s packet at `place`, without comparing names
  // per packet: namespaces are only ever appended to the core's list, so
  // the answer for a name holds until the list grows.
  std::optional<uint16_t> capture_net(uint32_t i, const CapturePlace& place) {
    CaptureNet& m = capture_nets_[i];
    if (m.place != &place || m.nets != core_->net_count()) m = {&place, core_->net_count(), find_net(place.netns)};
    return m.net;
  }
  bool quiescent() const;
  std::string check_invariants() const;
  void take_sample();
  void report_progress();

  const Scenario& scenario_;
  RunOptions options_;
  Engine engine_;
  std::unique_ptr<ctcore::Conntrack> core_;
  std::unique_ptr<NetlinkListeners> listeners_;
  std::unique_ptr<Outputs> outputs_;
  bool watched_ = false;  // outputs_->watches_packets(), read once per hook walk
  InFlightPool pool_;
  CpuQueues cpus_;
  HookRules rules_;                 // filter rules, per (namespace, hook)
  std::vector<RuleRef> nat_rules_;  // dnat/snat rules, in scenario order
  std::vector<bool> nat_active_;    // per net: a nat table exists there
  std::vector<std::vector<InterfaceAddress>> iface_addrs_;  // per net: see iface_addrs()
  // prandom_u32() for NAT, from the scenario's seed (its own stream).
  struct NatPrandom final : ctcore::PrandomSource {
    explicit NatPrandom(uint64_t seed) : rng(seed, kRngStreamNat) {}
    uint32_t prandom_u32() override { return rng.next_u32(); }
    Rng rng;
  };
  NatPrandom nat_prandom_;
  std::map<std::string, SeqState> seqs_;
  std::vector<FlowGenerator> generators_;
  std::vector<uint64_t> flows_started_;
  std::vector<FlowConn> flow_conns_;
  std::vector<uint32_t> free_flow_conns_;
  std::vector<std::unique_ptr<CaptureSource>> captures_;
  struct CaptureNet {  // capture_net's last answer, per capture
    const CapturePlace* place = nullptr;
    size_t nets = 0;  // core_->net_count() when it was found
    std::optional<uint16_t> net;
  };
  std::vector<CaptureNet> capture_nets_;
  uint64_t scenario_events_pending_ = 0;
  uint64_t next_packet_id_ = 1;
  uint64_t packets_ = 0;
  size_t next_packet_ = 0;
  std::string invariant_error_;
  SimTime next_check_ = 0;  // --check-every: the virtual time of the next check
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_SIMULATOR_H_
