// Simulator, part 4: the time-series sampling events and the progress
// callback. Kept apart from simulator.cc so that the run loop stays readable.
#include <algorithm>

#include "sim/world/simulator.h"

namespace ctsim {

void Simulator::take_sample() {
  const std::optional<SimTime> every = outputs_->sample_every();
  if (!every) return;
  outputs_->sample();
  engine_.schedule(engine_.now() + *every, Phase::kSample, kSample, 0);
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

}  // namespace ctsim
