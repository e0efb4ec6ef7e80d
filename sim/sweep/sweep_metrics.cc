// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/sweep/sweep_plan.h"

namespace ctsim::sweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// One series column reduced; `seconds`: the run's virtual length.
Status reduce_series(const std::string& path, const std::string& text, const Metric& m, double seconds, double* v) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(fmt::format("{}: empty, expected a header", path));
  const std::vector<std::string> header = split_csv_line(line);
  size_t col = header.size();
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == m.field) col = i;
  if (col == header.size())
    return Status::InvalidArgument(fmt::format("{}: no column \"{}\" (metric \"{}\")", path, m.field, m.name));
  double last = 0, max = -std::numeric_limits<double>::infinity(), sum = 0;
  size_t rows = 0;
  for (size_t n = 2; std::getline(in, line); ++n) {
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() != header.size())
      return Status::InvalidArgument(
          fmt::format("{}:{}: {} cells, expected {} as in the header", path, n, cells.size(), header.size()));
    double x = 0;
    try {
      size_t used = 0;
      x = static_cast<double>(std::stoll(cells[col], &used));
      if (used != cells[col].size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: column \"{}\": \"{}\" is not an integer", path, n, m.field, cells[col]));
    }
    last = x;
    max = std::max(max, x);
    sum += x;
    ++rows;
  }
  if (rows == 0) {
    *v = kNaN;
    return Status::OK();
  }
  switch (m.reduce) {
    case Reduce::kFinal: *v = last; break;
    case Reduce::kMax: *v = max; break;
    case Reduce::kMean: *v = sum / static_cast<double>(rows); break;
    case Reduce::kRate: *v = seconds > 0 ? (series_column_is_interval(m.field) ? sum : last) / seconds : kNaN; break;
  }
  return Status::OK();
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "";
  if (std::nearbyint(v) == v && std::fabs(v) < 9e15) return fmt::format("{}", static_cast<long long>(v));
  // Four decimals, trailing zeros dropped: enough for rates and ratios, and
  // the same text from every compiler (fmt rounds the exact binary value).
  std::string s = fmt::format("{:.4f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

Status compute_metrics(const SweepSpec& spec, const std::string& stats_path, const std::string& series_path,
                       std::vector<double>* out) {
  out->clear();
  std::string text;
  if (!read_text(stats_path, &text)) return Status::NotFound(fmt::format("{}: missing", stats_path));
  nlohmann::json stats;
  try {
    stats = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("{}: not JSON: {}", stats_path, e.what()));
  }
  if (!stats.is_object() || !stats.contains("end_ns") || !stats.contains("stats") || !stats["stats"].is_object())
    return Status::InvalidArgument(fmt::format("{}: not the output of `ctsim run --stats`", stats_path));
  const double seconds = stats["end_ns"].get<double>() / 1e9;
  std::string series;
  if (spec.needs_series() && !read_text(series_path, &series))
    return Status::NotFound(fmt::format("{}: missing", series_path));
  for (const Metric& m : spec.metrics) {
    double v = kNaN;
    switch (m.kind) {
      case Metric::Kind::kStat: {
        const nlohmann::json& from = stats.contains(m.field) ? stats : stats["stats"];
        // chaintoolong exists from 5.15 (row C2): a v5.10 run has none, which is 0.
        if (m.field == "chaintoolong" && !from.contains(m.field)) {
          v = 0;
          break;
        }
        if (!from.contains(m.field) || !from[m.field].is_number())
          return Status::InvalidArgument(fmt::format("{}: no statistic \"{}\"", stats_path, m.field));
        v = from[m.field].get<double>();
        if (m.reduce == Reduce::kRate) v = seconds > 0 ? v / seconds : kNaN;
        break;
      }
      case Metric::Kind::kSeries:
        if (Status st = reduce_series(series_path, series, m, seconds, &v); !st.ok()) return st;
        break;
      case Metric::Kind::kRatio: {
        const double num = (*out)[m.numerator], den = (*out)[m.denominator];
        v = den != 0 && !std::isnan(num) && !std::isnan(den) ? num / den * m.per : kNaN;
        break;
      }
    }
    out->push_back(v);
  }
  return Status::OK();
}

}  // namespace ctsim::sweep
