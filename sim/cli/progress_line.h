// The progress line of a long `ctsim run` on a terminal.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_CLI_PROGRESS_LINE_H_
#define CTSIM_SIM_CLI_PROGRESS_LINE_H_

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "sim/engine/sim_time.h"
#include "sim/world/simulator.h"

namespace ctsim::cli {

// The progress line: shown on a terminal once a run has taken about two
// seconds of wall time, refreshed a few times a second, erased at the end.
// The wall clock is read here only, for this display; no output file
// depends on it.
// TEST_ hook: CTSIM_TEST_PROGRESS_AFTER_MS overrides the two seconds (and
// the refresh interval), so a test can see the line on a short run.
class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressLine() {
    if (const char* ms = std::getenv("CTSIM_TEST_PROGRESS_AFTER_MS")) {
      after_ = std::chrono::milliseconds(std::atoi(ms));
      every_ = after_;
    }
  }
  void update(const ctsim::RunProgress& p) {
    const Clock::time_point now = Clock::now();
    if (now - start_ < after_ || now - last_ < every_) return;
    const double secs = std::chrono::duration<double>(now - start_).count();
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\rctsim: virtual time %s, %.0f events/s, table %llu conns   ",
                 ctsim::format_duration(p.now).c_str(), static_cast<double>(p.engine_events) / secs,
                 static_cast<unsigned long long>(p.table));
    std::fflush(stderr);
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
  std::chrono::milliseconds after_{2000}, every_{250};
  bool shown_ = false;
};

}  // namespace ctsim::cli

#endif  // CTSIM_SIM_CLI_PROGRESS_LINE_H_
