// `ctsim run S --plots DIR` renders every chart of a run; `ctsim plot DIR`
// does it again from the saved files and fails clearly when one is missing.
#include <doctest/doctest.h>

#include "tests/run_util.h"

using namespace ctest;

namespace {

const char* const kCharts[] = {"occupancy", "lifecycle", "gc", "listeners", "chains"};

bool is_png(const std::string& bytes) { return bytes.size() > 1000 && bytes.compare(1, 3, "PNG") == 0; }

}  // namespace

TEST_CASE("run --plots writes the trace, the series and every chart as PNG and SVG") {
  const std::string dir = temp_dir() + "/charts";
  RunResult r = run_ctsim("run " + source_path("scenarios/incidents/events-reliable.json") + " --plots " + dir);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("charts written to " + dir) != std::string::npos);
  for (const char* c : kCharts) {
    CAPTURE(c);
    CHECK(is_png(read_file(dir + "/" + c + ".png")));
    CHECK(read_file(dir + "/" + c + ".svg").find("<svg") != std::string::npos);
  }
  // The lane chart's data names the phases of the life cycle it draws.
  const std::string lanes = read_file(dir + "/lifecycle.dat");
  CHECK(lanes.find(" unconfirmed") != std::string::npos);
  CHECK(lanes.find(" confirmed") != std::string::npos);
  CHECK(lanes.find(" dying") != std::string::npos);

  // Rendering again from the saved run gives the same data files.
  const std::string before = read_file(dir + "/lifecycle.dat");
  r = run_ctsim("plot " + dir);
  CHECK(r.code == 0);
  CHECK(read_file(dir + "/lifecycle.dat") == before);
}

TEST_CASE("plot refuses a run directory without its inputs, naming the missing file") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("plot " + dir);
  CHECK(r.code == 2);
  CHECK(r.err.find(dir + "/trace.jsonl is missing") != std::string::npos);
  r = run_ctsim("run " + source_path("scenarios/seed-walkthrough.json") + " --plots " + dir + " --trace x.jsonl");
  CHECK(r.code == 2);
  CHECK(r.err.find("leave out --trace and --series") != std::string::npos);
}
