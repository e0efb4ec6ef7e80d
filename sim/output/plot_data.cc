#include "sim/output/plot_data.h"

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace ctsim {

using nlohmann::json;

namespace {

struct Stretch {
  double from, to;
  std::string phase;
};

struct ConnLife {
  std::vector<Stretch> stretches;
  double last_t = 0;
  std::string phase;
  bool open = false;
};

double secs(const json& rec) { return static_cast<double>(rec["t"].get<int64_t>()) / 1e9; }

// Phases in a fixed order so colours are stable across charts.
const char* const kPhases[] = {"unconfirmed", "confirmed", "NONE",       "SYN_SENT", "SYN_RECV",
                               "ESTABLISHED", "FIN_WAIT",  "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                               "CLOSE",       "SYN_SENT2", "dying"};
int phase_index(const std::string& p) {
  for (int i = 0; i < static_cast<int>(std::size(kPhases)); ++i)
    if (p == kPhases[i]) return i;
  return 1;  // other protocols' states draw as "confirmed"
}

void enter(ConnLife& c, double t, const std::string& phase) {
  if (c.open && c.phase == phase) return;
  if (c.open) c.stretches.push_back({c.last_t, t, c.phase});
  c.phase = phase;
  c.last_t = t;
  c.open = true;
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return Status::IOError(fmt::format("{}: cannot write", path));
  return Status::OK();
}

}  // namespace

Status write_plot_data(const std::string& trace_path, const std::string& out_dir) {
  std::ifstream in(trace_path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open the trace", trace_path));
  std::map<int64_t, ConnLife> lives;
  std::string gc = "# t_s scanned expired buckets next_run\n";
  std::string events = "# t_s delivered listener\n";
  std::vector<int64_t> table_hist, walk_hist;
  std::string line;
  size_t lineno = 0;
  double end_t = 0;
  while (std::getline(in, line)) {
    ++lineno;
    json rec;
    try {
      rec = json::parse(line);
    } catch (const json::exception&) {
      return Status::InvalidArgument(fmt::format("{}:{}: not a JSON trace line", trace_path, lineno));
    }
    if (lineno == 1) {
      if (!rec.contains("ctsim_trace"))
        return Status::InvalidArgument(fmt::format("{}:1: not a ctsim trace (no ctsim_trace header)", trace_path));
      continue;
    }
    const std::string kind = rec.value("kind", "");
    const double t = secs(rec);
    end_t = t;
    const int64_t conn = rec.value("conn", int64_t{0});
    if (kind == "new") {
      if (lives.size() < kMaxLanes || lives.count(conn)) enter(lives[conn], t, "unconfirmed");
    } else if (kind == "confirm" || kind == "update") {
      auto it = lives.find(conn);
      if (it != lives.end() && it->second.phase != "dying") {
        std::string st =
            rec.contains("state") && rec["state"].is_string() ? rec["state"].get<std::string>() : "confirmed";
        if (kind == "update" && it->second.phase == "unconfirmed") {
          it->second.phase = "unconfirmed";  // still unconfirmed: the state shows after confirm
        } else {
          enter(it->second, t, st);
        }
      }
    } else if (kind == "dying") {
      auto it = lives.find(conn);
      if (it != lives.end()) enter(it->second, t, "dying");
    } else if (kind == "free") {
      auto it = lives.find(conn);
      if (it != lives.end() && it->second.open) {
        it->second.stretches.push_back({it->second.last_t, t, it->second.phase});
        it->second.open = false;
      }
    } else if (kind == "gc") {
      gc += fmt::format("{:.6f} {} {} {} {}\n", t, rec["scanned"].get<int64_t>(), rec["expired"].get<int64_t>(),
                        rec["buckets"].get<int64_t>(), rec["next_run"].get<int64_t>());
    } else if (kind == "event") {
      events +=
          fmt::format("{:.6f} {} {}\n", t, rec["delivered"].get<bool>() ? 1 : 0, rec["listener"].get<std::string>());
    } else if (kind == "chains") {
      table_hist = rec["histogram"].get<std::vector<int64_t>>();
    } else if (kind == "lookup") {
      const size_t n = rec["chain"].get<size_t>();
      if (walk_hist.size() <= n) walk_hist.resize(n + 1, 0);
      ++walk_hist[n];
    }
  }
  if (lineno == 0) return Status::InvalidArgument(fmt::format("{}: empty trace", trace_path));

  std::string life = "# lane conn t_from_s t_to_s phase phase_name\n";
  int lane = 0;
  for (auto& [conn, c] : lives) {
    if (c.open) c.stretches.push_back({c.last_t, end_t, c.phase});
    for (const Stretch& s : c.stretches)
      life += fmt::format("{} {} {:.6f} {:.6f} {} {}\n", lane, conn, s.from, s.to, phase_index(s.phase), s.phase);
    ++lane;
  }
  const bool from_table = !table_hist.empty();
  const std::vector<int64_t>& hist = from_table ? table_hist : walk_hist;
  std::string chains =
      fmt::format("# {}: length count\n", from_table ? "table chains at the last snapshot" : "lookup walks");
  for (size_t i = 0; i < hist.size(); ++i) chains += fmt::format("{} {}\n", i, hist[i]);

  for (auto [name, text] : {std::pair<const char*, const std::string*>{"lifecycle.dat", &life},
                            {"gc.dat", &gc},
                            {"chains.dat", &chains},
                            {"events.dat", &events}}) {
    if (Status s = write_file(out_dir + "/" + name, *text); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace ctsim
