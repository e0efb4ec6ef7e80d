// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_charts.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "sim/output/plot_render.h"
#include "sim/sweep/child_process.h"
#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_plan.h"
#include "sim/sweep/sweep_points.h"

namespace ctsim::sweep {

namespace {

// The number an axis value plots at: a number, or the number a quantity
// such as "20000/s" or "1.5s" starts with. False for anything else.
bool plot_number(const nlohmann::json& v, double* x) {
  if (v.is_number()) {
    *x = v.get<double>();
    return true;
  }
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  const size_t from = i;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == from) return false;
  try {
    *x = std::stod(s.substr(0, i));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

std::string gp_escape(const std::string& s) { return gnuplot_string(s); }

}  // namespace

Status render_sweep_charts(const SweepSpec& spec, const SweepLayout& layout, const Collected& collected,
                           const std::string& gnuplot) {
  std::error_code ec;
  std::filesystem::create_directories(layout.charts_dir(), ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create the folder: {}", layout.charts_dir(), ec.message()));
  // gnuplot changes into the charts folder first (-e runs before the
  // script is read), so the script is named by its absolute path.
  const std::string charts = std::filesystem::absolute(layout.charts_dir(), ec).string();
  if (ec) return Status::IOError(fmt::format("{}: {}", layout.charts_dir(), ec.message()));
  const bool has_seed = !spec.axes.empty() && spec.axes.back().is_seed;
  const size_t axes = spec.axes.size() - (has_seed ? 1 : 0);
  for (size_t a = 0; a < axes; ++a) {
    const Axis& axis = spec.axes[a];
    // Numeric x when every value has a number; else the values in order, as labels.
    std::vector<double> xs(axis.values.size());
    bool numeric = true;
    for (size_t v = 0; v < axis.values.size(); ++v) numeric = numeric && plot_number(axis.values[v], &xs[v]);
    if (!numeric)
      for (size_t v = 0; v < xs.size(); ++v) xs[v] = static_cast<double>(v);
    double lo = xs.empty() ? 0 : xs[0], hi = lo;
    for (double x : xs) lo = std::min(lo, x), hi = std::max(hi, x);
    const bool logx = numeric && lo > 0 && hi / lo >= 16;
    // One line per combination of the other axes, in summary order.
    std::map<std::vector<size_t>, std::vector<const SummaryRow*>> lines;
    std::vector<std::vector<size_t>> line_order;
    for (const SummaryRow& row : collected.summary) {
      std::vector<size_t> others = row.value_index;
      others.erase(others.begin() + static_cast<std::ptrdiff_t>(a));
      if (!lines.count(others)) line_order.push_back(others);
      lines[others].push_back(&row);
    }
    for (size_t k = 0; k < spec.metrics.size(); ++k) {
      const Metric& m = spec.metrics[k];
      const std::string base = fmt::format("{}-vs-{}", m.name, axis.column);
      std::string dat, plot;
      int block = 0;
      for (const std::vector<size_t>& others : line_order) {
        std::string title;
        for (size_t o = 0, ax = 0; ax < axes; ++ax) {
          if (ax == a) continue;
          title += fmt::format("{}{}={}", title.empty() ? "" : " ", spec.axes[ax].column,
                               value_text(spec.axes[ax].values[others[o++]]));
        }
        dat += fmt::format("# {}\n", title.empty() ? m.name : title);
        for (const SummaryRow* row : lines[others]) {
          const size_t v = row->value_index[a];
          if (std::isnan(row->mean[k])) continue;
          const double l = std::isnan(row->lo[k]) ? row->mean[k] : row->lo[k];
          const double h = std::isnan(row->hi[k]) ? row->mean[k] : row->hi[k];
          dat += fmt::format("{}\t{}\t{}\t{}\t\"{}\"\n", format_value(xs[v]), format_value(row->mean[k]),
                             format_value(l), format_value(h), value_text(axis.values[v]));
        }
        dat += "\n\n";
        plot += fmt::format("{}'{}.dat' index {} using 1:2:3:4{} with yerrorlines title {}", plot.empty() ? "" : ", ",
                            base, block++, numeric ? "" : ":xticlabels(5)", gp_escape(title.empty() ? m.name : title));
      }
      const std::string gp = fmt::format(
          "# {} against {} (ctsim sweep collect). Render: gnuplot -e \"fmt='png'; outfile='x.png'\" {}.gp\n"
          "if (!exists('fmt')) fmt = 'png'\n"
          "if (!exists('outfile')) outfile = '{}.'.fmt\n"
          "if (fmt eq 'svg') {{ set terminal svg size 900,540 dynamic font 'sans,11' }} "
          "else {{ set terminal pngcairo size 900,540 font 'sans,10' }}\n"
          "set output outfile\n"
          "set grid\nset termoption noenhanced\nset key outside right top\nset offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n"
          "set datafile separator '\\t'\n"
          "set title {}\nset xlabel {}\nset ylabel {}\n{}"
          "plot {}\n",
          m.name, axis.column, base, base, gp_escape(fmt::format("{}: {} against {}", spec.name, m.name, axis.column)),
          gp_escape(axis.column), gp_escape(fmt::format("{} (mean{})", m.name, has_seed ? ", 95% interval" : "")),
          logx ? "set logscale x 2\n" : "", plot);
      if (Status st = write_text(layout.charts_dir() + "/" + base + ".dat", dat); !st.ok()) return st;
      if (Status st = write_text(layout.charts_dir() + "/" + base + ".gp", gp); !st.ok()) return st;
      for (const char* fmt_name : {"png", "svg"}) {
        const std::string log = fmt::format("{}/{}.{}.log", layout.charts_dir(), base, fmt_name);
        ChildOutcome outcome;
        const std::vector<std::string> argv = {
            gnuplot, "-e", fmt::format("cd {}; fmt='{}'; outfile='{}.{}'", gp_escape(charts), fmt_name, base, fmt_name),
            charts + "/" + base + ".gp"};
        Status st = run_child(argv, "", log, &outcome);
        if (!st.ok()) {
          std::remove(log.c_str());
          return Status::IOError(
              fmt::format("the charts need {}, which cannot be run ({}); Debian: apt-get install "
                          "gnuplot-nox",
                          gnuplot, st.message()));
        }
        if (outcome.exit_code != 0)
          return Status::IOError(
              fmt::format("{} failed on {}/{}.gp (its messages are in {})", gnuplot, layout.charts_dir(), base, log));
        std::remove(log.c_str());
      }
    }
  }
  return Status::OK();
}

}  // namespace ctsim::sweep
