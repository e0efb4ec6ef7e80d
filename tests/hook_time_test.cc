// The scenario's hook_time (docs/SCENARIO.md "The packet path"): each hook,
// and confirm after the last one, starts hook_time after the one before;
// a CPU holds its packet until confirm. Pinned with the SNAT port race, whose
// window is source NAT's port choice to confirm.
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

// Two pods' SYNs from the same source port, masqueraded to one address:
// the second on `cpu2`, `gap` after the first.
std::string race(const std::string& hook_time, int cpu2, const std::string& gap) {
  return R"({"ctsim":1,"cpus":2,"hook_time":")" + hook_time + R"(","table":{"buckets":64,"hash_rnd":1},
    "namespaces":[{"name":"node","addresses":["192.0.2.10"]}],
    "rules":[{"hook":"postrouting","match":"ip saddr 10.244.0.0/16","verdict":"masquerade"}],
    "packets":[{"at":"0s","cpu":0,"pkt":"tcp 10.244.1.5:40000 > 203.0.113.10:443 flags S"},
               {"at":")" + gap + R"(","cpu":)" + std::to_string(cpu2) +
         R"(,"pkt":"tcp 10.244.2.7:40000 > 203.0.113.10:443 flags S"}],
    "until":"1s"})";
}

struct Outcome {
  json stats;
  std::vector<json> trace;
};

Outcome run(const std::string& scenario) {
  const std::string dir = temp_dir();
  write_file(dir + "/s.json", scenario);
  const RunResult r = run_ctsim("run " + dir + "/s.json --quiet --check --stats " + dir + "/stats.json --trace " + dir +
                                "/t.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  Outcome o;
  o.stats = json::parse(read_file(dir + "/stats.json"))["stats"];
  std::istringstream in(read_file(dir + "/t.jsonl"));
  for (std::string line; std::getline(in, line);) o.trace.push_back(json::parse(line));
  return o;
}

}  // namespace

TEST_CASE("hook_time 0: the first SYN is confirmed before the second arrives, no race") {
  const Outcome o = run(race("0s", 1, "10us"));
  CHECK(o.stats["found"] == 1);  // the second's NAT sees port 40000 taken
  CHECK(o.stats["insert_failed"] == 0);
}

TEST_CASE("hook_time 20us: a SYN on another CPU inside the window races and loses at confirm") {
  const Outcome o = run(race("20us", 1, "10us"));
  CHECK(o.stats["found"] == 0);  // both NATs saw 40000 free: neither was confirmed
  CHECK(o.stats["insert_failed"] == 1);
  // The first packet: conntrack at 0, source NAT at its third hook (40 us),
  // confirm 20 us later; the second (10 us) loses at its confirm (70 us).
  std::vector<int64_t> src_nat, confirms;
  int64_t drop_t = -1;
  for (const json& r : o.trace) {
    const std::string kind = r.value("kind", "");
    if (kind == "nat" && r.value("manip", "") == "src") src_nat.push_back(r["t"]);
    if (kind == "confirm") confirms.push_back(r["t"]);
    if (kind == "drop") drop_t = r["t"];
  }
  CHECK(src_nat == std::vector<int64_t>{40'000, 50'000});
  CHECK(confirms == std::vector<int64_t>{60'000});
  CHECK(drop_t == 70'000);
}

TEST_CASE("hook_time 20us: the same two SYNs on one CPU do not race (the second waits in the backlog)") {
  const Outcome o = run(race("20us", 0, "10us"));
  CHECK(o.stats["found"] == 1);
  CHECK(o.stats["insert_failed"] == 0);
}

TEST_CASE("hook_time 20us: a SYN after the first one's confirm does not race") {
  const Outcome o = run(race("20us", 1, "61us"));
  CHECK(o.stats["found"] == 1);
  CHECK(o.stats["insert_failed"] == 0);
}
