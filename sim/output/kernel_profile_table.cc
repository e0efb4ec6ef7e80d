#include "sim/output/kernel_profile_table.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/nf_conntrack_kernel_profile.h"

namespace ctsim {

std::string kernel_profile_table(bool markdown) {
  const auto profiles = ctcore::kernel_profiles();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"switch", "row"};
  for (const ctcore::kernel_profile_entry& e : profiles) head.emplace_back(e.name);
  rows.push_back(head);
  for (const ctcore::kernel_profile_switch& sw : ctcore::kernel_profile_switches()) {
    std::vector<std::string> r = {sw.name, sw.row};
    for (const ctcore::kernel_profile_entry& e : profiles)
      r.push_back(ctcore::kernel_profile_switch_value(sw, e.profile));
    rows.push_back(r);
  }
  std::string out;
  if (markdown) {
    for (size_t i = 0; i < rows.size(); ++i) {
      out += "| " + fmt::format("{}", fmt::join(rows[i], " | ")) + " |\n";
      if (i == 0) {
        out += "|";
        for (size_t k = 0; k < rows[0].size(); ++k) out += "---|";
        out += "\n";
      }
    }
    return out;
  }
  std::vector<size_t> width(head.size(), 0);
  for (const auto& r : rows)
    for (size_t k = 0; k < r.size(); ++k) width[k] = std::max(width[k], r[k].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t k = 0; k < r.size(); ++k) {
      line += r[k];
      if (k + 1 < r.size()) line += std::string(width[k] - r[k].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace ctsim
