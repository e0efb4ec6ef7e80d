#include "sim/output/outputs.h"

#include "sim/scenario/nat_range.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <tuple>

#include "sim/output/conntrack_tool_format.h"
#include "sim/output/packet_outcome.h"
#include "sim/scenario/packet_wire.h"

namespace ctsim {

std::vector<std::string> netns_column_names(const Scenario& scenario) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const NamespaceSpec& ns : scenario.namespaces) add(ns.name);
  for (const ActionSpec& a : scenario.actions)
    if (a.kind == ActionSpec::Kind::kNetnsAdd) add(a.name);
  return names;
}

Outputs::Outputs(const OutputOptions& options, const Engine& engine, ctcore::Conntrack& core)
    : options_(options), engine_(engine), core_(core) {}

Outputs::~Outputs() = default;

Status Outputs::open(const Scenario& scenario, const ListenerGauges& gauges) {
  if (!options_.series_path.empty() && options_.series_every <= 0)
    return Status::InvalidArgument("--series-every must be positive");
  struct Wanted {
    const std::string& path;
    OutputFile& file;
  };
  const Wanted wanted[] = {{options_.trace_path, trace_out_},
                           {options_.events_path, events_out_},
                           {options_.snapshots_path, snapshots_out_},
                           {options_.explain_path, explain_out_},
                           {options_.series_path, series_out_},
                           {options_.html_path, html_out_},
                           {options_.pcap_out_path, pcap_file_},
                           {options_.injected_pcap_path, injected_file_}};
  for (const Wanted& w : wanted) {
    if (w.path.empty()) continue;
    if (Status s = w.file.open(w.path); !s.ok()) {
      abort();
      return s;
    }
  }
  if (trace_out_.is_open()) {
    trace_ = std::make_unique<TraceWriter>(trace_out_, engine_, core_);
    trace_->set_all_gc(options_.trace_all_gc);
    trace_->header(scenario.name, scenario.hz, scenario.seed, scenario.initial_jiffies, scenario.kernel_name,
                   scenario.kernel_overrides, scenario.buckets, scenario.max, hash_rnd_text(scenario),
                   scenario.kernel.hash != ctcore::ct_hash_form::kJhash2, scenario.cpus);
  }
  if (explain_out_.is_open()) {
    explain_ = std::make_unique<ExplainWriter>(explain_out_, engine_, core_);
    explain_->header(scenario.name, scenario.kernel_name, scenario.hz, scenario.buckets, hash_rnd_text(scenario),
                     scenario.cpus);
  }
  if (series_out_.is_open()) {
    series_ = std::make_unique<SeriesWriter>(series_out_, engine_, core_, gauges, netns_column_names(scenario));
    series_->header();
  }
  if (html_out_.is_open()) {
    html_ = std::make_unique<HtmlWriter>(html_out_, engine_, core_, gauges);
    if (Status s = html_->open(scenario, netns_column_names(scenario)); !s.ok()) {
      abort();
      return s;
    }
  }
  for (auto [file, format, writer] :
       {std::tuple{&pcap_file_, options_.pcap_out_format, &pcap_out_},
        std::tuple{&injected_file_, options_.injected_pcap_format, &injected_}}) {
    if (!file->is_open()) continue;
    *writer = std::make_unique<PcapWriter>(*file, format);
    if (Status s = (*writer)->start(); !s.ok()) {
      abort();
      return s;
    }
  }
  // The core has one observer slot: fan out when more than one output
  // listens, the trace first (invariant 2).
  fanout_.add(trace_.get());
  fanout_.add(explain_.get());
  fanout_.add(series_.get());
  fanout_.add(html_.get());
  only_trace_watches_ =
      trace_ != nullptr && !explain_ && !html_ && !pcap_out_ && !injected_ && options_.facts == nullptr;
  return Status::OK();
}

std::optional<SimTime> Outputs::sample_every() const {
  if (!series_) return std::nullopt;
  return options_.series_every;
}

void Outputs::packet_step_all(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook,
                              const ctcore::Packet& skb, std::string_view path, bool first, bool resumed) {
  if (explain_)
    explain_->packet_step(id, n, cpu, hook, first ? format_packet(skb) : "", path, first && !resumed, resumed);
  if (trace_ && first && !resumed) trace_->pkt(n, cpu, id, hook, skb, path);
  if (injected_ && first && !resumed) {
    frame_.clear();
    iface_.assign(n.name).append("/").append(path);
    encode_ethernet(skb, cpu, &frame_, static_cast<uint16_t>(injected_->interface_id(iface_)));
    injected_->write(engine_.now(), iface_, frame_, "");
  }
  if (html_) html_->packet_step(id, n, cpu, hook, first ? format_packet(skb) : "", path, first && !resumed, resumed);
  if (options_.facts != nullptr && first && !resumed)
    options_.facts->packet_injected(id, engine_.now(), n.name, cpu, path, skb);
}

void Outputs::verdict_all(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, uint64_t id,
                          std::string_view hook, const char* verdict, const char* by, const RuleSpec* rule) {
  std::string rule_reason;
  std::string_view reason = by != nullptr ? by : "";
  if (rule != nullptr) reason = rule_reason = fmt::format("rule \"{}\"", rule->match_text);
  if (trace_) {
    if (rule == nullptr)
      trace_->verdict_by(n, cpu, ct, id, hook, verdict, by);
    else
      trace_->verdict(n, cpu, ct, id, hook, verdict, reason);
  }
  if (explain_) explain_->verdict(hook, verdict, reason);
  if (pcap_out_ || options_.facts != nullptr) {
    verdict_id_ = id;
    verdict_.assign(verdict);
    verdict_by_.assign(reason);
  }
  if (html_) html_->verdict(ct, hook, verdict, reason);
}

void Outputs::nat(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
                  const RuleSpec* rule, const ctcore::nf_nat_range2& range, const ctcore::nf_nat_decision& why) {
  if (!trace_ && !explain_ && !html_) return;
  const std::string_view manip_word = manip == ctcore::NF_NAT_MANIP_DST ? "dst" : "src";
  const std::string_view rule_word = rule != nullptr ? enum_name(kVerdictNames, rule->verdict) : "";
  const std::string range_text = format_nat_range(range);
  if (trace_) trace_->nat(n, cpu, ct, manip_word, rule_word, range_text, why);
  const char* match = rule != nullptr ? rule->match_text.c_str() : nullptr;
  if (html_) html_->nat(ct, manip, match, rule_word, range_text, why);
}

void Outputs::nat_rule(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, const RuleSpec* rule,
                       const ctcore::nf_nat_range2* range) {
  if (!explain_ && !html_) return;
  const std::string_view rule_word = rule != nullptr ? enum_name(kVerdictNames, rule->verdict) : "";
  const std::string range_text = range != nullptr ? format_nat_range(*range) : std::string();
  const char* match = rule != nullptr ? rule->match_text.c_str() : nullptr;
  if (explain_) explain_->nat_rule(ct, manip, match, rule_word, range_text);
  if (html_) html_->nat_rule(ct, manip, match, rule_word, range_text);
}

void Outputs::nat_icmp(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
                       const ctcore::Packet& before, const ctcore::Packet& after) {
  const std::string_view manip_word = manip == ctcore::NF_NAT_MANIP_DST ? "dst" : "src";
  if (trace_) trace_->nat_icmp(n, cpu, ct, manip_word, before, after);
  if (explain_ || html_) {
    const std::string b = format_packet(before), a = format_packet(after);
    if (explain_) explain_->nat_icmp(ct, manip, b, a);
    if (html_) html_->nat_icmp(ct, manip, b, a);
  }
}

void Outputs::packet_done(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view path,
                          const ctcore::Packet& skb, bool dropped) {
  if (explain_) explain_->packet_done(skb.ct);
  if (html_) html_->packet_done(skb.ct);
  if (!pcap_out_ && options_.facts == nullptr) return;
  const PacketOutcomeWords outcome =
      packet_outcome_words(skb, dropped, verdict_id_ == id ? std::string_view(verdict_by_) : std::string_view());
  if (options_.facts != nullptr) options_.facts->packet_left(id, outcome);
  if (!pcap_out_) return;
  // What conntrack did, as Wireshark's packet list shows it:
  // "ct_state=new orig conn=17 verdict=accept".
  comment_ = "ct_state=";
  comment_ += outcome.ct_state;
  if (skb.ct != nullptr) fmt::format_to(std::back_inserter(comment_), " conn={}", skb.ct->id);
  comment_ += " verdict=";
  comment_ += outcome.verdict;
  if (!outcome.by.empty()) {
    comment_ += " by=";
    comment_ += outcome.by;
  }
  frame_.clear();
  encode_ethernet(skb, cpu, &frame_);
  iface_.assign(n.name).append("/").append(path);
  pcap_out_->write(engine_.now(), iface_, frame_, comment_);
}

void Outputs::skipped(std::string_view capture, uint64_t frame, std::string_view reason) {
  if (trace_) trace_->skipped(capture, frame, reason);
}

void Outputs::action_begins(const ActionSpec& a) {
  if (explain_) explain_->action(action_name(a.kind));
  if (html_) html_->action_begins(action_name(a.kind));
}

void Outputs::action(const ActionSpec& a, std::optional<bool> found) {
  if (trace_) trace_->action(a, found);
  if (html_) html_->action(action_name(a.kind));
}

void Outputs::end_step() {
  if (explain_) explain_->end_step();
  if (html_) html_->end_step();
}

void Outputs::snapshot(const ctcore::net* only, const std::vector<const ctcore::nf_conn*>& conns,
                       ActionSpec::SnapshotList list) {
  const bool table = list == ActionSpec::SnapshotList::kTable;
  const char* list_name = kSnapshotListNames[static_cast<size_t>(list)];
  if (trace_) {
    trace_->snapshot(only, conns, table ? nullptr : list_name);
    // How the shared table's chains look now (for the chain-length chart).
    std::vector<uint64_t> hist;
    for (uint32_t b = 0; b < core_.nf_conntrack_htable_size(); ++b) {
      const uint32_t len = ctcore::Conntrack::list_length(core_.bucket(b));
      if (hist.size() <= len) hist.resize(len + 1, 0);
      ++hist[len];
    }
    trace_->chains(hist);
  }
  if (!snapshots_out_.is_open() && options_.facts == nullptr) return;
  std::vector<const ctcore::nf_conn*> by_id = conns;
  std::sort(by_id.begin(), by_id.end(), [](auto* a, auto* b) { return a->id < b->id; });
  auto seconds_left = [&](const ctcore::nf_conn& ct) { return ctcore::nf_ct_expires(&ct, core_.now32()) / core_.hz(); };
  if (options_.facts != nullptr) {
    // One dump per namespace, as `conntrack -L` run in each prints it.
    for (size_t i = 0; i < core_.net_count(); ++i) {
      const ctcore::net& n = core_.net_at(static_cast<uint16_t>(i));
      if (only != nullptr ? &n != only : !n.alive) continue;
      std::vector<std::string> lines;
      for (const ctcore::nf_conn* ct : by_id)
        if (&core_.nf_ct_net(ct) == &n) lines.push_back(format_list_line(*ct, seconds_left(*ct), core_.profile()));
      options_.facts->table_dump(engine_.now(), n.name, std::move(lines));
    }
  }
  if (snapshots_out_.is_open()) {
    const bool proc = options_.snapshots_proc && table;  // /proc has no list views
    std::string out =
        fmt::format("# {} at {} ({})\n",
                    table ? (proc ? "/proc/net/nf_conntrack" : "snapshot") : fmt::format("conntrack -L {}", list_name),
                    format_duration(engine_.now()), only ? "netns " + only->name : std::string("all namespaces"));
    for (const ctcore::nf_conn* ct : by_id) {
      const uint32_t secs = seconds_left(*ct);
      if (only == nullptr) out += fmt::format("[{}] ", core_.nf_ct_net(ct).name);
      // The /proc reader holds a reference while it prints (ct_seq_show).
      out += (proc ? format_proc_line(*ct, secs, ct->use + 1, core_.profile())
                   : format_list_line(*ct, secs, core_.profile())) +
             "\n";
    }
    out += fmt::format("# {} flow entries have been shown.\n", by_id.size());
    snapshots_out_.write(out);
  }
}

void Outputs::stats(bool to_trace) {
  const bool c2 = core_.profile().stat_chaintoolong;  // row C2
  for (size_t i = 0; i < core_.net_count(); ++i) {
    ctcore::net& n = core_.net_at(static_cast<uint16_t>(i));
    if (!n.alive) continue;
    if (trace_ && to_trace)
      for (uint16_t c = 0; c < core_.cpus(); ++c) trace_->stats(n, c, n.pcpu[c].stat);
    if (options_.facts != nullptr && to_trace) {
      std::vector<std::string> lines;
      for (uint16_t c = 0; c < core_.cpus(); ++c) lines.push_back(format_stat_line(c, n.pcpu[c].stat, c2));
      options_.facts->stats_dump(engine_.now(), n.name, std::move(lines));
    }
    if (!snapshots_out_.is_open()) continue;
    std::string out;
    if (options_.snapshots_proc) {
      out = fmt::format("# /proc/net/stat/nf_conntrack at {} (netns {})\n{}\n", format_duration(engine_.now()), n.name,
                        format_proc_stat_header(c2));
      for (uint16_t c = 0; c < core_.cpus(); ++c) out += format_proc_stat_line(n.count, n.pcpu[c].stat, c2) + "\n";
    } else {
      out = fmt::format("# conntrack -S at {} (netns {})\n", format_duration(engine_.now()), n.name);
      for (uint16_t c = 0; c < core_.cpus(); ++c) out += format_stat_line(c, n.pcpu[c].stat, c2) + "\n";
    }
    snapshots_out_.write(out);
  }
}

void Outputs::listener_event(const ctcore::net& n, const ctcore::nf_conn& ct, std::string_view name,
                             std::string_view type, unsigned events, bool room, bool reliable, size_t backlog) {
  if (trace_) trace_->event(n, ct, name, type, events, room);
  if (!explain_ && !html_) return;
  // The listener's part only: what the core does about a refusal is the
  // core's to report (Observer::on_event_result).
  const std::string outcome =
      room       ? fmt::format("queued (backlog {})", backlog)
      : reliable ? std::string("refused: the reliable listener's buffer is full: ctnetlink returns -ENOBUFS")
                 : std::string("lost: the buffer is full (the reader will see ENOBUFS)");
  if (explain_) explain_->event(ct, name, type, events, outcome);
  if (html_) html_->listener_event(ct, name, type, events, outcome, room);
}

void Outputs::listener_read(const ctcore::net& n, std::string_view name, uint32_t delivered, bool overrun) {
  if (trace_) trace_->listener_read(n, name, delivered, overrun);
  if (html_) html_->listener_read(name, delivered, overrun);
}

void Outputs::event_line(std::string_view name, bool prefix_name, std::string_view line) {
  if (options_.facts != nullptr) options_.facts->event_line(engine_.now(), name, line);
  if (!events_out_.is_open()) return;
  std::string out;
  if (prefix_name) {
    out = name;
    out += ": ";
  }
  if (options_.event_timestamps) {
    const int64_t t = engine_.now();
    out += fmt::format("[{:08}.{:06}]\t", t / 1000000000, (t % 1000000000) / 1000);
  }
  out += line;
  out += '\n';
  events_out_.write(out);
}

void Outputs::sample() {
  if (series_) series_->row();
}

void Outputs::end(uint64_t packets, uint64_t conns_created, uint64_t conns_freed, uint64_t events,
                  const ctcore::ip_conntrack_stat& total) {
  stats(true);  // every live namespace's counters, to the trace and as text
  if (trace_) trace_->end(packets, conns_created, conns_freed, events, total);
  if (series_) series_->row();  // the end (skipped if a row was just taken)
  if (explain_) explain_->finish();
  if (html_) html_->finish();
}

Status Outputs::publish() {
  // All or nothing: every output is finished before any is published.
  // libpcap's stream is flushed before its file is.
  if (pcap_out_) (void)pcap_out_->finish();
  if (injected_) (void)injected_->finish();
  Status st;
  for (OutputFile* f : files()) {
    Status s = f->finish();
    if (st.ok() && !s.ok()) st = s;
  }
  for (OutputFile* f : files()) {
    if (st.ok())
      st = f->publish();
    else
      f->abort();
  }
  return st;
}

void Outputs::abort() {
  pcap_out_.reset();
  injected_.reset();
  for (OutputFile* f : files()) f->abort();
}

}  // namespace ctsim
