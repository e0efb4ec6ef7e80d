// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_point_run.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_plan.h"

namespace ctsim::sweep {

Status run_point(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim, size_t i, int* point_exit,
                 ChildOutcome* cost) {
  ChildOutcome outcome;
  if (Status st = run_child(run_arguments(spec, layout, ctsim, i), "", layout.stderr_log(i), &outcome); !st.ok())
    return st;
  if (cost != nullptr) *cost = outcome;
  nlohmann::json result = nlohmann::json::object();
  result["index"] = i;
  std::string err;
  int exit_code = outcome.exit_code;
  std::vector<double> values;
  if (exit_code == 0) {
    if (Status st = compute_metrics(spec, layout.stats(i), layout.series(i), &values); !st.ok()) {
      exit_code = 2;
      err = st.message() + "\n";
    }
  } else if (!read_text(layout.stderr_log(i), &err)) {
    err = fmt::format("(no stderr: {} cannot be read)\n", layout.stderr_log(i));
  }
  result["exit"] = exit_code;
  if (exit_code == 0) {
    nlohmann::json m = nlohmann::json::object();
    for (size_t k = 0; k < spec.metrics.size(); ++k)
      m[spec.metrics[k].name] = std::isnan(values[k]) ? nlohmann::json(nullptr) : nlohmann::json(values[k]);
    result["metrics"] = m;
  } else {
    result["stderr"] = err;
  }
  *point_exit = exit_code;
  return write_text(layout.result(i), result.dump() + "\n");
}

}  // namespace ctsim::sweep
