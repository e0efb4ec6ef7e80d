// ctsim diff: identical, reordered, missing, changed and truncated traces,
// the filters, and the bad-input refusals (exit 2).
#include "sim/output/trace_diff.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/run_util.h"

using ctsim::TraceDiffOptions;
using ctsim::TraceDiffResult;
using Outcome = TraceDiffResult::Outcome;

namespace {

const std::string kHeader = R"({"ctsim_trace":1,"scenario":"x","hz":250,"seed":1,"initial_jiffies":0})"
                            "\n";
const std::string kR1 = R"({"t":0,"jiffies":0,"kind":"pkt","net":"init","cpu":0,"id":1})"
                        "\n";
const std::string kR2 = R"({"t":1000,"jiffies":0,"kind":"lookup","net":"init","cpu":0,"chain":3,"match":null})"
                        "\n";
const std::string kR3 = R"({"t":2000000000,"jiffies":500,"kind":"gc","scanned":8,"expired":1})"
                        "\n";
const std::string kR4 = R"({"t":3000000000,"jiffies":750,"kind":"end","packets":1,"stats":{"found":2,"drop":0}})"
                        "\n";
const std::string kTrace = kHeader + kR1 + kR2 + kR3 + kR4;

TraceDiffResult diff(const std::string& a, const std::string& b, const TraceDiffOptions& o = {}) {
  return ctsim::diff_trace_text(a, b, "EXP", "ACT", o);
}

}  // namespace

TEST_CASE("ctsim diff: identical traces are the same") {
  TraceDiffResult r = diff(kTrace, kTrace);
  CHECK(r.outcome == Outcome::kSame);
  CHECK(r.compared == 4);
  CHECK(r.report.empty());
}

TEST_CASE("ctsim diff: a changed field names record, time, field and both values") {
  std::string b = kHeader + kR1 +
                  R"({"t":1000,"jiffies":0,"kind":"lookup","net":"init","cpu":0,"chain":2,"match":null})"
                  "\n" +
                  kR3 + kR4;
  TraceDiffResult r = diff(kTrace, b);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.exit_code() == 1);
  CHECK(r.report.find("record #2 (expected line 3, actual line 3), t=1000") != std::string::npos);
  CHECK(r.report.find("kind \"lookup\"") != std::string::npos);
  CHECK(r.report.find("field \"chain\": expected 3, actual 2") != std::string::npos);
  // context from both sides, the differing record marked
  CHECK(r.report.find("  > #2 line 3: " + kR2.substr(0, kR2.size() - 1)) != std::string::npos);
  CHECK(r.report.find("ACT:\n") != std::string::npos);
  SUBCASE("--ignore-field hides it") {
    TraceDiffOptions o;
    o.ignore_fields = {"chain"};
    CHECK(diff(kTrace, b, o).outcome == Outcome::kSame);
  }
  SUBCASE("--to before it hides it, --from after it too") {
    TraceDiffOptions o;
    o.to = "999ns";
    CHECK(diff(kTrace, b, o).outcome == Outcome::kSame);
    TraceDiffOptions o2;
    o2.from = "1s";
    CHECK(diff(kTrace, b, o2).outcome == Outcome::kSame);
    TraceDiffOptions o3;
    o3.from = "1us";
    o3.to = "1us";
    CHECK(diff(kTrace, b, o3).outcome == Outcome::kDifferent);
  }
  SUBCASE("--ignore-kind hides it") {
    TraceDiffOptions o;
    o.ignore_kinds = {"lookup"};
    CHECK(diff(kTrace, b, o).outcome == Outcome::kSame);
  }
}

TEST_CASE("ctsim diff: a nested difference is named by its path") {
  std::string b = kHeader + kR1 + kR2 + kR3 +
                  R"({"t":3000000000,"jiffies":750,"kind":"end","packets":1,"stats":{"found":3,"drop":0}})"
                  "\n";
  TraceDiffResult r = diff(kTrace, b);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.report.find("field \"stats/found\": expected 2, actual 3") != std::string::npos);
  CHECK(r.report.find("t=3000000000 (3.000000000s)") != std::string::npos);
}

TEST_CASE("ctsim diff: reordered records differ at the first swapped one") {
  TraceDiffResult r = diff(kTrace, kHeader + kR2 + kR1 + kR3 + kR4);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.report.find("record #1 ") != std::string::npos);
  CHECK(r.report.find("field \"t\": expected 0, actual 1000") != std::string::npos);
}

TEST_CASE("ctsim diff: a missing record, and an extra field") {
  TraceDiffResult r = diff(kTrace, kHeader + kR1 + kR3 + kR4);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.report.find("record #2 ") != std::string::npos);
  CHECK(r.report.find("field \"t\": expected 1000, actual 2000000000") != std::string::npos);

  std::string extra = kHeader + kR1 + kR2 +
                      R"({"t":2000000000,"jiffies":500,"kind":"gc","scanned":8,"expired":1,"buckets":8})"
                      "\n" +
                      kR4;
  r = diff(kTrace, extra);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.report.find("field \"buckets\": expected (absent), actual 8") != std::string::npos);
}

TEST_CASE("ctsim diff: truncated traces") {
  SUBCASE("at a record boundary: a difference saying which side ended") {
    TraceDiffResult r = diff(kTrace, kHeader + kR1 + kR2);
    REQUIRE(r.outcome == Outcome::kDifferent);
    CHECK(r.report.find("record #3: ACT ends after 2 records; the other continues at t=2000000000 "
                        "(2.000000000s) (line 4) with kind \"gc\"") != std::string::npos);
    CHECK(r.report.find("> #3: (end of trace)") != std::string::npos);
  }
  SUBCASE("in the middle of a line: bad input") {
    const std::string cut = kTrace.substr(0, kTrace.size() - 20);
    TraceDiffResult r = diff(kTrace, cut);
    CHECK(r.outcome == Outcome::kBadInput);
    CHECK(r.exit_code() == 2);
    CHECK(r.report.find("ACT:5: not a JSON line (the file ends in the middle of a record: truncated?)") == 0);
  }
}

TEST_CASE("ctsim diff: bad input is refused with exit 2") {
  CHECK(diff(kTrace, "").report == "ACT: empty file: no trace header");
  CHECK(diff(kR1 + kR2, kTrace).report.find("EXP:1: missing trace header") == 0);
  CHECK(diff(kTrace, kHeader + "not json\n").report.find("ACT:2: not a JSON line") == 0);
  CHECK(diff(kTrace, kHeader + "[1,2]\n").report == "ACT:2: not a JSON object");
  const std::string v2 = R"({"ctsim_trace":2,"scenario":"x","hz":250})"
                         "\n";
  TraceDiffResult r = diff(kTrace, v2 + kR1);
  CHECK(r.outcome == Outcome::kBadInput);
  CHECK(r.report ==
        "EXP is trace schema 1 but ACT is schema 2: traces of different schema versions "
        "cannot be compared; regenerate one of them");
  TraceDiffOptions o;
  o.from = "soon";
  CHECK(diff(kTrace, kTrace, o).outcome == Outcome::kBadInput);
}

TEST_CASE("ctsim diff: header differences count") {
  const std::string h2 = R"({"ctsim_trace":1,"scenario":"x","hz":250,"seed":2,"initial_jiffies":0})"
                         "\n";
  TraceDiffResult r = diff(kTrace, h2 + kR1 + kR2 + kR3 + kR4);
  REQUIRE(r.outcome == Outcome::kDifferent);
  CHECK(r.report.find("header (line 1): field \"seed\": expected 1, actual 2") != std::string::npos);
}

TEST_CASE("ctsim diff command: exit codes 0, 1, 2") {
  using namespace ctest;
  const std::string dir = temp_dir();
  write_file(dir + "/a.jsonl", kTrace);
  write_file(dir + "/b.jsonl", kHeader + kR1 + kR3 + kR4);
  CHECK(run_ctsim("diff " + dir + "/a.jsonl " + dir + "/a.jsonl").code == 0);
  RunResult r = run_ctsim("diff " + dir + "/a.jsonl " + dir + "/b.jsonl");
  CHECK(r.code == 1);
  CHECK(r.out.find("traces differ at record #2") != std::string::npos);
  CHECK(run_ctsim("diff " + dir + "/a.jsonl " + dir + "/b.jsonl --ignore-kind lookup").code == 0);
  r = run_ctsim("diff " + dir + "/a.jsonl " + dir + "/nonexistent.jsonl");
  CHECK(r.code == 2);
  CHECK(r.err.find("nonexistent.jsonl: cannot read") != std::string::npos);
  CHECK(run_ctsim("diff " + dir + "/a.jsonl").code == 2);
}
