// Inputs the fuzzers (fuzz/) once crashed on, replayed: each must now be
// handled as bad input (a Status or a notation error), never a crash,
// exception or sanitizer report. Files are named <target>-<what>; inputs
// found by review rather than by a fuzzer live here too.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "core/nf_conntrack_tuple.h"
#include "sim/packet_notation.h"
#include "sim/rule_match.h"
#include "sim/scenario.h"
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
      ctsim::PacketSpec spec;
      ctsim::NotationError err;
      if (ctsim::parse_packet(text, &spec, &err)) {
        ctsim::PacketSpec back;
        CHECK(ctsim::parse_packet(ctsim::format_packet(spec.pkt), &back, &err));
        CHECK(ctsim::format_packet(back.pkt) == ctsim::format_packet(spec.pkt));
      }
      ctcore::nf_conntrack_tuple t;
      (void)ctsim::parse_tuple(text, &t, &err);
    }
  }
  CHECK(scenario_files >= 1);
}

TEST_CASE("a number beyond a double is a JSON error with its position") {
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("big.json", "{\"ctsim\": 1,\n \"seed\": 1e999}", &s);
  CHECK(st.message() == "big.json:2:10: invalid JSON: number overflow parsing '1e999'");
}
