// `ctsim sweep` end to end: plan's run list, GNU parallel with --jobs 1
// and 2 giving the same bytes, a killed sweep resuming to the same bytes
// without redoing finished points, failed and missing points, charts, and
// `ctsim run --stats`. (The Slurm engine: tests/sweep_slurm.sh.)
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/run_util.h"

using namespace ctest;

namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// 8 short runs (about 0.1 s each): a SYN flood into tables of 4 sizes, 2 seeds.
const char* const kSweep = R"({
  "ctsim_sweep": 1,
  "name": "tiny",
  "scenario": {
    "ctsim": 1, "hz": 250, "cpus": 2,
    "table": { "buckets": 1024, "max": 2048, "hash_rnd": 1 },
    "flows": [
      { "at": "0s", "kind": "tcp", "count": 3000, "rate": "3000/s", "cpu": "spread",
        "src": "198.51.100.0/24", "dst": "203.0.113.10:443", "data_packets": 1, "close": "none" },
      { "at": "200ms", "kind": "tcp", "count": 20000, "rate": "20000/s", "cpu": "spread",
        "src": "100.64.0.0/10", "dst": "203.0.113.10:443", "loss": 1 }
    ],
    "until": "2s"
  },
  "axes": { "/table/max": [2048, 4096, 8192, 32768], "seed": { "count": 2 } },
  "metrics": {
    "new": { "stat": "conns_created" },
    "drops": { "stat": "drop" },
    "early": { "stat": "early_drop", "reduce": "rate" },
    "drops_per_1k_new": { "ratio": ["drops", "new"], "per": 1000 },
    "peak": { "series": "table", "reduce": "max" }
  },
  "series_every": "250ms"
}
)";

std::string write_sweep(const std::string& dir) {
  const std::string path = dir + "/tiny.json";
  write_file(path, kSweep);
  return path;
}

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

size_t results_present(const std::string& out) {
  size_t n = 0;
  for (int i = 0; i < 8; ++i) n += file_exists(out + "/points/000" + std::to_string(i) + "/result.json") ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("plan: one complete `ctsim run` line per point, each scenario derived and written") {
  const std::string dir = temp_dir();
  const std::string sweep = write_sweep(dir);
  RunResult r = run_ctsim("sweep plan " + sweep + " --out " + dir + "/o");
  REQUIRE(r.code == 0);
  CHECK(has(r.err, "8 points planned"));
  const std::string plan = read_file(dir + "/o/plan.txt");
  CHECK(count_lines(plan) == 8);
  const std::string first = plan.substr(0, plan.find('\n'));
  CHECK(first == std::string(CTSIM_BINARY) + " run " + dir + "/o/points/0000/scenario.json --quiet --stats " + dir +
                     "/o/points/0000/stats.json --series " + dir + "/o/points/0000/series.csv --series-every 250ms");
  const nlohmann::json s5 = nlohmann::json::parse(read_file(dir + "/o/points/0005/scenario.json"));
  CHECK(s5["table"]["max"] == 8192);
  CHECK(s5["seed"] == 2);
  // The line runs as it is.
  REQUIRE(std::system(first.c_str()) == 0);
  CHECK(has(read_file(dir + "/o/points/0000/stats.json"), "\"early_drop\":"));
  // Planning again with the same sweep is allowed (a resume); another sweep into the same folder is not.
  CHECK(run_ctsim("sweep plan " + sweep + " --out " + dir + "/o").code == 0);
  std::string other = kSweep;
  other.replace(other.find("32768"), 5, "65536");
  write_file(dir + "/other.json", other);
  r = run_ctsim("sweep plan " + dir + "/other.json --out " + dir + "/o");
  CHECK(r.code == 2);
  CHECK(has(r.err, "holds the plan of another sweep"));
}

TEST_CASE("run: --jobs 1 and --jobs 2 give the same CSV bytes; drops fall as the table grows; charts drawn") {
  const std::string dir = temp_dir();
  const std::string sweep = write_sweep(dir);
  RunResult one = run_ctsim("sweep run " + sweep + " --out " + dir + "/j1 --jobs 1");
  REQUIRE(one.code == 0);
  RunResult two = run_ctsim("sweep run " + sweep + " --out " + dir + "/j2 --jobs 2 --no-charts");
  REQUIRE(two.code == 0);
  const std::string csv = read_file(dir + "/j1/results.csv");
  CHECK(count_lines(csv) == 9);
  CHECK(csv == read_file(dir + "/j2/results.csv"));
  CHECK(read_file(dir + "/j1/summary.csv") == read_file(dir + "/j2/summary.csv"));
  // summary.csv: drops_per_1k_new_mean falls from the smallest table to 0 at the largest.
  std::istringstream rows(read_file(dir + "/j1/summary.csv"));
  std::string header, row;
  std::getline(rows, header);
  std::vector<double> per_1k;
  while (std::getline(rows, row)) {
    std::vector<std::string> cells;
    std::istringstream in(row);
    for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
    per_1k.push_back(std::stod(cells[12]));  // table.max,runs,failed, new x3, drops x3, early x3, per_1k_mean
  }
  REQUIRE(per_1k.size() == 4);
  CHECK(per_1k[0] > 100);
  CHECK(per_1k[3] == 0);
  CHECK(has(read_file(dir + "/j1/charts/drops_per_1k_new-vs-table.max.svg"), "<svg"));
  CHECK(file_exists(dir + "/j1/charts/peak-vs-table.max.png"));
  CHECK_FALSE(file_exists(dir + "/j2/charts"));
  CHECK(has(read_file(dir + "/j1/joblog"), "--index 7"));
}

TEST_CASE("a sweep killed part way resumes without redoing finished points, to the same CSV") {
  const std::string dir = temp_dir();
  const std::string sweep = write_sweep(dir);
  REQUIRE(run_ctsim("sweep run " + sweep + " --out " + dir + "/whole --no-charts").code == 0);
  const std::string out = dir + "/cut";
  // In its own session, so that the whole process group (ctsim, parallel,
  // the point running) is killed at once, as by a lost terminal or node.
  const std::string script = dir + "/cut.sh";
  write_file(script, "setsid " + std::string(CTSIM_BINARY) + " sweep run " + sweep + " --out " + out +
                         " --no-charts >/dev/null 2>&1 &\npid=$!\n"
                         "for i in $(seq 600); do\n"
                         "  [ $(ls " +
                         out +
                         "/points/*/result.json 2>/dev/null | wc -l) -ge 3 ] && break\n"
                         "  sleep 0.05\n"
                         "done\n"
                         "kill -KILL -- -$pid\nwait $pid\nexit 0\n");
  const std::string cmd = "bash " + script;
  REQUIRE(std::system(cmd.c_str()) == 0);
  const size_t done_before = results_present(out);
  CHECK(done_before >= 3);
  REQUIRE(done_before < 8);  // really cut short
  RunResult partial = run_ctsim("sweep collect " + out + " --no-charts");
  CHECK(partial.code == 1);
  CHECK(has(partial.err, "have no result yet"));
  CHECK_FALSE(file_exists(out + "/results.csv"));

  RunResult resumed = run_ctsim("sweep run " + sweep + " --out " + out + " --no-charts");
  REQUIRE(resumed.code == 0);
  CHECK(read_file(out + "/results.csv") == read_file(dir + "/whole/results.csv"));
  CHECK(read_file(out + "/summary.csv") == read_file(dir + "/whole/summary.csv"));
  // Each point appears once in the job log: nothing finished was run again.
  const std::string log = read_file(out + "/joblog");
  for (int i = 0; i < 8; ++i) {
    const std::string needle = "--index " + std::to_string(i) + "\n";
    size_t n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    CHECK_MESSAGE(n == 1, "point " << i << " in the job log " << n << " times");
  }
}

TEST_CASE("a failed point is a row with its exit code, and its stderr is in failures.txt; --partial") {
  const std::string dir = temp_dir();
  const std::string sweep = write_sweep(dir);
  const std::string out = dir + "/o";
  REQUIRE(run_ctsim("sweep plan " + sweep + " --out " + out).code == 0);
  REQUIRE(run_ctsim("sweep run-one " + sweep + " --out " + out + " --index 0").code == 0);
  RunResult r = run_ctsim("sweep collect " + out + " --partial --no-charts");
  CHECK(r.code == 1);
  CHECK(has(r.err, "7 of 8 points not run yet were left out"));
  CHECK(count_lines(read_file(out + "/results.csv")) == 2);

  write_file(out + "/points/0001/scenario.json", "{ \"ctsim\": 1, \"cpus\": 0 }\n");
  r = run_ctsim("sweep run-one " + sweep + " --out " + out + " --index 1");
  CHECK(r.code == 2);
  CHECK(has(r.err, "point 1 (table.max=2048 seed=2) failed with exit 2"));
  r = run_ctsim("sweep collect " + out + " --partial --no-charts");
  CHECK(has(read_file(out + "/results.csv"), "\n1,2048,2,2,,,,,\n"));
  const std::string failures = read_file(out + "/failures.txt");
  CHECK(has(failures, "point 1 (table.max=2048 seed=2): exit 2\n"));
  CHECK(has(failures, "/cpus: "));
  CHECK(has(r.err, "point 1 (table.max=2048 seed=2) failed"));
}

TEST_CASE("sweep refuses bad usage and bad sweep files before running anything") {
  const std::string dir = temp_dir();
  const std::string sweep = write_sweep(dir);
  RunResult r = run_ctsim("sweep plan " + sweep + " --jobs 2");
  CHECK(r.code == 2);
  CHECK(has(r.err, "--jobs goes with sweep run"));
  r = run_ctsim("sweep run-one " + sweep + " --out " + dir + "/none --index 0");
  CHECK(r.code == 2);
  CHECK(has(r.err, "holds no plan"));
  r = run_ctsim("sweep frobnicate " + sweep);
  CHECK(r.code == 2);
  CHECK(has(r.err, "unknown action 'frobnicate'"));
  std::string bad = kSweep;
  bad.replace(bad.find("\"/table/max\""), 12, "\"/table/maxx\"");
  bad.replace(bad.find("[2048, 4096"), 11, "[-1, 4096");
  write_file(dir + "/bad.json", bad);
  r = run_ctsim("sweep plan " + dir + "/bad.json --out " + dir + "/b");
  CHECK(r.code == 2);
  CHECK(has(r.err, "/table/maxx: "));
  CHECK_FALSE(file_exists(dir + "/b"));
  CHECK(has(run_ctsim("--help").out, "ctsim sweep plan|run|run-one SWEEP.json"));
  // The engine is named when it is missing (ctsim itself is found by its path).
  r = run_ctsim("sweep run " + sweep + " --out " + dir + "/np", "PATH=/nonexistent");
  CHECK(r.code == 2);
  CHECK(has(r.err, "sweep run needs GNU parallel, which cannot be run"));
  CHECK(has(r.err, "apt-get install parallel"));
}

TEST_CASE("run --stats writes the trace's end record as one JSON object, only when the run succeeded") {
  const std::string dir = temp_dir();
  const std::string scenario = source_path("scenarios/incidents/table-full.json");
  RunResult r = run_ctsim("run " + scenario + " --quiet --stats " + dir + "/s.json --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  const nlohmann::json stats = nlohmann::json::parse(read_file(dir + "/s.json"));
  const std::string trace = read_file(dir + "/t.jsonl");
  const std::string last = trace.substr(trace.rfind('\n', trace.size() - 2) + 1);
  const nlohmann::json end = nlohmann::json::parse(last);
  REQUIRE(end["kind"] == "end");
  for (const char* k : {"packets", "conns_created", "conns_freed", "events", "stats"}) CHECK(stats[k] == end[k]);
  CHECK(stats["end_ns"] == end["t"]);
  CHECK(stats["scenario"] == "table-full");
  CHECK(stats["stats"]["drop"].get<int>() > 0);
  r = run_ctsim("run " + scenario + " --quiet --stats " + dir + "/no/such/dir/s.json");
  CHECK(r.code == 2);
  CHECK(has(r.err, "cannot open for writing"));
}
