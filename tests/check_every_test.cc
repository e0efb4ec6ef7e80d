// `ctsim run --check-every DURATION`: the invariant walk once per DURATION
// of virtual time (for runs too long for --check's every event). Checking
// changes no output, and bad values are refused before anything runs.
#include <doctest/doctest.h>

#include <string>

#include "tests/run_util.h"

using namespace ctest;

namespace {
const std::string kWalk = source_path("scenarios/seed-walkthrough.json");
}  // namespace

TEST_CASE("check-every checks without changing the trace") {
  const std::string dir = temp_dir();
  REQUIRE(run_ctsim("run " + kWalk + " --quiet --trace " + dir + "/plain.jsonl").code == 0);
  const RunResult r = run_ctsim("run " + kWalk + " --quiet --check-every 1s --trace " + dir + "/checked.jsonl");
  CHECK(r.code == 0);
  CHECK(r.err == "");
  CHECK(read_file(dir + "/checked.jsonl") == read_file(dir + "/plain.jsonl"));
  CHECK(run_ctsim("run " + kWalk + " --quiet --check-every 1ns").code == 0);
}

TEST_CASE("check-every: bad values are refused before anything runs") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + kWalk + " --check-every often --trace " + dir + "/t.jsonl");
  CHECK(r.code == 2);
  CHECK(r.err.find("--check-every often") != std::string::npos);
  CHECK(!file_exists(dir + "/t.jsonl"));
  CHECK(run_ctsim("run " + kWalk + " --check-every 0s").code == 2);
}
