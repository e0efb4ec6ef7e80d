#include "sim/world/simulator.h"

#include <fmt/format.h>

namespace ctsim {

using ctcore::nf_inet_hooks;
using ctcore::Packet;

// Simulator, part 1: setup, the run loop and event dispatch. The packet
// path is in simulator_packet_path.cc, actions in simulator_actions.cc,
// progress and sampling in simulator_outputs.cc.

Simulator::Simulator(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario),
      options_(options),
      engine_(TimeBase{scenario.hz, scenario.initial_jiffies}),
      cpus_(scenario.cpus),
      nat_prandom_(scenario.seed) {
  ctcore::ConntrackConfig cfg;
  cfg.htable_size = scenario.buckets;
  cfg.max = scenario.max;
  cfg.hash_rnd = scenario.hash_rnd;
  cfg.cpus = scenario.cpus;
  cfg.profile = scenario.kernel;
  cfg.siphash_rnd = scenario.siphash_rnd;
  cfg.exact_walks = scenario.exact_walks || options.exact_walks;
  cfg.gc_first_run = scenario.gc_first_run;
  core_ = std::make_unique<ctcore::Conntrack>(cfg, engine_, engine_);
  core_->set_prandom(&nat_prandom_);
  listeners_ = std::make_unique<NetlinkListeners>(engine_, *core_);
  outputs_ = std::make_unique<Outputs>(options_, engine_, *core_);
  for (const NamespaceSpec& ns : scenario.namespaces) {
    ctcore::net& n = core_->net_add(ns.name, ns.hash_mix);
    for (const SysctlSetting& s : ns.sysctls)
      ctcore::nf_conntrack_sysctl_write(n.sysctl, *s.info, s.value, scenario.hz);
    n.event_cb = listeners_.get();  // ctnetlink is loaded in every namespace
    iface_addrs(n.index) = ns.addresses;
  }
  for (const ListenerSpec& l : scenario.listeners) listeners_->add(l, find_net(l.netns));
  nat_active_.assign(core_->net_count(), false);
  std::vector<HookRules::Entry> filter;
  for (const RuleSpec& r : scenario.rules) {
    // A rule in a namespace that does not exist at the start never applies.
    const std::optional<uint16_t> ni = find_net(r.netns);
    if (!ni) continue;
    if (r.is_nat()) {
      nat_rules_.push_back({*ni, r.hook, &r});
      nat_active_[*ni] = true;
    } else {
      filter.push_back({*ni, r.hook, &r});
    }
  }
  rules_ = HookRules(filter);
  for (size_t i = 0; i < scenario.flows.size(); ++i)
    generators_.emplace_back(scenario.flows[i], static_cast<uint32_t>(i), scenario.seed);
  flows_started_.assign(scenario.flows.size(), 0);
}

Simulator::~Simulator() = default;

std::optional<uint16_t> Simulator::find_net(std::string_view name) const {
  for (size_t i = core_->net_count(); i-- > 0;)
    if (core_->net_at(static_cast<uint16_t>(i)).name == name) return static_cast<uint16_t>(i);
  return std::nullopt;
}

void Simulator::schedule(SimTime t, Phase phase, uint16_t kind, uint32_t arg) {
  ++scenario_events_pending_;
  engine_.schedule(t, phase, kind, arg);
}

Status Simulator::run(RunSummary* summary) {
  if (Status s = outputs_->open(scenario_, *listeners_); !s.ok()) return s;
  core_->set_observer(outputs_->core_observer());
  listeners_->set_outputs(outputs_.get());
  watched_ = outputs_->watches_packets();
  // Sampling events are scheduled on the engine directly, not through
  // schedule(): they are not scenario events and never keep a run alive.
  if (const std::optional<SimTime> every = outputs_->sample_every())
    engine_.schedule(*every, Phase::kSample, kSample, 0);
  if (!scenario_.packets.empty()) schedule(scenario_.packets[0].at, Phase::kPacket, kArrive, 0);
  for (size_t i = 0; i < scenario_.actions.size(); ++i)
    schedule(scenario_.actions[i].at, Phase::kAction, kAction, static_cast<uint32_t>(i));
  for (size_t i = 0; i < scenario_.flows.size(); ++i)
    schedule(scenario_.flows[i].at, Phase::kPacket, kFlowStart, static_cast<uint32_t>(i));
  for (size_t i = 0; i < listeners_->all().size(); ++i)
    if (listeners_->all()[i].spec.at != 0)
      schedule(listeners_->all()[i].spec.at, Phase::kAction, kListenerSubscribe, static_cast<uint32_t>(i));
  for (const CaptureSpec& c : scenario_.captures) {
    captures_.push_back(std::make_unique<CaptureSource>(c, scenario_.cpus));
    capture_nets_.emplace_back();
    if (Status s = captures_.back()->open(); !s.ok()) {
      outputs_->abort();
      core_->set_observer(nullptr);
      listeners_->set_outputs(nullptr);
      return s;
    }
    capture_next(static_cast<uint32_t>(captures_.size() - 1));
  }

  const SimTime until = scenario_.until.value_or(INT64_MAX);
  Event ev;
  while (!engine_.empty() && engine_.next_time() <= until) {
    if (!scenario_.until && quiescent()) break;
    if (options_.max_events != 0 && engine_.events_run() >= options_.max_events) break;
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
    bool check_now = options_.check_invariants;
    if (!check_now && options_.check_every > 0 && engine_.now() >= next_check_) {
      check_now = true;
      next_check_ = (engine_.now() / options_.check_every + 1) * options_.check_every;
    }
    if (check_now) {
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
  const uint64_t created = core_->conns_created();
  outputs_->end(packets_, created, created - core_->conns_allocated(), listeners_->events_offered(), total);
  summary->packets = packets_;
  summary->conns_created = core_->conns_created();
  summary->conns_freed = core_->conns_created() - core_->conns_allocated();
  summary->events = listeners_->events_offered();
  summary->engine_events = engine_.events_run();
  summary->end_time = engine_.now();
  summary->stats = total;
  summary->invariant_error = invariant_error_;
  for (const auto& c : captures_) summary->captures.push_back(c->summary());
  summary->exported_interfaces = outputs_->injected_interfaces();

  core_->set_observer(nullptr);
  listeners_->set_outputs(nullptr);
  return outputs_->publish();
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
    dying += core_->dying_list_length(n);
  }
  return dying == core_->conns_allocated();
}

std::string Simulator::check_invariants() const {
  std::vector<std::pair<const ctcore::nf_conn*, uint32_t>> refs;
  pool_.for_each_live([&](const InFlight& f) {
    if (f.skb.ct == nullptr) return;
    bool found = false;
    for (auto& r : refs)
      if (r.first == f.skb.ct) {
        ++r.second;
        found = true;
      }
    if (!found) refs.emplace_back(f.skb.ct, 1);
  });
  return core_->check_invariants(refs);
}

void Simulator::dispatch(const Event& ev) {
  switch (ev.kind) {
    case kArrive: arrive(ev.arg); break;
    case kHookStep: hook_step(ev.arg); break;
    case kConfirmStep: confirm_step(ev.arg); break;
    case kQueueRelease:
      pool_[ev.arg].resumed = true;
      enqueue_on_cpu(ev.arg);
      break;
    case kAction:
      outputs_->action_begins(scenario_.actions[ev.arg]);
      run_action(scenario_.actions[ev.arg]);
      break;
    case kFlowStart: flow_start(ev.arg); break;
    case kFlowPacket: flow_packet(ev.arg); break;
    case kCaptureArrive: capture_arrive(ev.arg); break;
    case kListenerSubscribe: listeners_->subscribe(listeners_->all()[ev.arg]); break;
    case kListenerRead: {
      Listener& l = listeners_->all()[ev.arg];
      l.read_scheduled = false;
      if (!l.stalled) listeners_->drain(l);
      break;
    }
    default: break;
  }
  outputs_->end_step();
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
