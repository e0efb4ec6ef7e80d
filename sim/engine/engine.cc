#include "sim/engine/engine.h"

#include "core/nf_conntrack_common.h"

namespace ctsim {

bool Engine::queue_delayed_work(ctcore::delayed_work* work, uint64_t delay) {
  if (work->pending) return false;
  work->pending = true;
  work->due = jiffies_ + delay;
  SimTime t = base_.time_of_jiffies(work->due);
  if (t < now_) t = now_;
  work->token = schedule(t, Phase::kWork, kKindWork, 0, work);
  return true;
}

bool Engine::mod_delayed_work(ctcore::delayed_work* work, uint64_t delay) {
  bool was = cancel_delayed_work(work);
  queue_delayed_work(work, delay);
  return was;
}

bool Engine::cancel_delayed_work(ctcore::delayed_work* work) {
  bool was = work->pending;
  work->pending = false;
  work->token = 0;
  return was;
}

void Engine::advance_to(SimTime t) {
  CT_ASSERT(t >= now_, "time went backwards");
  set_clock(t);
}

void Engine::run_work(const Event& ev) {
  auto* work = static_cast<ctcore::delayed_work*>(ev.ptr);
  if (work->pending && work->token == ev.seq) {
    work->pending = false;
    work->token = 0;
    work->func();
  }
}

}  // namespace ctsim
