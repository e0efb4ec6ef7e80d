// The simulated world: namespaces with their rules, CPUs, listeners and
// traffic around one conntrack core, replayed on the event engine.
//
// The packet path (DESIGN.md §5): a packet arrives on a CPU and takes
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
#include <span>
#include <string>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "sim/engine/engine.h"
#include "sim/output/explain_writer.h"
#include "sim/world/flow_generator.h"
#include "sim/world/hook_rules.h"
#include "sim/world/netlink_listener.h"
#include "sim/output/observer_fanout.h"
#include "sim/output/output_file.h"
#include "sim/scenario/scenario.h"
#include "sim/output/series_writer.h"
#include "sim/engine/status.h"
#include "sim/output/trace_writer.h"

namespace ctsim {

// What a progress display gets (RunOptions::progress).
struct RunProgress {
  SimTime now = 0;             // virtual time reached
  uint64_t engine_events = 0;  // events run so far
  uint64_t table = 0;          // conns in the hash table
};

struct RunOptions {
  std::string trace_path;      // JSONL trace ("" none, "-" stdout)
  std::string events_path;     // conntrack -E stream
  std::string snapshots_path;  // conntrack -L / -S text at snapshot and stats actions
  bool event_timestamps = false;
  bool trace_all_gc = false;   // a gc record for every run, not only runs that reaped
  bool check_invariants = false;
  // Every conntrack walk as v5.10 does it, no bucket-hint shortcut
  // (ctcore::ConntrackConfig::exact_walks; the scenario's table can ask for
  // it too). No output changes: this is the reference to compare with.
  bool exact_walks = false;
  // Explain, time series and progress (sim/world/simulator_outputs.cc).
  std::string explain_path;         // the explain narrative ("" none, "-" stdout)
  std::string series_path;          // the CSV time series ("" none)
  SimTime series_every = kNsPerSec; // one series row per this much virtual time
  bool event_ids = false;           // event lines end in " id=N" (conntrack -E -o id)
  bool snapshots_proc = false;      // snapshots as /proc/net/nf_conntrack and /proc/net/stat/nf_conntrack
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
  size_t TEST_in_flight_slots() const { return slots_.size(); }
  size_t TEST_seq_states() const { return seqs_.size(); }

 private:
  enum Kind : uint16_t {
    kArrive = kFirstUserKind,  // arg: index into scenario_.packets
    kHookStep,                 // arg: in-flight slot
    kQueueRelease,             // arg: in-flight slot
    kAction,                   // arg: index into scenario_.actions
    kListenerRead,             // arg: listener index
    kFlowStart,                // arg: flow entry index
    kFlowPacket,               // arg: live flow connection slot
    kSample,                   // a time-series row (not a scenario event)
  };
  struct InFlight {
    ctcore::Packet skb;
    uint64_t id = 0;
    uint16_t net = 0;
    uint16_t cpu = 0;
    PathKind path = PathKind::kForward;
    uint8_t step = 0;       // index of the hook in the path
    uint16_t rule_pos = 0;  // resume point after a queue verdict
    bool resumed = false;
    bool live = false;
    bool dead = false;  // its namespace exited: dropped at its next step
    uint32_t flow_slot = UINT32_MAX;  // the flow connection that sent it
    uint32_t flow_gen = 0;
  };
  struct CpuState {
    bool busy = false;
    std::deque<uint32_t> backlog;
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

  Status open_outputs();
  void schedule(SimTime t, Phase phase, uint16_t kind, uint32_t arg);
  void dispatch(const Event& ev);
  void arrive(uint32_t packet_index);
  void flow_start(uint32_t entry);
  void flow_packet(uint32_t conn_slot);
  // A new in-flight packet slot with everything but its skb set.
  uint32_t new_inflight(uint16_t net, uint16_t cpu, PathKind path, uint32_t flow_slot, uint32_t flow_gen);
  void inject(const ctcore::Packet& p, uint16_t net, uint16_t cpu, PathKind path,
              uint32_t flow_slot = UINT32_MAX, uint32_t flow_gen = 0);
  uint32_t alloc_slot();
  uint32_t new_slot();  // a slot at the end of slots_
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
  // The trace's pkt record and the explain step for the packet's current
  // hook; the trace's and the explain's record of a verdict, given by `by`
  // (a core function) or by `rule`. Only with either output on.
  void report_step(const InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook);
  void report_verdict(const InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook, const char* verdict,
                      const char* by, const RuleSpec* rule);
  // The packet's traversal ends (`dropped`: by a drop verdict).
  void finish_packet(uint32_t slot, bool dropped = false);
  // The NAT hook of `manip` type at `hook` (nf_nat_inet_fn): decides a new
  // conn's binding from the first matching rule (a null binding when none
  // matches), then rewrites the packet from its conn's tuples.
  void nat_step(InFlight& f, ctcore::net& n, ctcore::nf_inet_hooks hook, ctcore::nf_nat_manip_type manip);
  void run_action(const ActionSpec& a);
  void schedule_listener_read(uint32_t index);
  void fill_tcp_defaults(const PacketEntry& e, ctcore::Packet* p);
  void write_snapshot(const ctcore::net* only);
  // conntrack -S and /proc/net/stat/nf_conntrack text (and, if `to_trace`,
  // the trace's stats records).
  void write_stats(bool to_trace);
  uint16_t net_index(const std::string& name) const;
  bool quiescent() const;
  std::string check_invariants() const;
  std::array<OutputFile*, 5> outputs() {
    return {&trace_out_, &events_out_, &snapshots_out_, &explain_out_, &series_out_};
  }

  // Explain, series, progress (sim/world/simulator_outputs.cc).
  Status open_extra_outputs();
  void write_extra_headers();
  void take_sample();
  void finish_extra_outputs();
  void report_progress();
  std::vector<std::string> netns_column_names() const;

  const Scenario& scenario_;
  RunOptions options_;
  Engine engine_;
  std::unique_ptr<ctcore::Conntrack> core_;
  std::unique_ptr<NetlinkListeners> listeners_;
  OutputFile trace_out_, events_out_, snapshots_out_;
  std::unique_ptr<TraceWriter> trace_;
  std::vector<InFlight> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<CpuState> cpus_;
  HookRules rules_;                 // filter rules, per (namespace, hook)
  std::vector<RuleRef> nat_rules_;  // dnat/snat rules, in scenario order
  std::vector<bool> nat_active_;    // per net: a nat table exists there
  std::map<std::string, SeqState> seqs_;
  std::vector<FlowGenerator> generators_;
  std::vector<uint64_t> flows_started_;
  std::vector<FlowConn> flow_conns_;
  std::vector<uint32_t> free_flow_conns_;
  uint64_t scenario_events_pending_ = 0;
  uint64_t next_packet_id_ = 1;
  uint64_t packets_ = 0;
  size_t next_packet_ = 0;
  std::string invariant_error_;

  OutputFile explain_out_, series_out_;
  std::unique_ptr<ExplainWriter> explain_;
  std::unique_ptr<SeriesWriter> series_;
  ObserverFanout fanout_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_SIMULATOR_H_
