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
  p.table = core_->conns_in_table();
  options_.progress(p);
}

}  // namespace ctsim
