// Inputs the fuzzers (fuzz/) once crashed on, replayed: each must now be
// handled as bad input (a Status or a notation error), never a crash,
// exception or sanitizer report. Files are named <target>-<what>; inputs
// found by review rather than by a fuzzer live here too.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "fuzz/simulation_run.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/rule_match.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_keys.h"
#include "tests/run_util.h"

namespace fs = std::filesystem;

TEST_CASE("fuzzer regressions load as errors, not crashes") {
  const fs::path dir = ctest::source_path("tests/data/fuzz-regressions");
  int scenario_files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const std::string text = ctest::read_file(entry.path().string());
    CAPTURE(name);
    if (name.rfind("scenario-", 0) == 0) {
      ++scenario_files;
      ctsim::Scenario s;
      ctsim::Status st;
      CHECK_NOTHROW(st = ctsim::parse_scenario("fuzz.json", text, &s));
      CHECK_FALSE(st.ok());
      CHECK(st.message().rfind("fuzz.json:", 0) == 0);
    } else if (name.rfind("notation-", 0) == 0) {
      if (const auto spec = ctsim::parse_packet(text)) {
        const auto back = ctsim::parse_packet(ctsim::format_packet(spec->pkt));
        REQUIRE(back.ok());
        CHECK(ctsim::format_packet(back->pkt) == ctsim::format_packet(spec->pkt));
      }
      (void)ctsim::parse_tuple(text);
    }
  }
  CHECK(scenario_files >= 1);
}

// The simulation fuzzer's inputs (fuzz/simulation_fuzzer.cc): its seed
// corpus must be run, not refused by the caps, and its findings
// (simulation-*) must now run to the end with every invariant holding.
TEST_CASE("simulation fuzzer seeds and regressions run clean under the invariant check") {
  int ran = 0;
  auto run_clean = [&](const fs::path& file) {
    CAPTURE(file.string());
    const ctsim::fuzz::SimulationResult r = ctsim::fuzz::run_fuzzed_simulation(ctest::read_file(file.string()));
    if (r.outcome != ctsim::fuzz::SimulationOutcome::kRan) return;
    ++ran;
    CHECK(r.status.ok());
    CHECK(r.invariant_error == "");
  };
  for (const auto& entry : fs::directory_iterator(ctest::source_path("fuzz/corpus/simulation"))) {
    const int before = ran;
    run_clean(entry.path());
    CHECK_MESSAGE(ran == before + 1, "a seed must fit the fuzzer's caps: ", entry.path().string());
  }
  for (const auto& entry : fs::directory_iterator(ctest::source_path("tests/data/fuzz-regressions")))
    if (entry.path().filename().string().rfind("simulation-", 0) == 0) run_clean(entry.path());
  CHECK(ran >= 1);
}

TEST_CASE("the simulation fuzzer refuses inputs above its caps") {
  const std::string big = R"({"ctsim": 1, "flows": [{"at": "0s", "kind": "udp", "count": 5000, "interval": "1ms",
                                                     "src": "10.0.0.1", "dst": "10.0.0.2:53"}]})";
  CHECK(ctsim::fuzz::run_fuzzed_simulation(big).outcome == ctsim::fuzz::SimulationOutcome::kRefused);
  CHECK(ctsim::fuzz::run_fuzzed_simulation("{").outcome == ctsim::fuzz::SimulationOutcome::kNotLoaded);
  const std::string small = R"({"ctsim": 1, "table": {"buckets": 64},
      "flows": [{"at": "0s", "kind": "udp", "count": 5, "interval": "1ms", "src": "10.0.0.1", "dst": "10.0.0.2:53"}]})";
  const ctsim::fuzz::SimulationResult r = ctsim::fuzz::run_fuzzed_simulation(small);
  REQUIRE(r.outcome == ctsim::fuzz::SimulationOutcome::kRan);
  CHECK(r.summary.packets == 10);
  CHECK(r.summary.end_time == ctsim::fuzz::kMaxVirtualTime);  // no "until": cut at the cap
}

TEST_CASE("a number beyond a double is a JSON error with its position") {
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("big.json", "{\"ctsim\": 1,\n \"seed\": 1e999}", &s);
  CHECK(st.message() == "big.json:2:10: invalid JSON: number overflow parsing '1e999'");
}

// A systematic sweep the fuzzers may not reach: every key the loader knows,
// at every level, given a value of every JSON type, and every array given
// elements of every type. The loader must answer with a Status each time.
TEST_CASE("every key with a value of every JSON type loads or fails, never throws") {
  const std::vector<std::string> kValues = {"null", "true",  "0",      "5",  "-1",  "1.5", "1e300",
                                            "\"\"", "\"x\"", "\"1s\"", "[]", "[1]", "{}",  "{\"a\": 1}"};
  // A minimal object around `member` for each level of the key table.
  auto wrap = [](const std::string& level, const std::string& member) -> std::string {
    if (level.empty()) return "{\"ctsim\": 1, " + member + "}";
    if (level == "/table") return "{\"ctsim\": 1, \"table\": {" + member + "}}";
    if (level == "/namespaces/*") return "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", " + member + "}]}";
    if (level == "/listeners/*") return "{\"ctsim\": 1, \"listeners\": [{" + member + "}]}";
    if (level == "/rules/*")
      return "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"drop\", " + member + "}]}";
    if (level == "/packets/*")
      return "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"udp 1.1.1.1:1 > 2.2.2.2:2\", " + member + "}]}";
    const std::string flow = "\"at\": \"0s\", \"src\": \"1.1.1.1\", \"dst\": \"2.2.2.2:53\"";
    if (level == "/flows/*") return "{\"ctsim\": 1, \"flows\": [{\"kind\": \"udp\", " + flow + ", " + member + "}]}";
    if (level == "/flows/*/weights")
      return "{\"ctsim\": 1, \"flows\": [{\"kind\": \"mix\", " + flow + ", \"weights\": {" + member + "}}]}";
    const size_t q = level.find("?do=");
    const std::string kind = q == std::string::npos ? "stats" : level.substr(q + 4);
    return "{\"ctsim\": 1, \"listeners\": [{\"name\": \"l\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"" + kind +
           "\", " + member + "}]}";
  };
  int docs = 0;
  for (const ctsim::ScenarioLevel& l : ctsim::scenario_key_table()) {
    for (const std::string& key : l.keys) {
      for (const std::string& v : kValues) {
        const std::string text = wrap(l.pointer, "\"" + key + "\": " + v);
        CAPTURE(text);
        ctsim::Scenario s;
        ctsim::Status st;
        CHECK_NOTHROW(st = ctsim::parse_scenario("t.json", text, &s));
        if (!st.ok()) CHECK(st.message().rfind("t.json:", 0) == 0);
        ++docs;
      }
    }
  }
  for (const char* array : {"namespaces", "listeners", "rules", "packets", "flows", "actions"}) {
    for (const std::string& v : kValues) {
      const std::string text = std::string("{\"ctsim\": 1, \"") + array + "\": [" + v + "], \"" + array + "2\": 0}";
      CAPTURE(text);
      ctsim::Scenario s;
      ctsim::Status st;
      CHECK_NOTHROW(st = ctsim::parse_scenario("t.json", text, &s));
      CHECK_FALSE(st.ok());
      ++docs;
    }
  }
  CHECK(docs > 1000);
}
