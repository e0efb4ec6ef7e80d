// The sweep library (sim/sweep/): loading sweep files and their errors,
// ranges and seeds, the points and their derived scenarios, metrics from a
// run's --stats and --series files, and the collected tables.
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sweep/sweep_collect.h"
#include "sim/sweep/sweep_layout.h"
#include "sim/sweep/sweep_metrics.h"
#include "sim/sweep/sweep_plan.h"
#include "sim/sweep/sweep_points.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/run_util.h"

using namespace ctsim::sweep;
using ctest::read_file;
using ctest::temp_dir;
using ctest::write_file;

namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

const char* const kBase = R"({ "ctsim": 1, "table": { "buckets": 64, "max": 256 },
    "flows": [ { "at": "0s", "kind": "udp", "count": 10, "rate": "100/s", "src": "10.0.0.0/24", "dst": "10.1.0.1:53" } ] })";

std::string sweep_text(const std::string& axes, const std::string& metrics = R"("d": { "stat": "drop" })") {
  return std::string(R"({ "ctsim_sweep": 1, "name": "t", "scenario": )") + kBase + R"(,
  "axes": { )" +
         axes + R"( },
  "metrics": { )" +
         metrics + " } }\n";
}

ctsim::Status parse(const std::string& text, SweepSpec* s) { return parse_sweep("s.json", text, s); }

}  // namespace

TEST_CASE("axes keep the file's order, the seed axis last; ranges, log ranges and seeds expand") {
  SweepSpec s;
  REQUIRE(parse(sweep_text(R"("seed": { "count": 3, "from": 5 },
      "/flows/0/rate": { "from": "10000/s", "to": "80000/s", "steps": 8 },
      "/table/max": { "from": 16384, "to": 262144, "steps": 5, "scale": "log" })"),
                &s)
              .ok());
  REQUIRE(s.axes.size() == 3);
  CHECK(s.axes[0].column == "flows.0.rate");
  CHECK(s.axes[1].column == "table.max");
  CHECK(s.axes[2].is_seed);
  CHECK(nlohmann::json(s.axes[0].values) ==
        nlohmann::json::parse(R"(["10000/s","20000/s","30000/s","40000/s","50000/s","60000/s","70000/s","80000/s"])"));
  CHECK(nlohmann::json(s.axes[1].values) == nlohmann::json::parse("[16384,32768,65536,131072,262144]"));
  CHECK(nlohmann::json(s.axes[2].values) == nlohmann::json::parse("[5,6,7]"));
  CHECK(s.point_count() == 8 * 5 * 3);
  // The last axis varies fastest; point 4 is the second max value with the second seed.
  CHECK(point_value_indices(s, 4) == std::vector<size_t>{0, 1, 1});
  CHECK(point_label(s, 4) == "flows.0.rate=10000/s table.max=32768 seed=6");
  const nlohmann::json d = derive_scenario(s, 4);
  CHECK(d["table"]["max"] == 32768);
  CHECK(d["flows"][0]["rate"] == "10000/s");
  CHECK(d["seed"] == 6);
  CHECK(d["table"]["buckets"] == 64);  // the rest of the base is untouched
}

TEST_CASE("the resolved sweep (sweep.json) is itself a sweep file that loads back to the same text") {
  SweepSpec s;
  REQUIRE(parse(sweep_text(R"("/table/max": [128, 256], "seed": { "count": 2 })",
                           R"("new": { "stat": "conns_created" }, "d": { "stat": "drop", "reduce": "rate" },
                              "peak": { "series": "table", "reduce": "max" }, "r": { "ratio": ["d", "new"], "per": 1000 })"),
                &s)
              .ok());
  SweepSpec again;
  REQUIRE(parse_sweep("sweep.json", s.canonical(), &again).ok());
  CHECK(again.canonical() == s.canonical());
  CHECK(again.metrics[3].numerator == 1);
  CHECK(again.metrics[3].per == 1000);
  CHECK(again.needs_series());
}

TEST_CASE("a bad sweep file: every problem with FILE:LINE:COL, its pointer and what was expected") {
  SweepSpec s;
  ctsim::Status st = parse(sweep_text(R"("/tabel/max": [1, 2])"), &s);
  CHECK(has(st.message(), "s.json:3:13: /axes/~1tabel~1max: the scenario has nothing at /tabel"));
  st = parse(sweep_text(R"("/flows/3": [{}])"), &s);
  CHECK(has(st.message(), "/flows is a list of 1 entries: no entry \"3\""));
  st = parse(sweep_text(R"("/flows/0/rate": { "from": "1/s", "to": "5s", "steps": 3 })"), &s);
  CHECK(has(st.message(), "/axes/~1flows~10~1rate/to: the unit \"s\" differs from the unit of \"from\", \"/s\""));
  st = parse(sweep_text(R"("/table/max": [1, 2, 1])"), &s);
  CHECK(has(st.message(), "value 2 (1) repeats value 0"));
  st = parse(sweep_text(R"("seeds": { "count": 2 })"), &s);
  CHECK(has(st.message(), "(did you mean \"seed\"?)"));
  st = parse(sweep_text(R"("/table/max": [1])", R"("r": { "ratio": ["d", "n"] }, "d": { "stat": "dorp" })"), &s);
  CHECK(has(st.message(), "/metrics/r/ratio/0: \"d\" is not a metric defined above this one"));
  CHECK(has(st.message(), "(did you mean \"drop\"?)"));
  st = parse(sweep_text(R"("/table/max": [1])", R"("d": { "stat": "drop", "series": "table" })"), &s);
  CHECK(has(st.message(), "expected exactly one of \"stat\""));
  st = parse(sweep_text(R"("/table/max": [1])", R"("table.max": { "stat": "drop" })"), &s);
  CHECK(has(st.message(), "a metric's name is 1 to 64 of A-Z a-z 0-9 _"));
  st = parse(R"({ "ctsim_sweep": 1, "scenario": "no-such-file.json", "axes": { "seed": [1] }, "metrics": {} })", &s);
  CHECK(has(st.message(), "cannot open the scenario file no-such-file.json"));
  CHECK(has(st.message(), "/metrics: expected at least one metric"));
  st = parse("{ \"ctsim_sweep\": 1,\n  \"axes\": [ }", &s);
  CHECK(has(st.message(), "s.json:2:"));
  CHECK(has(st.message(), "invalid JSON"));
}

TEST_CASE("metrics from --stats and --series: final, max, mean, rate, ratios; undefined is an empty cell") {
  SweepSpec s;
  REQUIRE(parse(sweep_text(R"("/table/max": [1])", R"("new": { "stat": "conns_created" },
      "drops": { "stat": "drop" }, "drop_rate": { "stat": "drop", "reduce": "rate" },
      "peak": { "series": "table", "reduce": "max" }, "mean": { "series": "table", "reduce": "mean" },
      "last": { "series": "table" }, "gc_per_s": { "series": "gc_scanned", "reduce": "rate" },
      "lost_per_s": { "series": "events_offered", "reduce": "rate" },
      "per_1k": { "ratio": ["drops", "new"], "per": 1000 }, "zero": { "ratio": ["new", "drops"] })"),
                &s)
              .ok());
  const std::string dir = temp_dir();
  write_file(dir + "/stats.json",
             R"({"scenario":"t","end_ns":2000000000,"packets":9,"conns_created":400,"conns_freed":0,"events":0,)"
             R"("stats":{"drop":0,"early_drop":3}})"
             "\n");
  write_file(dir + "/series.csv", "t_ns,table,gc_scanned,events_offered\n1,10,5,7\n2,30,6,8\n3,20,9,9\n");
  std::vector<double> v;
  REQUIRE(compute_metrics(s, dir + "/stats.json", dir + "/series.csv", &v).ok());
  CHECK(v[0] == 400);
  CHECK(v[1] == 0);
  CHECK(v[2] == 0);
  CHECK(v[3] == 30);
  CHECK(v[4] == 20);
  CHECK(v[5] == 20);
  CHECK(v[6] == 10);   // gc_* count per row: (5 + 6 + 9) / 2 s
  CHECK(v[7] == 4.5);  // a total since the start: 9 / 2 s
  CHECK(v[8] == 0);
  CHECK(std::isnan(v[9]));
  CHECK(format_value(v[9]) == "");
  CHECK(format_value(2.0 / 3.0) == "0.6667");
  CHECK(format_value(-0.00001) == "0");
  CHECK(format_value(1e6) == "1000000");
  write_file(dir + "/series.csv", "t_ns,tabel\n1,2\n");
  ctsim::Status st = compute_metrics(s, dir + "/stats.json", dir + "/series.csv", &v);
  CHECK(has(st.message(), "no column \"table\" (metric \"peak\")"));
}

TEST_CASE("the fixed series columns are the ones a run writes") {
  const std::string dir = temp_dir();
  ctest::RunResult r = ctest::run_ctsim("run " + ctest::source_path("scenarios/incidents/table-full.json") +
                                        " --quiet --series " + dir + "/s.csv");
  REQUIRE(r.code == 0);
  const std::string csv = read_file(dir + "/s.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  // table-full.json: one namespace, no listener.
  std::string expected = "t_ns,jiffies";
  for (const std::string& c : fixed_series_columns()) expected += "," + c + (c == "table" ? ",count_init" : "");
  CHECK(header == expected);
}

TEST_CASE("collect: rows per run, failed points with their exit code, mean and 95% interval over seeds") {
  SweepSpec s;
  REQUIRE(parse(sweep_text(R"("/table/max": [128, 256], "seed": { "count": 3 })",
                           R"("d": { "stat": "drop" }, "r": { "ratio": ["d", "d"] })"),
                &s)
              .ok());
  const std::string dir = temp_dir() + "/sw";
  const SweepLayout layout(dir, s.point_count());
  for (size_t i = 0; i < s.point_count(); ++i) std::filesystem::create_directories(layout.point_dir(i));
  const double drops[] = {10, 20, 30, 0, 0, 0};
  for (size_t i = 0; i < 6; ++i)
    if (i != 4)
      write_file(layout.result(i),
                 nlohmann::json{{"index", i}, {"exit", 0}, {"metrics", {{"d", drops[i]}, {"r", 1}}}}.dump());
  Collected c;
  ctsim::Status st = collect_results(s, layout, false, &c);
  CHECK(st.code() == ctsim::Status::Code::kNotFound);
  CHECK(has(st.message(), "1 of 6 points have no result yet"));
  CHECK(has(st.message(), "point 4 (table.max=256 seed=2)"));
  CHECK_FALSE(ctest::file_exists(layout.results_csv()));

  write_file(layout.result(4), R"({"index":4,"exit":2,"stderr":"point 4 scenario:1:1: bad\n"})");
  REQUIRE(collect_results(s, layout, false, &c).ok());
  CHECK(c.failed == std::vector<size_t>{4});
  CHECK(read_file(layout.results_csv()) ==
        "index,table.max,seed,exit,d,r\n0,128,1,0,10,1\n1,128,2,0,20,1\n2,128,3,0,30,1\n3,256,1,0,0,1\n"
        "4,256,2,2,,\n5,256,3,0,0,1\n");
  // 10, 20, 30: mean 20, s = 10, t(2) = 4.303, half width 4.303 * 10 / sqrt(3) = 24.8434.
  CHECK(read_file(layout.summary_csv()) ==
        "table.max,runs,failed,d_mean,d_lo95,d_hi95,r_mean,r_lo95,r_hi95\n"
        "128,3,0,20,-4.8434,44.8434,1,1,1\n256,3,1,0,0,0,1,1,1\n");
  CHECK(read_file(layout.failures()) == "point 4 (table.max=256 seed=2): exit 2\n  point 4 scenario:1:1: bad\n");
  CHECK(student_t95(1) == 12.706);
  CHECK(student_t95(1000) == 1.980);
}
