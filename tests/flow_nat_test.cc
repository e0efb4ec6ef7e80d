// Flows through NAT (docs/SCENARIO.md "Flows"): the server answers the
// packet it received, so behind source NAT it answers the node's address
// and port, behind destination NAT the backend answers from its own; either
// way the answer matches the conn's REPLY tuple. And the worked example
// built on it (docs/SWEEPS.md, scenarios/sweeps/snat-race-rate.json): under
// v5.10 a node masquerading to one server drops SYNs at confirm as its ports
// fill, far less with fully-random.
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

struct Outcome {
  json end;  // the stats file: counts and summed conntrack -S counters
  std::vector<json> trace;
};

Outcome run(const json& scenario, bool trace) {
  const std::string dir = temp_dir();
  write_file(dir + "/s.json", scenario.dump());
  const RunResult r = run_ctsim("run " + dir + "/s.json --quiet --stats " + dir + "/stats.json" +
                                (trace ? " --check --trace " + dir + "/t.jsonl" : std::string()));
  INFO(r.err);
  REQUIRE(r.code == 0);
  Outcome o;
  o.end = json::parse(read_file(dir + "/stats.json"));
  if (trace) {
    std::istringstream in(read_file(dir + "/t.jsonl"));
    for (std::string line; std::getline(in, line);) o.trace.push_back(json::parse(line));
  }
  return o;
}

json nat_flow(const json& rule, const std::string& dst) {
  json s = json::parse(R"({"ctsim":1,"cpus":2,"table":{"buckets":1024,"hash_rnd":1},
    "namespaces":[{"name":"node","addresses":["192.0.2.10"]}],
    "flows":[{"at":"0s","kind":"tcp","count":50,"rate":"100/s","cpu":"spread","src":"10.244.0.0/16",
              "dst":")" + dst + R"(","data_packets":1,"close":"fin"}],
    "until":"5s"})");
  s["rules"] = json::array({rule});
  return s;
}

// The packets of the trace's `pkt` records at prerouting that come from `from`.
std::vector<std::string> packets_from(const Outcome& o, const std::string& from) {
  std::vector<std::string> r;
  for (const json& j : o.trace)
    // value(): not every record has these keys (the header has no kind).
    if (j.value("kind", "") == "pkt" && j.value("hook", "") == "prerouting" &&
        j.value("pkt", "").starts_with("tcp " + from))
      r.push_back(j.value("pkt", ""));
  return r;
}

}  // namespace

TEST_CASE("a flow through masquerade: the server answers the node's address and port, every conn is tracked") {
  const Outcome o = run(
      nat_flow(json{{"hook", "postrouting"}, {"match", "ip saddr 10.244.0.0/16"}, {"verdict", "masquerade"}},
               "203.0.113.10:443"),
      true);
  // One conn per flow: no answer went astray as a new (invalid) conn.
  CHECK(o.end["conns_created"] == 50);
  CHECK(o.end["stats"]["invalid"] == 0);
  const std::vector<std::string> answers = packets_from(o, "203.0.113.10:443");
  REQUIRE(answers.size() == 50 * 3);  // SYN-ACK, the ACK of the data, FIN
  for (const std::string& p : answers) CHECK_MESSAGE(p.find(" > 192.0.2.10:") != std::string::npos, p);
  // Every conn saw its reply: SEEN_REPLY and ASSURED, as without NAT.
  int assured = 0;
  for (const json& j : o.trace)
    if (j.value("kind", "") == "update" && j.value("state", "") == "ESTABLISHED")
      assured += j.value("status", json::array()).dump().find("IPS_ASSURED") != std::string::npos;
  CHECK(assured >= 50);
}

TEST_CASE("a flow through destination NAT: the backend answers from its own address to the client") {
  const Outcome o = run(nat_flow(json{{"hook", "prerouting"},
                                      {"match", "ip daddr 198.51.100.80 tcp dport 80"},
                                      {"verdict", "dnat"},
                                      {"to", "10.1.0.1:8080"}},
                                 "198.51.100.80:80"),
                        true);
  CHECK(o.end["conns_created"] == 50);
  CHECK(o.end["stats"]["invalid"] == 0);
  const std::vector<std::string> answers = packets_from(o, "10.1.0.1:8080");
  CHECK(answers.size() == 50 * 3);
  for (const std::string& p : answers) CHECK_MESSAGE(p.find(" > 10.244.") != std::string::npos, p);
  CHECK(packets_from(o, "198.51.100.80:80").empty());
}

TEST_CASE("the snat-race-rate example: at 475 conns/s to one server plain masquerade drops at confirm, fully-random rarely") {
  const json sweep = json::parse(read_file(source_path("scenarios/sweeps/snat-race-rate.json")));
  json base = sweep["scenario"];
  base["flows"][0]["rate"] = "475/s";
  const Outcome plain = run(base, false);
  base["rules"][0]["flags"] = json::array({"fully-random"});
  const Outcome random = run(base, false);
  const int64_t plain_failed = plain.end["stats"]["insert_failed"];
  const int64_t random_failed = random.end["stats"]["insert_failed"];
  // docs/SWEEPS.md: 4.2 per 1,000 new conns against 0.05 (3 seeds).
  CHECK(plain_failed >= 100);
  CHECK(random_failed * 10 < plain_failed);
  // Every insert_failed here is a SYN dropped at confirm (counted in drop too).
  CHECK(plain.end["stats"]["drop"] == plain_failed);
}
