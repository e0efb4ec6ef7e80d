// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_layout.h"

#include <fmt/format.h>

#include <utility>

namespace ctsim::sweep {

SweepLayout::SweepLayout(std::string dir, size_t points) : dir_(std::move(dir)), width_(4) {
  while (!dir_.empty() && dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  size_t n = points == 0 ? 0 : points - 1;
  int digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  if (digits > width_) width_ = digits;
}

std::string SweepLayout::point_dir(size_t i) const { return fmt::format("{}/points/{:0{}}", dir_, i, width_); }

}  // namespace ctsim::sweep
