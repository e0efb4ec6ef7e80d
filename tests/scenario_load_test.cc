// What a valid scenario loads into: the documented defaults, the packet
// defaults chaining from one packet to the next, endpoint ranges, listener
// event filters, sorting by time; and that a run honours them (initial
// jiffies in the trace header, a listener's event filter).
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

namespace {

ctsim::Scenario load(const std::string& text, const std::string& file = "dir/my-test.json") {
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario(file, text, &s);
  INFO(st.message());
  REQUIRE(st.ok());
  return s;
}

}  // namespace

TEST_CASE("a minimal scenario gets the documented defaults") {
  const ctsim::Scenario s = load(R"({"ctsim": 1})");
  CHECK(s.name == "my-test");
  CHECK(s.description.empty());
  CHECK(s.seed == 1);
  CHECK(s.hz == 250);
  CHECK(s.initial_jiffies == 4294892296ull);  // (u32)(-300 * 250)
  CHECK(s.cpus == 1);
  CHECK(s.buckets == 65536);
  CHECK(s.max == 262144);
  REQUIRE(s.namespaces.size() == 1);
  CHECK(s.namespaces[0].name == "init");
  CHECK_FALSE(s.until.has_value());
  // hash_rnd is drawn from the seed: same seed same value, another seed another.
  CHECK(load(R"({"ctsim": 1})").hash_rnd == s.hash_rnd);
  CHECK(load(R"({"ctsim": 1, "seed": 2})").hash_rnd != s.hash_rnd);
}

TEST_CASE("hz, initial_jiffies and table follow the kernel's rules") {
  CHECK(load(R"({"ctsim": 1, "hz": 1000})").initial_jiffies == 4294667296ull);  // (u32)(-300000)
  CHECK(load(R"({"ctsim": 1, "initial_jiffies": 7})").initial_jiffies == 7);
  CHECK(load(R"({"ctsim": 1, "initial_jiffies": "kernel", "hz": 100})").initial_jiffies == 4294937296ull);
  const ctsim::Scenario t = load(R"({"ctsim": 1, "table": {"buckets": 1024}})");
  CHECK(t.buckets == 1024);
  CHECK(t.max == 8192);  // 8 x buckets when the hash size is given
  CHECK(load(R"({"ctsim": 1, "table": {"buckets": 1024, "max": 10, "hash_rnd": 5}})").max == 10);
  CHECK(load(R"({"ctsim": 1, "table": {"hash_rnd": 5}})").hash_rnd == 5);
}

TEST_CASE("packets inherit netns, cpu and path from the packet before, and are sorted by time") {
  const ctsim::Scenario s = load(R"({"ctsim": 1, "cpus": 4,
    "namespaces": [{"name": "a"}, {"name": "b"}],
    "packets": [
      {"at": "5ms", "pkt": "udp 1.1.1.1:1 > 2.2.2.2:2"},
      {"at": "3ms", "netns": "b", "cpu": 3, "path": "input", "pkt": "udp 1.1.1.1:1 > 2.2.2.2:3"},
      {"at": "4ms", "pkt": "udp 1.1.1.1:1 > 2.2.2.2:4"},
      {"at": "4ms", "cpu": 1, "pkt": "udp 1.1.1.1:1 > 2.2.2.2:5"}]})");
  REQUIRE(s.packets.size() == 4);
  // Sorted by time; equal times keep file order.
  CHECK(s.packets[0].spec.pkt.dport == 3);
  CHECK(s.packets[1].spec.pkt.dport == 4);
  CHECK(s.packets[2].spec.pkt.dport == 5);
  CHECK(s.packets[3].spec.pkt.dport == 2);
  // The first packet: the first namespace, CPU 0, forward.
  CHECK(s.packets[3].netns == "a");
  CHECK(s.packets[3].cpu == 0);
  CHECK(s.packets[3].path == ctsim::PathKind::kForward);
  // The third in the file inherits from the second in the file.
  CHECK(s.packets[1].netns == "b");
  CHECK(s.packets[1].cpu == 3);
  CHECK(s.packets[1].path == ctsim::PathKind::kInput);
  CHECK(s.packets[2].cpu == 1);
  CHECK(s.packets[2].netns == "b");
}

TEST_CASE("flow endpoints: prefixes, ports and ranges, v4 and v6") {
  const ctsim::Scenario s = load(R"({"ctsim": 1, "flows": [
    {"at": "0s", "kind": "tcp", "src": "10.0.0.0/8:1024-65535", "dst": "10.0.0.2:80"},
    {"at": "1s", "kind": "udp", "src": "[2001:db8::/32]:443", "dst": "2001:db8::1", "cpu": "spread", "reply": false},
    {"at": "2s", "kind": "mix", "count": 3, "interval": "1ms", "src": "1.1.1.1", "dst": "2.2.2.2", "weights": {"udp": 2}}]})");
  REQUIRE(s.flows.size() == 3);
  const ctsim::FlowSpec& a = s.flows[0];
  CHECK(a.src.l3num == ctcore::NFPROTO_IPV4);
  CHECK(a.src.prefix_len == 8);
  CHECK(a.src.has_port);
  CHECK(a.src.port_lo == 1024);
  CHECK(a.src.port_hi == 65535);
  CHECK(a.dst.prefix_len == 32);
  CHECK(a.dst.port_lo == 80);
  CHECK(a.dst.port_hi == 80);
  CHECK(a.count == 1);
  CHECK(a.rtt == 1'000'000);
  CHECK(a.data_packets == 1);
  CHECK(a.close == ctsim::FlowSpec::Close::kFin);
  const ctsim::FlowSpec& b = s.flows[1];
  CHECK(b.src.l3num == ctcore::NFPROTO_IPV6);
  CHECK(b.src.prefix_len == 32);
  CHECK(b.src.port_lo == 443);
  CHECK_FALSE(b.dst.has_port);
  CHECK(b.dst.prefix_len == 128);
  CHECK(b.cpu_spread);
  CHECK_FALSE(b.reply);
  const ctsim::FlowSpec& c = s.flows[2];
  CHECK(c.interval == 1'000'000);
  CHECK(c.weights[0] == 0);
  CHECK(c.weights[1] == 2);
  CHECK(c.weights[2] == 0);
}

TEST_CASE("listener event filters and actions load as written") {
  const ctsim::Scenario s = load(R"({"ctsim": 1,
    "listeners": [{"name": "d", "events": ["DESTROY"], "rcvbuf": 8, "read_every": "100ms", "reliable": true}, {}],
    "actions": [{"at": "2s", "do": "stats"}, {"at": "1s", "do": "netns_add", "name": "x", "sysctl": {"nf_conntrack_events": 0}},
                {"at": "1s", "do": "flush", "netns": "x"}]})");
  REQUIRE(s.listeners.size() == 2);
  CHECK(s.listeners[0].groups == ctsim::kGroupDestroy);
  CHECK(s.listeners[0].rcvbuf == 8);
  CHECK(s.listeners[0].read_every == 100'000'000);
  CHECK(s.listeners[0].reliable);
  CHECK(s.listeners[1].name == "listener1");
  CHECK(s.listeners[1].groups == (ctsim::kGroupNew | ctsim::kGroupUpdate | ctsim::kGroupDestroy));
  REQUIRE(s.actions.size() == 3);
  CHECK(s.actions[0].kind == ctsim::ActionSpec::Kind::kNetnsAdd);
  CHECK(s.actions[0].sysctls.size() == 1);
  CHECK(s.actions[1].kind == ctsim::ActionSpec::Kind::kFlush);
  CHECK(s.actions[1].netns == "x");
  CHECK(s.actions[2].kind == ctsim::ActionSpec::Kind::kStats);
}

TEST_CASE("a run honours initial_jiffies and each listener's event filter") {
  ctsim::Scenario s = load(R"({"ctsim": 1, "initial_jiffies": 1000,
    "listeners": [{"name": "all"}, {"name": "destroy", "events": ["DESTROY"]}, {"name": "new", "events": ["NEW"]}],
    "packets": [{"at": "0s", "pkt": "udp 1.1.1.1:1 > 2.2.2.2:2"}, {"at": "1ms", "pkt": "udp 2.2.2.2:2 > 1.1.1.1:1"}],
    "actions": [{"at": "1s", "do": "flush"}]})");
  const std::string dir = ctest::temp_dir();
  ctsim::RunOptions opt;
  opt.trace_path = dir + "/t.jsonl";
  ctsim::RunSummary sum;
  {
    ctsim::Simulator sim(s, opt);
    REQUIRE(sim.run(&sum).ok());
  }
  std::istringstream in(ctest::read_file(opt.trace_path));
  std::string line;
  std::getline(in, line);
  CHECK(nlohmann::json::parse(line)["initial_jiffies"] == 1000);
  std::map<std::string, std::map<std::string, int>> seen;  // listener -> type -> count
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["kind"] == "event") ++seen[j["listener"].get<std::string>()][j["type"].get<std::string>()];
  }
  CHECK(seen["all"]["NEW"] == 1);
  CHECK(seen["all"]["DESTROY"] == 1);
  CHECK(seen["all"]["UPDATE"] >= 1);
  CHECK(seen["destroy"].size() == 1);
  CHECK(seen["destroy"]["DESTROY"] == 1);
  CHECK(seen["new"].size() == 1);
  CHECK(seen["new"]["NEW"] == 1);
}
