// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/output/output_file.h"
#include "sim/output/outputs.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_checker.h"
#include "sim/sweep/sweep_points.h"

namespace ctsim::sweep {

namespace {

// At most this many failing points are described; the rest are counted.
constexpr size_t kMaxReported = 5;

// The series columns a run of `s` writes that a metric may read.
std::vector<std::string> series_columns(const Scenario& s) {
  std::vector<std::string> out = fixed_series_columns();
  for (const std::string& ns : netns_column_names(s)) out.push_back("count_" + ns);
  for (const ListenerSpec& l : s.listeners) {
    out.push_back("backlog_" + l.name);
    out.push_back("lost_" + l.name);
  }
  return out;
}

}  // namespace

bool read_text(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

Status write_text(const std::string& path, const std::string& text) {
  OutputFile f;
  if (Status st = f.open(path); !st.ok()) return st;
  f.write(text);
  if (Status st = f.finish(); !st.ok()) return st;
  return f.publish();
}

std::vector<std::string> run_arguments(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim,
                                       size_t i) {
  std::vector<std::string> args = {ctsim, "run", layout.scenario(i), "--quiet", "--stats", layout.stats(i)};
  if (spec.needs_series()) {
    args.insert(args.end(), {"--series", layout.series(i), "--series-every", spec.series_every});
  }
  return args;
}

std::string shell_words(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("/._-+=:,@%").find(c) != std::string_view::npos;
    });
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

Status check_planned(const SweepSpec& spec, const SweepLayout& layout) {
  std::string planned;
  if (!read_text(layout.sweep_json(), &planned))
    return Status::NotFound(fmt::format("{} holds no plan: run `ctsim sweep plan {} --out {}` first", layout.dir(),
                                        spec.file, layout.dir()));
  if (planned != spec.canonical())
    return Status::InvalidArgument(
        fmt::format("{} holds the plan of another sweep (or of another version of {}): plan into another --out, or "
                    "remove {}",
                    layout.dir(), spec.file, layout.dir()));
  return Status::OK();
}

Status write_plan(const SweepSpec& spec, const SweepLayout& layout, const std::string& ctsim) {
  std::string planned;
  if (read_text(layout.sweep_json(), &planned)) {
    if (Status st = check_planned(spec, layout); !st.ok()) return st;
  }
  // Every point first: a bad value is refused before anything is written.
  // Each scenario is derived again when written, so that memory does not
  // grow with the number of points.
  const size_t n = spec.point_count();
  auto scenario_text = [&spec](size_t i) { return derive_scenario(spec, i).dump(2) + "\n"; };
  std::vector<std::string> problems;
  size_t failed = 0;
  for (size_t i = 0; i < n; ++i) {
    Scenario s;
    const std::string where = fmt::format("{}: point {} ({})", spec.file, i, point_label(spec, i));
    Status st = parse_scenario(fmt::format("point {} scenario", i), scenario_text(i), &s);
    std::string problem;
    if (!st.ok()) {
      problem = fmt::format("{}: the derived scenario is not valid:\n  {}", where, st.message());
    } else {
      const std::vector<std::string> columns = series_columns(s);
      for (const Metric& m : spec.metrics) {
        if (m.kind != Metric::Kind::kSeries || std::find(columns.begin(), columns.end(), m.field) != columns.end())
          continue;
        problem += fmt::format("{}{}: metric \"{}\": the series has no column \"{}\"{}", problem.empty() ? "" : "\n",
                               where, m.name, m.field, did_you_mean(m.field, columns));
      }
    }
    if (problem.empty()) continue;
    if (++failed <= kMaxReported) problems.push_back(problem);
  }
  if (failed > 0) {
    std::string msg;
    for (const std::string& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    if (failed > kMaxReported) msg += fmt::format("\n... and {} more points", failed - kMaxReported);
    return Status::InvalidArgument(msg);
  }
  std::error_code ec;
  std::filesystem::create_directories(layout.points_dir(), ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create the folder: {}", layout.points_dir(), ec.message()));
  std::string plan, indices;
  for (size_t i = 0; i < n; ++i) {
    std::filesystem::create_directories(layout.point_dir(i), ec);
    if (ec) return Status::IOError(fmt::format("{}: cannot create the folder: {}", layout.point_dir(i), ec.message()));
    if (Status st = write_text(layout.scenario(i), scenario_text(i)); !st.ok()) return st;
    plan += shell_words(run_arguments(spec, layout, ctsim, i)) + "\n";
    indices += std::to_string(i) + "\n";
  }
  if (Status st = write_text(layout.plan(), plan); !st.ok()) return st;
  if (Status st = write_text(layout.indices(), indices); !st.ok()) return st;
  return write_text(layout.sweep_json(), spec.canonical());
}

}  // namespace ctsim::sweep
