#include "sim/world/simulator.h"

#include <fmt/format.h>

namespace ctsim {

using ctcore::nf_inet_hooks;
using ctcore::Packet;

// Simulator, part 1: setup, the run loop and event dispatch. The packet
// path is in simulator_packet_path.cc, actions in simulator_actions.cc,
// outputs in simulator_outputs.cc.

Simulator::Simulator(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario), options_(options), engine_(TimeBase{scenario.hz, scenario.initial_jiffies}) {
  ctcore::ConntrackConfig cfg;
  cfg.htable_size = scenario.buckets;
  cfg.max = scenario.max;
  cfg.hash_rnd = scenario.hash_rnd;
  cfg.cpus = scenario.cpus;
  cfg.exact_walks = scenario.exact_walks || options.exact_walks;
  core_ = std::make_unique<ctcore::Conntrack>(cfg, engine_, engine_);
  listeners_ = std::make_unique<NetlinkListeners>(engine_, *core_);
  for (const NamespaceSpec& ns : scenario.namespaces) {
    ctcore::net& n = core_->net_add(ns.name, ns.hash_mix);
    for (const SysctlSetting& s : ns.sysctls) ctcore::nf_conntrack_sysctl_write(n.sysctl, *s.info, s.value, scenario.hz);
    n.event_cb = listeners_.get();  // ctnetlink is loaded in every namespace
  }
  cpus_.resize(scenario.cpus);
  for (const ListenerSpec& l : scenario.listeners) listeners_->add(l, net_index(l.netns));
  nat_active_.assign(core_->net_count(), false);
  std::vector<HookRules::Entry> filter;
  for (const RuleSpec& r : scenario.rules) {
    const uint16_t ni = net_index(r.netns);
    if (r.is_nat()) {
      nat_rules_.push_back({ni, r.hook, &r});
      if (ni < nat_active_.size()) nat_active_[ni] = true;
    } else {
      filter.push_back({ni, r.hook, &r});
    }
  }
  rules_ = HookRules(filter);
  for (size_t i = 0; i < scenario.flows.size(); ++i)
    generators_.emplace_back(scenario.flows[i], static_cast<uint32_t>(i), scenario.seed);
  flows_started_.assign(scenario.flows.size(), 0);
}

Simulator::~Simulator() = default;

uint16_t Simulator::net_index(const std::string& name) const {
  // The last namespace of that name: a name re-added after netns_del is a
  // new namespace.
  for (size_t i = core_->net_count(); i-- > 0;)
    if (core_->net_at(static_cast<uint16_t>(i)).name == name) return static_cast<uint16_t>(i);
  return UINT16_MAX;
}

void Simulator::schedule(SimTime t, Phase phase, uint16_t kind, uint32_t arg) {
  ++scenario_events_pending_;
  engine_.schedule(t, phase, kind, arg);
}

Status Simulator::open_outputs() {
  if (!options_.trace_path.empty()) {
    if (Status s = trace_out_.open(options_.trace_path); !s.ok()) return s;
    trace_ = std::make_unique<TraceWriter>(trace_out_, engine_, *core_);
    trace_->set_all_gc(options_.trace_all_gc);
    core_->set_observer(trace_.get());
  }
  if (!options_.events_path.empty())
    if (Status s = events_out_.open(options_.events_path); !s.ok()) return s;
  if (!options_.snapshots_path.empty())
    if (Status s = snapshots_out_.open(options_.snapshots_path); !s.ok()) return s;
  listeners_->set_outputs(trace_.get(), events_out_.is_open() ? &events_out_ : nullptr,
                          options_.event_timestamps);
  return open_extra_outputs();
}

Status Simulator::run(RunSummary* summary) {
  if (Status s = open_outputs(); !s.ok()) {
    for (OutputFile* f : outputs()) f->abort();
    return s;
  }
  if (trace_) {
    trace_->header(scenario_.name, scenario_.hz, scenario_.seed, scenario_.initial_jiffies,
                   scenario_.buckets, scenario_.max, scenario_.hash_rnd, scenario_.cpus);
  }
  write_extra_headers();
  if (!scenario_.packets.empty()) schedule(scenario_.packets[0].at, Phase::kPacket, kArrive, 0);
  for (size_t i = 0; i < scenario_.actions.size(); ++i)
    schedule(scenario_.actions[i].at, Phase::kAction, kAction, static_cast<uint32_t>(i));
  for (size_t i = 0; i < scenario_.flows.size(); ++i)
    schedule(scenario_.flows[i].at, Phase::kPacket, kFlowStart, static_cast<uint32_t>(i));

  const SimTime until = scenario_.until.value_or(INT64_MAX);
  Event ev;
  while (!engine_.empty() && engine_.next_time() <= until) {
    if (!scenario_.until && quiescent()) break;
    if (engine_.next(&ev)) {
      if (ev.kind == kSample) {
        take_sample();  // not a scenario event: it never keeps a run alive
      } else {
        --scenario_events_pending_;
        dispatch(ev);
      }
    }
    // Readers wake for whatever arrived during this event, background work
    // (GC, event redelivery) included.
    for (uint32_t i = 0; i < listeners_->all().size(); ++i) schedule_listener_read(i);
    if (options_.progress && (engine_.events_run() & 0xfff) == 0) report_progress();
    if (options_.check_invariants) {
      std::string err = check_invariants();
      if (!err.empty()) {
        invariant_error_ = fmt::format("at t={} (event kind {}): {}", format_duration(engine_.now()), ev.kind, err);
        break;
      }
    }
  }

  // A run with `until` ends at that time, even if nothing happened since
  // the last event.
  if (scenario_.until && invariant_error_.empty() && engine_.now() < *scenario_.until)
    engine_.advance_to(*scenario_.until);
  // Readers take what their sockets still hold before the run ends.
  for (Listener& l : listeners_->all())
    if (!l.stalled && (!l.queue.empty() || l.overrun)) listeners_->drain(l);

  ctcore::ip_conntrack_stat total;
  for (size_t i = 0; i < core_->net_count(); ++i)
    for (uint16_t c = 0; c < core_->cpus(); ++c) total += core_->net_at(static_cast<uint16_t>(i)).pcpu[c].stat;
  if (trace_) {
    for (size_t i = 0; i < core_->net_count(); ++i) {
      ctcore::net& n = core_->net_at(static_cast<uint16_t>(i));
      if (!n.alive) continue;
      for (uint16_t c = 0; c < core_->cpus(); ++c) trace_->stats(n, c, n.pcpu[c].stat);
    }
    const uint64_t created = core_->conns_created();
    trace_->end(packets_, created, created - core_->conns_allocated(), listeners_->events_offered(), total);
  }
  summary->packets = packets_;
  summary->conns_created = core_->conns_created();
  summary->conns_freed = core_->conns_created() - core_->conns_allocated();
  summary->events = listeners_->events_offered();
  summary->engine_events = engine_.events_run();
  summary->end_time = engine_.now();
  summary->stats = total;
  summary->invariant_error = invariant_error_;

  write_stats(false);  // the counters at the end, as text
  finish_extra_outputs();

  core_->set_observer(nullptr);
  // All or nothing: every output is finished before any is published.
  Status st;
  for (OutputFile* f : outputs()) {
    Status s = f->finish();
    if (st.ok() && !s.ok()) st = s;
  }
  for (OutputFile* f : outputs()) {
    if (st.ok()) st = f->publish();
    else f->abort();
  }
  return st;
}

// True iff nothing the scenario started is still pending and nothing more
// can happen but timers: no conn left, or only conns that wait for a
// listener that will never read again.
bool Simulator::quiescent() const {
  if (scenario_events_pending_ != 0) return false;
  if (core_->conns_allocated() == 0) return true;
  uint64_t dying = 0;
  for (size_t i = 0; i < core_->net_count(); ++i) {
    const ctcore::net& n = core_->net_at(static_cast<uint16_t>(i));
    for (const ctcore::ct_pcpu& p : n.pcpu) dying += ctcore::Conntrack::list_length(p.dying);
  }
  return dying == core_->conns_allocated();
}

std::string Simulator::check_invariants() const {
  std::vector<std::pair<const ctcore::nf_conn*, uint32_t>> refs;
  for (const InFlight& f : slots_) {
    if (!f.live || f.skb.ct == nullptr) continue;
    bool found = false;
    for (auto& r : refs)
      if (r.first == f.skb.ct) {
        ++r.second;
        found = true;
      }
    if (!found) refs.emplace_back(f.skb.ct, 1);
  }
  return core_->check_invariants(refs);
}

void Simulator::dispatch(const Event& ev) {
  switch (ev.kind) {
    case kArrive: arrive(ev.arg); break;
    case kHookStep: hook_step(ev.arg); break;
    case kQueueRelease:
      slots_[ev.arg].resumed = true;
      enqueue_on_cpu(ev.arg);
      break;
    case kAction:
      if (explain_) explain_->action(action_name(scenario_.actions[ev.arg].kind));
      run_action(scenario_.actions[ev.arg]);
      break;
    case kFlowStart: flow_start(ev.arg); break;
    case kFlowPacket: flow_packet(ev.arg); break;
    case kListenerRead: {
      Listener& l = listeners_->all()[ev.arg];
      l.read_scheduled = false;
      if (!l.stalled) listeners_->drain(l);
      break;
    }
    default: break;
  }
  if (explain_) explain_->end_step();
}

void Simulator::schedule_listener_read(uint32_t index) {
  Listener& l = listeners_->all()[index];
  if (l.read_scheduled) return;
  const int64_t t = listeners_->next_read_time(l);
  if (t < 0) return;
  l.read_scheduled = true;
  schedule(t, Phase::kListener, kListenerRead, index);
}

}  // namespace ctsim
