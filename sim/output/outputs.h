// Everything one run writes, in one place: the output files, the writers
// that format them (trace, explain, series, conntrack-tool text), the
// fan-out of core callbacks to the writers, and the all-or-nothing publish.
//
// The world tells an Outputs what happened (a packet at a hook, a verdict,
// an action, a listener's message); the Outputs decides which writers hear
// of it and how it is rendered. The world builds no output text itself.
//
// Life cycle: open() once (it opens every file asked for and creates the
// writers; on failure nothing is left behind), then the calls of the run,
// then publish() or abort() exactly once. A file is complete when
// publish() returned OK, and absent otherwise.
//
// Invariants:
//   (1) trace() is non-null iff a trace was asked for; likewise explain(),
//       series(), html(), events and snapshots.
//   (2) The trace is the first observer of the core: its records are
//       written before any other writer sees the same step.
//
// Ownership: owns its files and writers. Borrows the engine, the core and
// the listener gauges, which must outlive it.
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_OUTPUTS_H_
#define CTSIM_SIM_OUTPUT_OUTPUTS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "sim/engine/engine.h"
#include "sim/engine/status.h"
#include "sim/output/explain_writer.h"
#include "sim/output/html_writer.h"
#include "sim/output/observer_fanout.h"
#include "sim/output/output_file.h"
#include "sim/output/pcap_writer.h"
#include "sim/output/run_facts_observer.h"
#include "sim/output/series_writer.h"
#include "sim/output/trace_writer.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

// What a run writes, and how. An empty path: that output is off.
struct OutputOptions {
  std::string trace_path;            // JSONL trace ("-": stdout)
  std::string events_path;           // conntrack -E stream of every listener
  std::string snapshots_path;        // conntrack -L / -S text at snapshot and stats actions
  std::string explain_path;          // the explain narrative ("-": stdout)
  std::string series_path;           // the CSV time series
  std::string html_path;             // the explorer page (docs/EXPLORER.md)
  SimTime series_every = kNsPerSec;  // one series row per this much virtual time
  bool event_timestamps = false;     // event lines start with the time (conntrack -E -o timestamp)
  bool event_ids = false;            // event lines end in " id=N" (conntrack -E -o id)
  bool trace_all_gc = false;         // a gc record for every run, not only runs that reaped
  bool snapshots_proc = false;       // snapshots as /proc/net/nf_conntrack and /proc/net/stat/nf_conntrack
  // Every packet as it leaves the stack (after NAT, with its verdict and
  // what conntrack did in a pcapng comment).
  std::string pcap_out_path;
  PcapFormat pcap_out_format = PcapFormat::kPcapng;
  // Every packet as the scenario injects it, before any hook (ctsim export).
  std::string injected_pcap_path;
  PcapFormat injected_pcap_format = PcapFormat::kPcap;
  // The run's facts in memory (ctsim verify's record); null: none. Not
  // owned; must outlive the run.
  RunFactsObserver* facts = nullptr;
};

class Outputs {
 public:
  Outputs(const OutputOptions& options, const Engine& engine, ctcore::Conntrack& core);
  ~Outputs();
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  // Opens every output asked for and writes the headers. `gauges`: what the
  // series reads of the listeners. On error every file opened so far is
  // removed and the error returned. REQUIRES: called once, first.
  Status open(const Scenario& scenario, const ListenerGauges& gauges);

  // The observer the core should call (null when nothing listens).
  ctcore::Observer* core_observer() { return fanout_.simplest(); }
  // True iff some output records packet steps and verdicts (the world
  // skips building them otherwise).
  bool watches_packets() const {
    return trace_ != nullptr || explain_ != nullptr || html_ != nullptr || pcap_out_ != nullptr ||
           injected_ != nullptr || options_.facts != nullptr;
  }
  // Whether event lines carry " id=N" (the listeners format them).
  bool event_ids() const { return options_.event_ids; }
  // The series' sampling period, or nullopt when there is no series.
  std::optional<SimTime> sample_every() const;

  // --- What the world reports. ---
  // A hook step of packet `id` begins (`first`: its first hook).
  // Inline for the usual traced run, in which only the trace watches
  // packets: most steps then write nothing, and cost a test, not a call.
  void packet_step(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook, const ctcore::Packet& skb,
                   std::string_view path, bool first, bool resumed) {
    if (only_trace_watches_) {
      if (first && !resumed) trace_->pkt(n, cpu, id, hook, skb, path);
      return;
    }
    packet_step_all(id, n, cpu, hook, skb, path, first, resumed);
  }
  // A verdict at `hook`: by a core function (`by`) or by a scenario rule.
  // `verdict` and `by` are ctsim's own words (string literals: static
  // storage, nothing to escape), `hook` a view of one.
  void verdict(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, uint64_t id, std::string_view hook,
               const char* verdict, const char* by, const RuleSpec* rule) {
    if (only_trace_watches_ && rule == nullptr) {
      trace_->verdict_by(n, cpu, ct, id, hook, verdict, by);
      return;
    }
    verdict_all(n, cpu, ct, id, hook, verdict, by, rule);
  }
  // A conn's NAT binding was decided by `rule` (null: the null binding)
  // within `range`; `why` says how the tuple was chosen.
  void nat(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
           const RuleSpec* rule, const ctcore::nf_nat_range2& range, const ctcore::nf_nat_decision& why);
  // nf_nat_inet_fn() hands ct to the core for `manip`: `rule` (null: none
  // bound it, the null binding follows) with its range (null: none). Said
  // before the core's call, whose steps the core reports itself.
  void nat_rule(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, const RuleSpec* rule,
                const ctcore::nf_nat_range2* range);
  // An ICMP error about ct was translated (nf_nat_icmp_reply_translation).
  void nat_icmp(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
                const ctcore::Packet& before, const ctcore::Packet& after);
  // Packet `id` leaves the stack (`dropped`: by a drop verdict), as `skb`
  // is now (after NAT, still holding its conn).
  void packet_done(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view path, const ctcore::Packet& skb,
                   bool dropped);
  // A frame of capture `capture` was not replayed, for `reason`.
  void skipped(std::string_view capture, uint64_t frame, std::string_view reason);
  // An action begins: its explain heading.
  void action_begins(const ActionSpec& a);
  // The action's trace record. `found`: what a delete found.
  void action(const ActionSpec& a, std::optional<bool> found = std::nullopt);
  // The current world event is over: what follows is kernel work.
  void end_step();
  // A conntrack -L dump: `conns` as the dump found them (`only`: of one
  // namespace), and the chain-length histogram; both to the trace, the -L
  // text to the snapshots file.
  // `list`: which dump (conntrack -L, -L unconfirmed, -L dying).
  void snapshot(const ctcore::net* only, const std::vector<const ctcore::nf_conn*>& conns,
                ActionSpec::SnapshotList list = ActionSpec::SnapshotList::kTable);
  // conntrack -S of every live namespace to the snapshots file (and, if
  // `to_trace`, the trace's stats records and the facts' stats dumps).
  void stats(bool to_trace);
  // A message offered to listener `name` (`room`: queued; `reliable`:
  // refused rather than lost when there was no room); `backlog` after it.
  void listener_event(const ctcore::net& n, const ctcore::nf_conn& ct, std::string_view name, std::string_view type,
                      unsigned events, bool room, bool reliable, size_t backlog);
  // Listener `name` read `delivered` messages (`overrun`: after a loss).
  void listener_read(const ctcore::net& n, std::string_view name, uint32_t delivered, bool overrun);
  // One line a listener's reader prints (`prefix_name`: several listeners
  // share the stream, so each line starts with "NAME: ").
  void event_line(std::string_view name, bool prefix_name, std::string_view line);
  // A time-series row for now (no-op without a series).
  void sample();
  // The run is over: every namespace's counters (trace and text), the end
  // record with `total` (the counters summed over namespaces and CPUs), the
  // last series row.
  void end(uint64_t packets, uint64_t conns_created, uint64_t conns_freed, uint64_t events,
           const ctcore::ip_conntrack_stat& total);

  // The `ctsim export` capture's interfaces ("NETNS/PATH") by the number
  // its frames carry; empty without that capture.
  std::vector<std::string> injected_interfaces() const {
    return injected_ ? injected_->interface_names() : std::vector<std::string>{};
  }

  // Finishes every output, then publishes all of them or, if any failed,
  // none. REQUIRES: open() returned OK; called once.
  Status publish();
  // Removes every output (a failed run).
  void abort();

  // For tests and callers that write extra records.
  TraceWriter* trace() { return trace_.get(); }
  ExplainWriter* explain() { return explain_.get(); }
  SeriesWriter* series() { return series_.get(); }
  HtmlWriter* html() { return html_.get(); }

 private:
  // The two above for every watcher.
  void packet_step_all(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook,
                       const ctcore::Packet& skb, std::string_view path, bool first, bool resumed);
  void verdict_all(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, uint64_t id, std::string_view hook,
                   const char* verdict, const char* by, const RuleSpec* rule);

  std::array<OutputFile*, 8> files() {
    return {&trace_out_, &events_out_, &snapshots_out_, &explain_out_,
            &series_out_, &html_out_,   &pcap_file_,     &injected_file_};
  }

  const OutputOptions options_;
  const Engine& engine_;
  ctcore::Conntrack& core_;
  OutputFile trace_out_, events_out_, snapshots_out_, explain_out_, series_out_, html_out_, pcap_file_,
      injected_file_;
  std::unique_ptr<TraceWriter> trace_;
  std::unique_ptr<ExplainWriter> explain_;
  std::unique_ptr<SeriesWriter> series_;
  std::unique_ptr<HtmlWriter> html_;
  std::unique_ptr<PcapWriter> pcap_out_;
  std::unique_ptr<PcapWriter> injected_;
  ObserverFanout fanout_;
  // The trace is on and nothing else hears of packet steps and verdicts
  // (no explain, html, pcap, injected capture or facts). Set by open().
  bool only_trace_watches_ = false;
  // The last verdict given to a packet (the pcap comment's and the facts'):
  // which packet, the verdict and who gave it.
  uint64_t verdict_id_ = 0;
  std::string verdict_, verdict_by_;
  std::string frame_, iface_, comment_;  // reused per written packet
};

// The namespace columns of a run's series: every namespace the scenario
// names, at start or added by an action, once, in order of appearance.
std::vector<std::string> netns_column_names(const Scenario& scenario);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_OUTPUTS_H_
