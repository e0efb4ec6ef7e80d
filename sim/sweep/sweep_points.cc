// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_points.h"

namespace ctsim::sweep {

std::vector<size_t> point_value_indices(const SweepSpec& spec, size_t index) {
  std::vector<size_t> out(spec.axes.size());
  for (size_t a = spec.axes.size(); a-- > 0;) {
    const size_t n = spec.axes[a].values.size();
    out[a] = index % n;
    index /= n;
  }
  return out;
}

nlohmann::json derive_scenario(const SweepSpec& spec, size_t index) {
  nlohmann::json doc = spec.base;
  const std::vector<size_t> at = point_value_indices(spec, index);
  for (size_t a = 0; a < spec.axes.size(); ++a)
    doc[nlohmann::json::json_pointer(spec.axes[a].pointer)] = spec.axes[a].values[at[a]];
  return doc;
}

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string point_label(const SweepSpec& spec, size_t index) {
  const std::vector<size_t> at = point_value_indices(spec, index);
  std::string out;
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    if (!out.empty()) out += ' ';
    out += spec.axes[a].column + "=" + value_text(spec.axes[a].values[at[a]]);
  }
  return out;
}

}  // namespace ctsim::sweep
