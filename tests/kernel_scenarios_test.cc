// The teaching scenarios of scenarios/kernels/, each run under v5.10 and
// under the 6.18 profile side by side: each case pins both outcomes of one
// headline difference (docs/KERNELS.md, "Worked scenarios"), so that it
// fails if the profile's switch were ignored or v5.10's path changed.
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (GCC 12 false positives, see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

struct Run {
  std::vector<json> trace;
  json end;  // the end record
  std::vector<json> of(const std::string& kind) const {
    std::vector<json> out;
    for (const json& r : trace)
      if (r.value("kind", "") == kind) out.push_back(r);
    return out;
  }
};

Run run(const std::string& scenario, const std::string& kernel) {
  const std::string dir = temp_dir();
  const RunResult r = run_ctsim("run " + shell_quote(source_path("scenarios/kernels/" + scenario)) +
                                " --quiet --check --kernel " + kernel + " --trace " + dir + "/t.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  Run out;
  std::istringstream in(read_file(dir + "/t.jsonl"));
  for (std::string line; std::getline(in, line);) out.trace.push_back(json::parse(line));
  out.end = out.trace.back();
  REQUIRE(out.end["kind"] == "end");
  return out;
}

constexpr int64_t kSecond = 1'000'000'000;

// When the conn's IPCT_ASSURED event went out, or -1.
int64_t assured_at(const Run& r) {
  for (const json& e : r.of("event"))
    for (const json& bit : e["events"])
      if (bit == "IPCT_ASSURED") return e["t"];
  return -1;
}

}  // namespace

TEST_CASE("udp-assured: ASSURED after the reply (5.10) or only once the conn is 2 s old (6.18)") {
  CHECK(assured_at(run("udp-assured.json", "5.10")) == 500'000'000);
  CHECK(assured_at(run("udp-assured.json", "6.18")) == 3 * kSecond);
}

TEST_CASE("gc-linger: DESTROY within a second or two of expiry (5.10), in sweeps about 60 s apart (6.18)") {
  // Each conn expires 30 s after its packet (0, 7, 14 s).
  const int64_t expiry[] = {30 * kSecond, 37 * kSecond, 44 * kSecond};
  const Run old_gc = run("gc-linger.json", "5.10");
  const std::vector<json> d510 = old_gc.of("dying");
  REQUIRE(d510.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const int64_t late = d510[i]["t"].get<int64_t>() - expiry[i];
    CHECK(late >= 0);
    CHECK(late < 2 * kSecond);
  }
  const Run new_gc = run("gc-linger.json", "6.18");
  const std::vector<json> d618 = new_gc.of("dying");
  REQUIRE(d618.size() == 3);
  int64_t latest = 0;
  std::vector<int64_t> sweeps;
  for (size_t i = 0; i < 3; ++i) {
    const int64_t t = d618[i]["t"];
    CHECK(t >= expiry[i]);
    latest = std::max(latest, t - expiry[i]);
    if (sweeps.empty() || sweeps.back() != t) sweeps.push_back(t);
  }
  CHECK(latest > 10 * kSecond);  // lingering, as the live kernel's up to ~58 s
  CHECK(latest < 61 * kSecond);
  for (size_t i = 1; i < sweeps.size(); ++i) CHECK(sweeps[i] - sweeps[i - 1] > 55 * kSecond);
}

TEST_CASE("tcp-old-ack: a segment below the window is INVALID (5.10) or IGNORED on its conn (6.18)") {
  const Run v510 = run("tcp-old-ack.json", "5.10");
  CHECK(v510.end["stats"]["invalid"] == 1);
  const Run v618 = run("tcp-old-ack.json", "6.18");
  CHECK(v618.end["stats"]["invalid"] == 0);
  // The old segment (packet 6) keeps its conn: its nf_conntrack_in verdict names conn 1.
  bool on_conn = false;
  for (const json& v : v618.of("verdict"))
    if (v["id"] == 6 && v.value("reason", "") == "nf_conntrack_in") on_conn = v.value("conn", 0) == 1;
  CHECK(on_conn);
}
