// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_collect.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "sim/output/output_file.h"
#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_plan.h"
#include "sim/sweep/sweep_points.h"

namespace ctsim::sweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A CSV cell: quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct PointResult {
  bool present = false;
  int exit = 0;
  std::string err;
  std::vector<double> values;
};

Status read_result(const SweepSpec& spec, const SweepLayout& layout, size_t i, PointResult* r) {
  std::string text;
  if (!read_text(layout.result(i), &text)) return Status::OK();  // not run (yet)
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("{}: not JSON: {}", layout.result(i), e.what()));
  }
  if (!j.is_object() || !j.contains("exit") || !j["exit"].is_number_integer() || !j.contains("index") ||
      j["index"] != i)
    return Status::InvalidArgument(fmt::format("{}: not the result of point {}", layout.result(i), i));
  r->present = true;
  r->exit = j["exit"].get<int>();
  if (r->exit != 0) {
    r->err = j.contains("stderr") && j["stderr"].is_string() ? j["stderr"].get<std::string>() : "";
    return Status::OK();
  }
  if (!j.contains("metrics") || !j["metrics"].is_object())
    return Status::InvalidArgument(fmt::format("{}: no metrics", layout.result(i)));
  for (const Metric& m : spec.metrics) {
    const nlohmann::json& ms = j["metrics"];
    if (!ms.contains(m.name))
      return Status::InvalidArgument(fmt::format("{}: no metric \"{}\" (plan again)", layout.result(i), m.name));
    r->values.push_back(ms[m.name].is_number() ? ms[m.name].get<double>() : kNaN);
  }
  return Status::OK();
}

}  // namespace

double student_t95(size_t dof) {
  static const double kTable[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                  2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                                  2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof == 0) return kNaN;
  if (dof <= 30) return kTable[dof];
  if (dof < 40) return 2.042;
  if (dof < 60) return 2.021;
  if (dof < 120) return 2.000;
  return 1.980;
}

Status collect_results(const SweepSpec& spec, const SweepLayout& layout, bool partial, Collected* out) {
  *out = Collected{};
  const size_t n = spec.point_count();
  out->points = n;
  std::vector<PointResult> results(n);
  for (size_t i = 0; i < n; ++i) {
    if (Status st = read_result(spec, layout, i, &results[i]); !st.ok()) return st;
    if (!results[i].present)
      out->missing.push_back(i);
    else if (results[i].exit != 0)
      out->failed.push_back(i);
  }
  if (!out->missing.empty() && !partial) {
    std::string list;
    for (size_t k = 0; k < out->missing.size() && k < 20; ++k)
      list += fmt::format("\n  point {} ({})", out->missing[k], point_label(spec, out->missing[k]));
    if (out->missing.size() > 20) list += fmt::format("\n  ... and {} more", out->missing.size() - 20);
    return Status::NotFound(
        fmt::format("{}: {} of {} points have no result yet (run them, or collect --partial to leave them out):{}",
                    layout.dir(), out->missing.size(), n, list));
  }

  // results.csv and failures.txt.
  std::string csv = "index";
  for (const Axis& a : spec.axes) csv += "," + csv_cell(a.column);
  csv += ",exit";
  for (const Metric& m : spec.metrics) csv += "," + m.name;
  csv += "\n";
  std::string failures;
  for (size_t i = 0; i < n; ++i) {
    const PointResult& r = results[i];
    if (!r.present) continue;
    const std::vector<size_t> at = point_value_indices(spec, i);
    csv += std::to_string(i);
    for (size_t a = 0; a < spec.axes.size(); ++a) csv += "," + csv_cell(value_text(spec.axes[a].values[at[a]]));
    csv += "," + std::to_string(r.exit);
    for (size_t k = 0; k < spec.metrics.size(); ++k) csv += "," + (r.exit == 0 ? format_value(r.values[k]) : "");
    csv += "\n";
    if (r.exit != 0) {
      failures += fmt::format("point {} ({}): exit {}\n", i, point_label(spec, i), r.exit);
      std::string e = r.err;
      if (!e.empty() && e.back() != '\n') e += '\n';
      for (size_t p = 0; p < e.size();) {
        const size_t nl = e.find('\n', p);
        failures += "  " + e.substr(p, nl - p + 1);
        p = nl + 1;
      }
    }
  }

  // summary.csv: the seed axis (last, if any) varies fastest, so a group's
  // points are consecutive.
  const bool has_seed = !spec.axes.empty() && spec.axes.back().is_seed;
  const size_t group = has_seed ? spec.axes.back().values.size() : 1;
  const size_t axes = spec.axes.size() - (has_seed ? 1 : 0);
  const size_t metrics = spec.metrics.size();
  std::string summary;
  for (size_t a = 0; a < axes; ++a) summary += csv_cell(spec.axes[a].column) + ",";
  summary += "runs,failed";
  for (const Metric& m : spec.metrics) summary += fmt::format(",{0}_mean,{0}_lo95,{0}_hi95", m.name);
  summary += "\n";
  for (size_t first = 0; first < n; first += group) {
    SummaryRow row;
    const std::vector<size_t> at = point_value_indices(spec, first);
    row.value_index.assign(at.begin(), at.begin() + static_cast<std::ptrdiff_t>(axes));
    row.mean.assign(metrics, kNaN);
    row.lo.assign(metrics, kNaN);
    row.hi.assign(metrics, kNaN);
    for (size_t k = 0; k < metrics; ++k) {
      double sum = 0;
      size_t count = 0;
      for (size_t i = first; i < first + group; ++i)
        if (results[i].present && results[i].exit == 0 && !std::isnan(results[i].values[k])) {
          sum += results[i].values[k];
          ++count;
        }
      if (count == 0) continue;
      const double mean = sum / static_cast<double>(count);
      row.mean[k] = mean;
      if (count < 2) continue;
      double ss = 0;
      for (size_t i = first; i < first + group; ++i)
        if (results[i].present && results[i].exit == 0 && !std::isnan(results[i].values[k]))
          ss += (results[i].values[k] - mean) * (results[i].values[k] - mean);
      const double half = student_t95(count - 1) * std::sqrt(ss / static_cast<double>(count - 1)) /
                          std::sqrt(static_cast<double>(count));
      row.lo[k] = mean - half;
      row.hi[k] = mean + half;
    }
    for (size_t i = first; i < first + group; ++i) {
      row.runs += results[i].present ? 1 : 0;
      row.failed += results[i].present && results[i].exit != 0 ? 1 : 0;
    }
    for (size_t a = 0; a < axes; ++a) summary += csv_cell(value_text(spec.axes[a].values[at[a]])) + ",";
    summary += fmt::format("{},{}", row.runs, row.failed);
    for (size_t k = 0; k < metrics; ++k)
      summary += fmt::format(",{},{},{}", format_value(row.mean[k]), format_value(row.lo[k]), format_value(row.hi[k]));
    summary += "\n";
    out->summary.push_back(std::move(row));
  }

  // All three or none.
  OutputFile files[3];
  const std::string paths[3] = {layout.results_csv(), layout.summary_csv(), layout.failures()};
  const std::string* texts[3] = {&csv, &summary, &failures};
  Status st;
  for (int f = 0; f < 3 && st.ok(); ++f) {
    st = files[f].open(paths[f]);
    if (st.ok()) files[f].write(*texts[f]);
  }
  for (int f = 0; f < 3 && st.ok(); ++f) st = files[f].finish();
  for (int f = 0; f < 3 && st.ok(); ++f) st = files[f].publish();
  if (!st.ok())
    for (OutputFile& f : files) f.abort();
  return st;
}

}  // namespace ctsim::sweep
