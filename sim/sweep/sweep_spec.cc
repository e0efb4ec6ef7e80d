// Loading a sweep file: syntax through the scenario loader's JSON reader,
// then one walk that records every problem with its JSON pointer and
// reports them once, in document order (as sim/scenario does).
// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/sweep_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "core/nf_conntrack_common.h"
#include "sim/scenario/json_document.h"
#include "sim/scenario/json_positions.h"
#include "sim/scenario/scenario_checker.h"

namespace ctsim::sweep {

using nlohmann::json;

namespace {

constexpr size_t kMaxSteps = 10000;
constexpr size_t kMaxPoints = 1000000;

const char* const kReduceNames[] = {"final", "max", "mean", "rate"};

// The members of `obj` (at `ptr`) in the order the file wrote them:
// nlohmann::json keeps keys sorted, the positions remember the text.
std::vector<std::string> keys_in_file_order(const json& obj, const std::string& ptr,
                                            const std::map<std::string, size_t>& positions) {
  std::vector<std::pair<size_t, std::string>> keyed;
  for (const auto& [k, v] : obj.items()) {
    auto it = positions.find(ptr + "/" + pointer_token(k));
    keyed.emplace_back(it == positions.end() ? 0 : it->second, k);
  }
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  for (auto& [pos, k] : keyed) out.push_back(std::move(k));
  return out;
}

// A number as the shortest text that reads back to it; integers without
// a fraction. Deterministic: fmt's shortest round-trip form.
std::string format_number(double v) {
  if (std::nearbyint(v) == v && std::fabs(v) < 9e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

// "10000/s" -> 10000 and "/s"; "1.5s" -> 1.5 and "s"; "250" -> 250 and "".
bool split_quantity(const std::string& text, double* number, std::string* unit) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  const size_t digits_from = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == digits_from) return false;
  try {
    size_t used = 0;
    *number = std::stod(text.substr(0, i), &used);
    if (used != i) return false;
  } catch (const std::exception&) {
    return false;
  }
  *unit = text.substr(i);
  return true;
}

class SweepLoader {
 public:
  SweepLoader(Checker& c, const std::map<std::string, size_t>& positions, SweepSpec* out)
      : c_(c), positions_(positions), s_(*out) {}

  void load(const json& doc, const std::string& file) {
    static const std::vector<std::string> kKeys = {"ctsim_sweep", "name",    "description", "scenario",
                                                   "axes",        "metrics", "series_every"};
    c_.only_keys(doc, "", kKeys);
    for (const char* k : {"ctsim_sweep", "scenario", "axes", "metrics"})
      if (!doc.contains(k)) c_.error("", fmt::format("missing \"{}\" (see docs/SWEEPS.md)", k));
    if (doc.contains("ctsim_sweep")) (void)c_.uint(doc["ctsim_sweep"], "/ctsim_sweep", 1, 1);
    if (doc.contains("name")) {
      if (auto v = c_.name(doc["name"], "/name")) s_.name = *v;
    } else {
      std::string base = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
      if (base.size() > 5 && base.ends_with(".json")) base.resize(base.size() - 5);
      s_.name = base;
    }
    if (doc.contains("description"))
      if (auto v = c_.string(doc["description"], "/description")) s_.description = *v;
    if (doc.contains("series_every")) {
      // Checked by `ctsim run --series-every` rules: a positive duration.
      if (auto v = c_.duration(doc["series_every"], "/series_every", 1000)) {
        if (*v <= 0)
          c_.error("/series_every", "expected a duration above 0");
        else
          s_.series_every = doc["series_every"].get<std::string>();
      }
    }
    if (doc.contains("scenario")) load_base(doc["scenario"], file);
    if (doc.contains("axes") && c_.is_object(doc["axes"], "/axes")) load_axes(doc["axes"]);
    if (doc.contains("metrics") && c_.is_object(doc["metrics"], "/metrics")) load_metrics(doc["metrics"]);
  }

 private:
  void load_base(const json& j, const std::string& file) {
    if (j.is_object()) {
      s_.base = j;
      return;
    }
    if (!j.is_string()) {
      c_.error("/scenario",
               fmt::format("expected a scenario object or the path of a scenario file, found {}", type_name(j)));
      return;
    }
    std::string path = j.get<std::string>();
    if (!path.starts_with('/')) {
      const size_t slash = file.find_last_of('/');
      if (slash != std::string::npos) path = file.substr(0, slash + 1) + path;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      c_.error("/scenario", fmt::format("cannot open the scenario file {}", path));
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    json base;
    if (Status st = parse_json(path, ss.str(), &base); !st.ok()) {
      c_.error("/scenario", st.message());
      return;
    }
    if (!base.is_object()) {
      c_.error("/scenario", fmt::format("{} holds {}, not a scenario object", path, type_name(base)));
      return;
    }
    s_.base = std::move(base);
  }

  void load_axes(const json& axes) {
    if (axes.empty()) c_.error("/axes", "expected at least one axis");
    std::optional<Axis> seed;
    size_t points = 1;
    for (const std::string& key : keys_in_file_order(axes, "/axes", positions_)) {
      const std::string ptr = "/axes/" + pointer_token(key);
      Axis a;
      a.is_seed = key == "seed";
      if (a.is_seed) {
        a.pointer = "/seed";
      } else if (!key.starts_with('/')) {
        c_.error(ptr,
                 fmt::format("an axis is \"seed\" or a JSON pointer into the scenario such as \"/table/max\", "
                             "not \"{}\"{}",
                             key, did_you_mean(key, {"seed"})),
                 true);
        continue;
      } else {
        a.pointer = key;
        if (!check_pointer(key, ptr)) continue;
      }
      a.column = a.pointer.substr(1);
      std::replace(a.column.begin(), a.column.end(), '/', '.');
      const json& v = axes[key];
      if (v.is_array()) {
        if (v.empty()) c_.error(ptr, "expected at least one value");
        for (const json& x : v) a.values.push_back(x);
      } else if (v.is_object() && a.is_seed && !v.contains("to")) {
        load_seeds(v, ptr, &a);
      } else if (v.is_object()) {
        load_range(v, ptr, &a);
      } else {
        c_.error(ptr, fmt::format("expected a list of values or a range {{\"from\", \"to\", \"steps\"}}{}, found {}",
                                  a.is_seed ? " or {\"count\"}" : "", type_name(v)));
        continue;
      }
      if (a.is_seed)
        for (size_t i = 0; i < a.values.size(); ++i)
          if (!a.values[i].is_number_unsigned())
            c_.error(ptr, fmt::format("value {}: a seed is an integer 0..2^64-1, not {}", i, a.values[i].dump()));
      for (size_t i = 0; i < a.values.size(); ++i)
        for (size_t k = 0; k < i; ++k)
          if (a.values[i] == a.values[k])
            c_.error(ptr, fmt::format("value {} ({}) repeats value {}", i, a.values[i].dump(), k));
      if (!a.values.empty()) points = std::min(kMaxPoints + 1, points * a.values.size());
      if (a.is_seed)
        seed = std::move(a);
      else
        s_.axes.push_back(std::move(a));
    }
    if (seed) s_.axes.push_back(std::move(*seed));
    if (points > kMaxPoints) c_.error("/axes", fmt::format("more than {} runs; split the sweep", kMaxPoints));
  }

  // The pointer must be valid and its parent must exist in the base (an
  // axis may add a key to an object, not invent a whole section).
  bool check_pointer(const std::string& key, const std::string& ptr) {
    json::json_pointer p;
    try {
      p = json::json_pointer(key);
    } catch (const json::exception& e) {
      c_.error(ptr, fmt::format("not a valid JSON pointer: {}", e.what()), true);
      return false;
    }
    if (!s_.base.is_object()) return true;  // the base's own error is reported
    const json::json_pointer parent = p.parent_pointer();
    if (!s_.base.contains(parent)) {
      c_.error(ptr, fmt::format("the scenario has nothing at {}", parent.to_string()), true);
      return false;
    }
    const json& up = s_.base[parent];
    const std::string& last = p.back();
    if (up.is_array()) {
      size_t idx = 0;
      bool number =
          !last.empty() && std::all_of(last.begin(), last.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      if (number) idx = std::stoul(last);
      if (!number || idx >= up.size()) {
        c_.error(ptr, fmt::format("{} is a list of {} entries: no entry \"{}\"", parent.to_string(), up.size(), last),
                 true);
        return false;
      }
    } else if (!up.is_object()) {
      c_.error(ptr, fmt::format("{} is {}, not an object or a list", parent.to_string(), type_name(up)), true);
      return false;
    }
    return true;
  }

  void load_seeds(const json& v, const std::string& ptr, Axis* a) {
    c_.only_keys(v, ptr, {"count", "from"});
    uint64_t from = 1, count = 0;
    if (v.contains("from"))
      if (auto f = c_.uint(v["from"], ptr + "/from", 0, UINT64_MAX - kMaxSteps)) from = *f;
    if (!v.contains("count"))
      c_.error(ptr, "missing \"count\" (how many seeds)");
    else if (auto n = c_.uint(v["count"], ptr + "/count", 1, kMaxSteps))
      count = *n;
    for (uint64_t i = 0; i < count; ++i) a->values.push_back(from + i);
  }

  void load_range(const json& v, const std::string& ptr, Axis* a) {
    c_.only_keys(v, ptr, {"from", "to", "steps", "scale"});
    for (const char* k : {"from", "to", "steps"})
      if (!v.contains(k)) c_.error(ptr, fmt::format("missing \"{}\" (a range is from, to, steps, and scale)", k));
    if (!v.contains("from") || !v.contains("to") || !v.contains("steps")) return;
    auto steps = c_.uint(v["steps"], ptr + "/steps", 1, kMaxSteps);
    bool log = false;
    if (v.contains("scale"))
      if (auto sc = c_.one_of(v["scale"], ptr + "/scale", {"linear", "log"})) log = *sc == "log";
    double lo = 0, hi = 0;
    std::string unit, unit_to;
    const json &from = v["from"], &to = v["to"];
    const bool text = from.is_string() && to.is_string();
    if (text) {
      if (!split_quantity(from.get<std::string>(), &lo, &unit))
        return c_.error(ptr + "/from", fmt::format("expected a number with an optional unit (\"10000/s\", \"1.5s\"), "
                                                   "found {}",
                                                   from.dump()));
      if (!split_quantity(to.get<std::string>(), &hi, &unit_to))
        return c_.error(ptr + "/to", fmt::format("expected a number with an optional unit (\"10000/s\", \"1.5s\"), "
                                                 "found {}",
                                                 to.dump()));
      if (unit != unit_to)
        return c_.error(ptr + "/to",
                        fmt::format("the unit \"{}\" differs from the unit of \"from\", \"{}\"", unit_to, unit));
    } else if (from.is_number() && to.is_number()) {
      lo = from.get<double>();
      hi = to.get<double>();
    } else {
      return c_.error(ptr, fmt::format("\"from\" and \"to\" must both be numbers or both strings with the same unit, "
                                       "found {} and {}",
                                       type_name(from), type_name(to)));
    }
    if (log && (lo <= 0 || hi <= 0)) return c_.error(ptr + "/scale", "a log scale needs \"from\" and \"to\" above 0");
    if (!steps) return;
    if (*steps == 1 && lo != hi)
      return c_.error(ptr + "/steps", "one step cannot go from \"from\" to a different \"to\": give 2 or more");
    // Integer ends give integer values (rounded), so that table sizes stay whole.
    const bool integral = text ? (std::nearbyint(lo) == lo && std::nearbyint(hi) == hi)
                               : (from.is_number_integer() && to.is_number_integer());
    for (uint64_t i = 0; i < *steps; ++i) {
      const double f = *steps == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(*steps - 1);
      double x = log ? lo * std::pow(hi / lo, f) : lo + (hi - lo) * f;
      if (i == *steps - 1) x = hi;  // exactly the end, whatever the rounding
      if (integral) x = std::nearbyint(x);
      if (text)
        a->values.push_back(format_number(x) + unit);
      else if (integral && x >= 0)
        a->values.push_back(static_cast<uint64_t>(x));
      else if (integral)
        a->values.push_back(static_cast<int64_t>(x));
      else
        a->values.push_back(x);
    }
  }

  void load_metrics(const json& metrics) {
    if (metrics.empty()) c_.error("/metrics", "expected at least one metric");
    std::set<std::string> taken = {"index", "exit"};
    for (const Axis& a : s_.axes) taken.insert(a.column);
    std::map<std::string, size_t> defined;
    const std::vector<std::string> stats = end_stat_names();
    for (const std::string& key : keys_in_file_order(metrics, "/metrics", positions_)) {
      const std::string ptr = "/metrics/" + pointer_token(key);
      Metric m;
      m.name = key;
      const bool ident = !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
      });
      if (!ident) {
        c_.error(ptr, "a metric's name is 1 to 64 of A-Z a-z 0-9 _ (it names a CSV column and a chart)", true);
        continue;
      }
      if (taken.count(key)) {
        c_.error(ptr, fmt::format("\"{}\" is already a column (an axis, \"index\" or \"exit\")", key), true);
        continue;
      }
      const json& v = metrics[key];
      if (!c_.is_object(v, ptr)) continue;
      c_.only_keys(v, ptr, {"stat", "series", "reduce", "ratio", "per"});
      const int kinds = static_cast<int>(v.contains("stat")) + static_cast<int>(v.contains("series")) +
                        static_cast<int>(v.contains("ratio"));
      if (kinds != 1) {
        c_.error(ptr,
                 "expected exactly one of \"stat\" (an end statistic), \"series\" (a series column) or "
                 "\"ratio\" (two metrics)");
        continue;
      }
      if (v.contains("stat")) {
        m.kind = Metric::Kind::kStat;
        if (auto f = c_.one_of(v["stat"], ptr + "/stat", stats)) m.field = *f;
        if (v.contains("reduce"))
          if (auto r = c_.one_of(v["reduce"], ptr + "/reduce", {"final", "rate"}))
            m.reduce = *r == "rate" ? Reduce::kRate : Reduce::kFinal;
        if (v.contains("per")) c_.error(ptr + "/per", "\"per\" goes with \"ratio\"", true);
      } else if (v.contains("series")) {
        m.kind = Metric::Kind::kSeries;
        if (auto f = c_.string(v["series"], ptr + "/series")) {
          if (*f == "t_ns" || *f == "jiffies")
            c_.error(ptr + "/series", fmt::format("\"{}\" is the clock, not a measure", *f));
          m.field = *f;  // checked against each derived scenario's columns when planning
        }
        if (v.contains("reduce"))
          if (auto r = c_.one_of(v["reduce"], ptr + "/reduce", {std::begin(kReduceNames), std::end(kReduceNames)}))
            m.reduce = static_cast<Reduce>(std::find(std::begin(kReduceNames), std::end(kReduceNames), *r) -
                                           std::begin(kReduceNames));
        if (v.contains("per")) c_.error(ptr + "/per", "\"per\" goes with \"ratio\"", true);
      } else {
        m.kind = Metric::Kind::kRatio;
        if (v.contains("reduce")) c_.error(ptr + "/reduce", "a ratio is of two metrics already reduced", true);
        const json& r = v["ratio"];
        if (!r.is_array() || r.size() != 2 || !r[0].is_string() || !r[1].is_string()) {
          c_.error(ptr + "/ratio",
                   fmt::format("expected two metric names [\"numerator\", \"denominator\"], found {}", r.dump()));
        } else {
          std::vector<std::string> earlier;
          for (const auto& [n, i] : defined) earlier.push_back(n);
          for (int side = 0; side < 2; ++side) {
            const std::string n = r[side].get<std::string>();
            auto it = defined.find(n);
            if (it == defined.end())
              c_.error(ptr + "/ratio/" + std::to_string(side),
                       fmt::format("\"{}\" is not a metric defined above this one{}", n, did_you_mean(n, earlier)));
            else
              (side == 0 ? m.numerator : m.denominator) = it->second;
          }
        }
        if (v.contains("per")) {
          const json& p = v["per"];
          if (!p.is_number() || !(p.get<double>() > 0))
            c_.error(ptr + "/per", fmt::format("expected a number above 0, found {}", p.dump()));
          else
            m.per = p.get<double>();
        }
      }
      defined[key] = s_.metrics.size();
      taken.insert(key);
      s_.metrics.push_back(std::move(m));
    }
  }

  Checker& c_;
  const std::map<std::string, size_t>& positions_;
  SweepSpec& s_;
};

}  // namespace

std::vector<std::string> end_stat_names() {
  std::vector<std::string> out = {"packets", "conns_created", "conns_freed", "events"};
  for (const ctcore::IpConntrackStatField& f : ctcore::kIpConntrackStatFields) out.emplace_back(f.name);
  return out;
}

const std::vector<std::string>& fixed_series_columns() {
  // The order of sim/output/series_writer.h; sweep_spec_test pins it to a
  // real run's header.
  static const std::vector<std::string> kColumns = {
      "table",         "tcp_none",         "tcp_syn_sent",   "tcp_syn_recv",    "tcp_established",
      "tcp_fin_wait",  "tcp_close_wait",   "tcp_last_ack",   "tcp_time_wait",   "tcp_close",
      "tcp_syn_sent2", "unconfirmed",      "dying",          "gc_runs",         "gc_scanned",
      "gc_expired",    "gc_early_dropped", "events_offered", "events_delivered"};
  return kColumns;
}

bool series_column_is_interval(const std::string& column) { return column.starts_with("gc_"); }

bool SweepSpec::needs_series() const {
  return std::any_of(metrics.begin(), metrics.end(), [](const Metric& m) { return m.kind == Metric::Kind::kSeries; });
}

size_t SweepSpec::point_count() const {
  size_t n = 1;
  for (const Axis& a : axes) n *= a.values.size();
  return n;
}

std::string SweepSpec::canonical() const {
  // A sweep file itself (ordered_json keeps this order; the loader reads
  // axes and metrics in file order), so that `collect` loads it back.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["ctsim_sweep"] = 1;
  j["name"] = name;
  j["description"] = description;
  j["scenario"] = base;
  nlohmann::ordered_json ax = nlohmann::ordered_json::object();
  for (const Axis& a : axes) ax[a.is_seed ? "seed" : a.pointer] = a.values;
  j["axes"] = ax;
  nlohmann::ordered_json ms = nlohmann::ordered_json::object();
  for (const Metric& m : metrics) {
    nlohmann::ordered_json x = nlohmann::ordered_json::object();
    switch (m.kind) {
      case Metric::Kind::kStat: x["stat"] = m.field; break;
      case Metric::Kind::kSeries: x["series"] = m.field; break;
      case Metric::Kind::kRatio:
        x["ratio"] = {metrics[m.numerator].name, metrics[m.denominator].name};
        x["per"] = m.per;
        break;
    }
    if (m.kind != Metric::Kind::kRatio) x["reduce"] = kReduceNames[static_cast<int>(m.reduce)];
    ms[m.name] = x;
  }
  j["metrics"] = ms;
  j["series_every"] = series_every;
  return j.dump(1) + "\n";
}

Status parse_sweep(const std::string& file, const std::string& text, SweepSpec* out) {
  *out = SweepSpec{};
  out->file = file;
  json doc;
  if (Status st = parse_json(file, text, &doc); !st.ok()) return st;
  Checker c;
  std::vector<std::string> duplicates;
  const auto positions = index_json_positions(text, &duplicates);
  for (const std::string& d : duplicates)
    c.error(d, "this key appears twice in the same object (JSON would keep only the last)", true);
  if (c.is_object(doc, "")) SweepLoader(c, positions, out).load(doc, file);
  if (c.ok()) return Status::OK();
  return Status::InvalidArgument(render_errors(file, text, c, positions));
}

Status load_sweep(const std::string& path, SweepSpec* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open the sweep file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("{}: read error", path));
  return parse_sweep(path, ss.str(), out);
}

}  // namespace ctsim::sweep
