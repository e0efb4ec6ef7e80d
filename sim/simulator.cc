#include "sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/jhash.h"
#include "sim/conntrack_tool_format.h"
#include "sim/packet_notation.h"

namespace ctsim {

using ctcore::nf_inet_hooks;
using ctcore::Packet;

namespace {

struct PathHooks {
  nf_inet_hooks hooks[3];
  uint8_t count;
};

// The hooks of each path, indexed by PathKind.
constexpr PathHooks kPathHooks[] = {
    {{ctcore::NF_INET_PRE_ROUTING, ctcore::NF_INET_FORWARD, ctcore::NF_INET_POST_ROUTING}, 3},  // kForward
    {{ctcore::NF_INET_PRE_ROUTING, ctcore::NF_INET_LOCAL_IN, ctcore::NF_INET_LOCAL_IN}, 2},      // kInput
    {{ctcore::NF_INET_LOCAL_OUT, ctcore::NF_INET_POST_ROUTING, ctcore::NF_INET_POST_ROUTING}, 2},  // kOutput
};
static_assert(static_cast<size_t>(PathKind::kForward) == 0 && static_cast<size_t>(PathKind::kInput) == 1 &&
              static_cast<size_t>(PathKind::kOutput) == 2);

const PathHooks& hooks_of(PathKind p) { return kPathHooks[static_cast<size_t>(p)]; }

const char* hook_name(nf_inet_hooks h) {
  switch (h) {
    case ctcore::NF_INET_PRE_ROUTING: return "prerouting";
    case ctcore::NF_INET_LOCAL_IN: return "input";
    case ctcore::NF_INET_FORWARD: return "forward";
    case ctcore::NF_INET_LOCAL_OUT: return "output";
    case ctcore::NF_INET_POST_ROUTING: return "postrouting";
  }
  return "?";
}

}  // namespace

Simulator::Simulator(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario), options_(options), engine_(TimeBase{scenario.hz, scenario.initial_jiffies}) {
  ctcore::ConntrackConfig cfg;
  cfg.htable_size = scenario.buckets;
  cfg.max = scenario.max;
  cfg.hash_rnd = scenario.hash_rnd;
  cfg.cpus = scenario.cpus;
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

uint32_t Simulator::alloc_slot() {
  if (!free_slots_.empty()) {
    uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  return new_slot();
}

// Out of line: the pool grows only until it holds the most packets in
// flight at once; inlined, the growth would cost every allocation stack.
[[gnu::noinline]] uint32_t Simulator::new_slot() {
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void Simulator::arrive(uint32_t index) {
  const PacketEntry& e = scenario_.packets[index];
  if (index + 1 < scenario_.packets.size())
    schedule(scenario_.packets[index + 1].at, Phase::kPacket, kArrive, index + 1);
  const uint16_t net = net_index(e.netns);
  if (net == UINT16_MAX || !core_->net_at(net).alive) return;  // namespace gone: nobody sends
  Packet p = e.spec.pkt;
  if (p.protonum == ctcore::IPPROTO_TCP_) fill_tcp_defaults(e, &p);
  inject(p, net, e.cpu, e.path);
}

uint32_t Simulator::new_inflight(uint16_t net, uint16_t cpu, PathKind path, uint32_t flow_slot,
                                 uint32_t flow_gen) {
  const uint32_t slot = alloc_slot();
  InFlight& f = slots_[slot];
  // Every field but the packet (the caller writes it in place: a Packet is
  // 184 bytes, and this is the per-packet path).
  f.id = next_packet_id_++;
  f.net = net;
  f.cpu = cpu;
  f.path = path;
  f.step = 0;
  f.rule_pos = 0;
  f.resumed = false;
  f.live = true;
  f.dead = false;
  f.flow_slot = flow_slot;
  f.flow_gen = flow_gen;
  ++packets_;
  return slot;
}

void Simulator::inject(const Packet& p, uint16_t net, uint16_t cpu, PathKind path, uint32_t flow_slot,
                       uint32_t flow_gen) {
  const uint32_t slot = new_inflight(net, cpu, path, flow_slot, flow_gen);
  slots_[slot].skb = p;
  start_packet(slot);
}

void Simulator::flow_start(uint32_t entry) {
  FlowGenerator& g = generators_[entry];
  const uint64_t index = flows_started_[entry]++;
  if (flows_started_[entry] < g.spec().count) schedule(engine_.now() + g.next_gap(), Phase::kPacket, kFlowStart, entry);
  const uint16_t net = net_index(g.spec().netns);
  if (net == UINT16_MAX || !core_->net_at(net).alive) return;
  uint32_t slot;
  if (!free_flow_conns_.empty()) {
    slot = free_flow_conns_.back();
    free_flow_conns_.pop_back();
  } else {
    flow_conns_.emplace_back();
    slot = static_cast<uint32_t>(flow_conns_.size() - 1);
  }
  g.start(&flow_conns_[slot], index, net, scenario_.cpus);
  flow_packet(slot);
}

// One event per step of a flow connection: first the fate of the segment
// sent one rtt ago (lost after the box, or dropped by it) decides what comes
// next (the next step now, a retransmission later, or the end); then the
// step's packet is sent and its fate is looked at one rtt later.
void Simulator::flow_packet(uint32_t slot) {
  FlowConn& c = flow_conns_[slot];
  const FlowGenerator& g = generators_[c.entry];
  if (!core_->net_at(c.net).alive) {
    free_flow_conns_.push_back(slot);
    return;
  }
  if (c.awaiting) {
    c.awaiting = false;
    const bool lost = c.lost || c.dropped;
    c.dropped = false;
    const SimTime delay = g.advance(c, lost);
    if (delay < 0) {
      free_flow_conns_.push_back(slot);
      return;
    }
    if (c.sent_at + delay > engine_.now()) {
      schedule(c.sent_at + delay, Phase::kPacket, kFlowPacket, slot);
      return;
    }
  }
  const uint32_t pkt = new_inflight(c.net, c.cpu, g.spec().path, slot, c.gen);
  g.packet(c, &slots_[pkt].skb);
  c.lost = g.draw_loss(c);
  c.sent_at = engine_.now();
  c.awaiting = true;
  start_packet(pkt);
  schedule(engine_.now() + g.spec().rtt, Phase::kPacket, kFlowPacket, slot);
}

// Gives notation packets without seq/ack/win the values of a well-behaved
// connection: per flow, each side starts at an ISN drawn from the seed and
// advances by what it sent; an ACK acknowledges all the other side sent.
void Simulator::fill_tcp_defaults(const PacketEntry& e, Packet* p) {
  ctcore::nf_conntrack_tuple t;
  ctcore::nf_ct_get_tuple(*p, &t);
  ctcore::nf_conntrack_tuple inv;
  ctcore::nf_ct_invert_tuple(&inv, t);
  inv.dst.dir = ctcore::IP_CT_DIR_ORIGINAL;
  // Key: the flow in a direction-free form, per namespace.
  auto key_of = [&](const ctcore::nf_conntrack_tuple& x) {
    return e.netns + "|" + format_tuple(x);
  };
  std::string k1 = key_of(t), k2 = key_of(inv);
  const std::string& key = std::min(k1, k2);
  auto it = seqs_.find(key);
  if (it == seqs_.end()) {
    SeqState s;
    s.first = t;
    const uint32_t words[2] = {static_cast<uint32_t>(scenario_.seed), static_cast<uint32_t>(seqs_.size())};
    s.nxt[0] = ctcore::jhash2(words, 2, 0x1234);
    s.nxt[1] = ctcore::jhash2(words, 2, 0x5678);
    it = seqs_.emplace(key, s).first;
  }
  SeqState& s = it->second;
  const int dir = ctcore::nf_ct_tuple_equal(s.first, t) ? 0 : 1;
  if (!e.spec.has_seq) p->seq = s.nxt[dir];
  if (!e.spec.has_ack) p->ack_seq = (p->tcp_flags & ctcore::TCPHDR_ACK) ? s.nxt[1 - dir] : 0;
  if (!e.spec.has_win) p->window = 64240;
  const uint32_t end = p->seq + p->len + ((p->tcp_flags & ctcore::TCPHDR_SYN) ? 1 : 0) +
                       ((p->tcp_flags & ctcore::TCPHDR_FIN) ? 1 : 0);
  if (static_cast<int32_t>(end - s.nxt[dir]) > 0 || (p->tcp_flags & ctcore::TCPHDR_SYN)) s.nxt[dir] = end;
}

void Simulator::enqueue_on_cpu(uint32_t slot) {
  CpuState& c = cpus_[slots_[slot].cpu];
  if (c.busy) {
    c.backlog.push_back(slot);
    return;
  }
  c.busy = true;
  schedule(engine_.now(), Phase::kPacket, kHookStep, slot);
}

// Starts a new packet: at once when its first hook step would be the next
// event anyway (the common case, and the cheap one), else as an event.
void Simulator::start_packet(uint32_t slot) {
  CpuState& c = cpus_[slots_[slot].cpu];
  if (!c.busy && engine_.would_run_next(Phase::kPacket)) {
    c.busy = true;
    hook_step(slot);
    return;
  }
  enqueue_on_cpu(slot);
}

void Simulator::cpu_idle(uint16_t cpu) {
  CpuState& c = cpus_[cpu];
  c.busy = false;
  if (c.backlog.empty()) return;
  const uint32_t next = c.backlog.front();
  c.backlog.pop_front();
  c.busy = true;
  schedule(engine_.now(), Phase::kPacket, kHookStep, next);
}

// Walks the packet through its hooks from f.step, in a loop: going on to
// the next hook at once is the same as scheduling it when it would be the
// next event anyway (would_run_next), and only then.
void Simulator::hook_step(uint32_t slot) {
  InFlight& f = slots_[slot];
  if (f.dead) {
    finish_packet(slot);
    return;
  }
  // Fixed for the whole walk: no namespace, output or nat table comes or
  // goes during a packet's hook step.
  ctcore::net& n = core_->net_at(f.net);
  const PathHooks& ph = hooks_of(f.path);
  const bool watched = trace_ || explain_;
  const bool nat = !nat_rules_.empty() && f.net < nat_active_.size() && nat_active_[f.net];
  for (;;) {
    const nf_inet_hooks hook = ph.hooks[f.step];
    if (watched) report_step(f, n, hook);
    size_t rule_from = 0;
    if (f.resumed) {
      rule_from = f.rule_pos;
      f.resumed = false;
    } else if (f.step == 0) {
      const unsigned v = core_->nf_conntrack_in(n, f.cpu, f.skb, hook);
      if (watched) report_verdict(f, n, hook, v == ctcore::NF_DROP ? "drop" : "accept", "nf_conntrack_in", nullptr);
      if (v == ctcore::NF_DROP) {
        finish_packet(slot, true);
        return;
      }
      // NAT's destination hook (priority -100) runs after conntrack.
      if (nat) nat_step(f, n, hook, ctcore::NF_NAT_MANIP_DST);
    }
    if (!rules_.empty()) {
      const std::span<const RuleSpec* const> rules = rules_.at(f.net, hook);
      if (!rules.empty() && !run_rules(slot, n, hook, rules, rule_from)) return;
    }
    if (f.step + 1 == ph.count) {
      // NAT's source hook (priority 100) runs after the filter rules.
      if (nat) nat_step(f, n, hook, ctcore::NF_NAT_MANIP_SRC);
      const unsigned v = core_->nf_conntrack_confirm(f.cpu, f.skb);
      if (watched) report_verdict(f, n, hook, v == ctcore::NF_DROP ? "drop" : "accept", "nf_conntrack_confirm", nullptr);
      finish_packet(slot, v == ctcore::NF_DROP);
      return;
    }
    ++f.step;
    // Another packet (another CPU) or earlier work due at this instant
    // comes first: the next hook waits its turn, so they interleave.
    if (!engine_.would_run_next(Phase::kPacket)) {
      schedule(engine_.now(), Phase::kPacket, kHookStep, slot);
      return;
    }
  }
}

bool Simulator::run_rules(uint32_t slot, ctcore::net& n, nf_inet_hooks hook, std::span<const RuleSpec* const> rules,
                          size_t from) {
  InFlight& f = slots_[slot];
  for (size_t here = from; here < rules.size(); ++here) {
    const RuleSpec& r = *rules[here];
    if (r.at > engine_.now()) continue;  // not added yet
    if (!r.match.matches(f.skb)) continue;
    const bool watched = trace_ || explain_;
    if (r.verdict == RuleSpec::Verdict::kAccept) {
      if (watched) report_verdict(f, n, hook, "accept", nullptr, &r);
      return true;
    }
    if (r.verdict == RuleSpec::Verdict::kDrop) {
      if (watched) report_verdict(f, n, hook, "drop", nullptr, &r);
      finish_packet(slot, true);
      return false;
    }
    // queue: off the CPU until released; the skb keeps its reference.
    if (watched) report_verdict(f, n, hook, "queue", nullptr, &r);
    f.rule_pos = static_cast<uint16_t>(here + 1);
    schedule(engine_.now() + r.delay, Phase::kPacket, kQueueRelease, slot);
    cpu_idle(f.cpu);
    return false;
  }
  return true;
}

// Out of line (noinline): the string work here would otherwise be inlined
// into hook_step, whose every walk would then pay for the registers and
// stack it needs even with no output on.
[[gnu::noinline]] void Simulator::report_step(const InFlight& f, ctcore::net& n, nf_inet_hooks hook) {
  const bool first = f.step == 0;
  if (explain_) explain_->packet_step(f.id, n, f.cpu, hook_name(hook), first ? format_packet(f.skb) : "",
                                     path_name(f.path), first && !f.resumed, f.resumed);
  if (trace_ && first && !f.resumed) trace_->pkt(n, f.cpu, f.id, hook_name(hook), f.skb, path_name(f.path));
}

[[gnu::noinline]] void Simulator::report_verdict(const InFlight& f, ctcore::net& n, nf_inet_hooks hook,
                                                 const char* verdict, const char* by, const RuleSpec* rule) {
  std::string rule_reason;
  std::string_view reason = by != nullptr ? by : "";
  if (rule != nullptr) reason = rule_reason = fmt::format("rule \"{}\"", rule->match_text);
  if (trace_) trace_->verdict(n, f.cpu, f.skb.ct, f.id, hook_name(hook), verdict, reason);
  if (explain_) explain_->verdict(hook_name(hook), verdict, reason);
}

void Simulator::nat_step(InFlight& f, ctcore::net& n, nf_inet_hooks hook, ctcore::nf_nat_manip_type manip) {
  ctcore::nf_conn* ct = f.skb.ct;
  if (ct == nullptr) return;  // untracked or invalid: NAT never sees it
  const ctcore::ip_conntrack_info ctinfo = f.skb.ctinfo;
  const bool fresh = ctinfo == ctcore::IP_CT_NEW || ctinfo == ctcore::IP_CT_RELATED ||
                     ctinfo == ctcore::IP_CT_RELATED_REPLY;
  if (fresh && !ctcore::nf_nat_initialized(ct, manip)) {
    const ctcore::nf_nat_range* range = nullptr;
    for (RuleRef& r : nat_rules_) {
      if (r.net != f.net || r.hook != hook || r.rule->at > engine_.now()) continue;
      if (r.rule->verdict != (manip == ctcore::NF_NAT_MANIP_DST ? RuleSpec::Verdict::kDnat : RuleSpec::Verdict::kSnat))
        continue;
      if (!r.rule->match.matches(f.skb)) continue;
      range = &r.rule->to[r.used++ % r.rule->to.size()];
      break;
    }
    ctcore::nf_nat_setup_info(*core_, ct, range, manip);
    if (trace_) trace_->nat(n, f.cpu, *ct, manip == ctcore::NF_NAT_MANIP_DST ? "dst" : "src", range != nullptr);
  }
  ctcore::nf_nat_packet(ct, ctcore::CTINFO2DIR(ctinfo), manip, f.skb);
}

void Simulator::finish_packet(uint32_t slot, bool dropped) {
  InFlight& f = slots_[slot];
  // The sender of a flow packet learns of a drop by the missing answer.
  if (dropped && f.flow_slot != UINT32_MAX && flow_conns_[f.flow_slot].gen == f.flow_gen)
    flow_conns_[f.flow_slot].dropped = true;
  if (explain_) explain_->packet_done(f.skb.ct);
  core_->nf_reset_ct(f.skb);
  f.live = false;
  free_slots_.push_back(slot);
  cpu_idle(f.cpu);
}

void Simulator::write_snapshot(const ctcore::net* only) {
  std::vector<const ctcore::nf_conn*> conns;
  core_->for_each_conn_in_table(const_cast<ctcore::net*>(only),
                                [&](const ctcore::nf_conn& ct) { conns.push_back(&ct); });
  if (trace_) {
    trace_->snapshot(only, conns);
    // How the shared table's chains look now (for the chain-length chart).
    std::vector<uint64_t> hist;
    for (uint32_t b = 0; b < core_->nf_conntrack_htable_size(); ++b) {
      const uint32_t len = ctcore::Conntrack::list_length(core_->bucket(b));
      if (hist.size() <= len) hist.resize(len + 1, 0);
      ++hist[len];
    }
    trace_->chains(hist);
  }
  if (snapshots_out_.is_open()) {
    std::vector<const ctcore::nf_conn*> by_id = conns;
    std::sort(by_id.begin(), by_id.end(), [](auto* a, auto* b) { return a->id < b->id; });
    const bool proc = options_.snapshots_proc;
    std::string out = fmt::format("# {} at {} ({})\n", proc ? "/proc/net/nf_conntrack" : "snapshot",
                                  format_duration(engine_.now()),
                                  only ? "netns " + only->name : std::string("all namespaces"));
    for (const ctcore::nf_conn* ct : by_id) {
      const uint32_t secs = ctcore::nf_ct_expires(ct, core_->now32()) / core_->hz();
      if (only == nullptr) out += fmt::format("[{}] ", core_->nf_ct_net(ct).name);
      // The /proc reader holds a reference while it prints (ct_seq_show).
      out += (proc ? format_proc_line(*ct, secs, ct->use + 1) : format_list_line(*ct, secs)) + "\n";
    }
    out += fmt::format("# {} flow entries have been shown.\n", by_id.size());
    snapshots_out_.write(out);
  }
}

void Simulator::write_stats(bool to_trace) {
  for (size_t i = 0; i < core_->net_count(); ++i) {
    ctcore::net& n = core_->net_at(static_cast<uint16_t>(i));
    if (!n.alive) continue;
    for (uint16_t c = 0; c < core_->cpus(); ++c) {
      if (trace_ && to_trace) trace_->stats(n, c, n.pcpu[c].stat);
    }
    if (snapshots_out_.is_open()) {
      std::string out;
      if (options_.snapshots_proc) {
        out = fmt::format("# /proc/net/stat/nf_conntrack at {} (netns {})\n{}\n", format_duration(engine_.now()),
                          n.name, format_proc_stat_header());
        for (uint16_t c = 0; c < core_->cpus(); ++c) out += format_proc_stat_line(n.count, n.pcpu[c].stat) + "\n";
      } else {
        out = fmt::format("# conntrack -S at {} (netns {})\n", format_duration(engine_.now()), n.name);
        for (uint16_t c = 0; c < core_->cpus(); ++c) out += format_stat_line(c, n.pcpu[c].stat) + "\n";
      }
      snapshots_out_.write(out);
    }
  }
}

void Simulator::run_action(const ActionSpec& a) {
  core_->set_this_cpu(0);  // actions are user commands, run on CPU 0
  std::string args;
  auto add_str = [&](const char* k, const std::string& v) { args += fmt::format(",\"{}\":{}", k, json_string(v)); };
  switch (a.kind) {
    case ActionSpec::Kind::kSysctl: {
      add_str("netns", a.netns);
      add_str("key", a.key);
      args += fmt::format(",\"value\":{}", a.value);
      if (trace_) trace_->action(action_name(a.kind), args);
      if (a.key == "nf_conntrack_max") {
        core_->set_nf_conntrack_max(static_cast<uint32_t>(a.value));
      } else {
        const uint16_t ni = net_index(a.netns);
        if (ni != UINT16_MAX) ctcore::nf_conntrack_sysctl_write(core_->net_at(ni).sysctl, *a.sysctl.info, a.value, scenario_.hz);
      }
      return;
    }
    case ActionSpec::Kind::kFlush: {
      if (!a.netns.empty()) add_str("netns", a.netns);
      if (trace_) trace_->action(action_name(a.kind), args);
      const uint16_t ni = a.netns.empty() ? UINT16_MAX : net_index(a.netns);
      core_->nf_conntrack_flush(ni == UINT16_MAX ? nullptr : &core_->net_at(ni));
      return;
    }
    case ActionSpec::Kind::kDelete: {
      add_str("netns", a.netns);
      add_str("tuple", a.tuple_text);
      const uint16_t ni = net_index(a.netns);
      ctcore::nf_conntrack_tuple_hash* h = ni == UINT16_MAX ? nullptr : core_->nf_conntrack_find_get(core_->net_at(ni), 0, a.tuple);
      args += fmt::format(",\"found\":{}", h != nullptr ? "true" : "false");
      if (trace_) trace_->action(action_name(a.kind), args);
      if (h != nullptr) {
        ctcore::nf_conn* ct = ctcore::nf_ct_tuplehash_to_ctrack(h);
        core_->nf_ct_delete(ct, 0, 0, ctcore::DeathReason::kDelete);
        core_->nf_ct_put(ct);
      }
      return;
    }
    case ActionSpec::Kind::kNetnsAdd: {
      add_str("name", a.name);
      args += fmt::format(",\"hash_mix\":{}", a.hash_mix);
      if (trace_) trace_->action(action_name(a.kind), args);
      ctcore::net& n = core_->net_add(a.name, a.hash_mix);
      for (const SysctlSetting& s : a.sysctls) ctcore::nf_conntrack_sysctl_write(n.sysctl, *s.info, s.value, scenario_.hz);
      n.event_cb = listeners_.get();
      return;
    }
    case ActionSpec::Kind::kNetnsDel: {
      add_str("name", a.name);
      if (trace_) trace_->action(action_name(a.kind), args);
      const uint16_t ni = net_index(a.name);
      if (ni == UINT16_MAX || !core_->net_at(ni).alive) return;
      // Its listeners close with it; packets it still holds are dropped.
      for (Listener& l : listeners_->all())
        if (l.net == ni) l.stalled = true;
      for (uint32_t s = 0; s < slots_.size(); ++s) {
        InFlight& f = slots_[s];
        if (f.live && f.net == ni) {
          core_->nf_reset_ct(f.skb);
          f.dead = true;
        }
      }
      core_->net_exit(core_->net_at(ni));
      return;
    }
    case ActionSpec::Kind::kListenerStall:
    case ActionSpec::Kind::kListenerResume: {
      add_str("listener", a.name);
      if (trace_) trace_->action(action_name(a.kind), args);
      if (Listener* l = listeners_->find(a.name)) l->stalled = a.kind == ActionSpec::Kind::kListenerStall;
      return;
    }
    case ActionSpec::Kind::kSnapshot: {
      if (!a.netns.empty()) add_str("netns", a.netns);
      if (trace_) trace_->action(action_name(a.kind), args);
      const uint16_t ni = a.netns.empty() ? UINT16_MAX : net_index(a.netns);
      write_snapshot(ni == UINT16_MAX ? nullptr : &core_->net_at(ni));
      write_stats(false);
      return;
    }
    case ActionSpec::Kind::kStats:
      if (trace_) trace_->action(action_name(a.kind), args);
      write_stats(true);
      return;
  }
}

}  // namespace ctsim
