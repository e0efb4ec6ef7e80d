// The Simulator's optional outputs beyond the trace: the explain narrative,
// the time series and the progress callback. Kept apart from simulator.cc
// so that the packet path stays readable.
#include <algorithm>

#include "sim/world/simulator.h"

namespace ctsim {

Status Simulator::open_extra_outputs() {
  listeners_->set_event_ids(options_.event_ids);
  if (!options_.explain_path.empty()) {
    if (Status s = explain_out_.open(options_.explain_path); !s.ok()) return s;
    explain_ = std::make_unique<ExplainWriter>(explain_out_, engine_, *core_);
    listeners_->set_explain(explain_.get());
  }
  if (!options_.series_path.empty()) {
    if (options_.series_every <= 0) return Status::InvalidArgument("--series-every must be positive");
    if (Status s = series_out_.open(options_.series_path); !s.ok()) return s;
    series_ = std::make_unique<SeriesWriter>(series_out_, engine_, *core_, *listeners_, netns_column_names());
  }
  // The core has one observer slot: fan out when more than one output
  // listens. The trace stays first, so its records are written before any
  // other output sees the same step.
  fanout_.add(trace_.get());
  fanout_.add(explain_.get());
  fanout_.add(series_.get());
  core_->set_observer(fanout_.simplest());
  return Status::OK();
}

void Simulator::write_extra_headers() {
  if (explain_) explain_->header(scenario_.name, scenario_.hz, scenario_.buckets, scenario_.hash_rnd, scenario_.cpus);
  if (series_) {
    series_->header();
    // Sampling events are scheduled on the engine directly, not through
    // schedule(): they are not scenario events and never keep a run alive.
    engine_.schedule(options_.series_every, Phase::kSample, kSample, 0);
  }
}

void Simulator::take_sample() {
  if (!series_) return;
  series_->row();
  engine_.schedule(engine_.now() + options_.series_every, Phase::kSample, kSample, 0);
}

void Simulator::finish_extra_outputs() {
  if (series_) series_->row();  // the end (skipped if a row was just taken)
  if (explain_) explain_->finish();
}

void Simulator::report_progress() {
  RunProgress p;
  p.now = engine_.now();
  p.engine_events = engine_.events_run();
  // count = unconfirmed + table + dying; the two lists are short.
  uint64_t listed = 0;
  for (size_t i = 0; i < core_->net_count(); ++i)
    for (const ctcore::ct_pcpu& pc : core_->net_at(static_cast<uint16_t>(i)).pcpu)
      listed += ctcore::Conntrack::list_length(pc.unconfirmed) + ctcore::Conntrack::list_length(pc.dying);
  p.table = core_->conns_allocated() - listed;
  options_.progress(p);
}

std::vector<std::string> Simulator::netns_column_names() const {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  for (const NamespaceSpec& ns : scenario_.namespaces) add(ns.name);
  for (const ActionSpec& a : scenario_.actions)
    if (a.kind == ActionSpec::Kind::kNetnsAdd) add(a.name);
  return names;
}

}  // namespace ctsim
