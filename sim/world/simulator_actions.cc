// Simulator, part 3: what the scenario's actions do (snapshots, stats,
// user commands) and the conntrack-tool text they write.
#include <fmt/format.h>

#include <algorithm>

#include "sim/output/conntrack_tool_format.h"
#include "sim/world/simulator.h"

namespace ctsim {

using ctcore::nf_inet_hooks;
using ctcore::Packet;


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
