// NAT rules in scenarios: a conn's binding is decided by its first packet
// (a rule added later never applies), and the DNS race behind a DNAT service IP.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "sim/scenario/scenario.h"
#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

std::vector<json> trace_of(const std::string& scenario) {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + source_path(scenario) + " --check --quiet --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  std::vector<json> recs;
  std::istringstream in(read_file(dir + "/t.jsonl"));
  std::string line;
  while (std::getline(in, line)) recs.push_back(json::parse(line));
  return recs;
}

std::vector<const json*> of(const std::vector<json>& recs, const std::string& kind) {
  std::vector<const json*> out;
  for (const json& r : recs)
    if (r.value("kind", "") == kind) out.push_back(&r);
  return out;
}

}  // namespace

TEST_CASE("incidents/nat-first-packet: a rule added later never applies to an existing conn") {
  auto recs = trace_of("scenarios/incidents/nat-first-packet.json");
  std::vector<const json*> dst;
  for (const json* n : of(recs, "nat"))
    if ((*n)["manip"] == "dst") dst.push_back(n);
  REQUIRE(dst.size() == 3);
  // conn 1 (before the rule): null binding; its reply still from the VIP.
  CHECK((*dst[0])["conn"] == 1);
  CHECK((*dst[0])["binding"] == "null");
  CHECK((*dst[0])["reply"] == "udp 10.96.0.10:53 > 10.0.0.5:5000");
  // conn 2 (a new flow after the rule) is mapped to the backend.
  CHECK((*dst[1])["conn"] == 2);
  CHECK((*dst[1])["binding"] == "mapped");
  CHECK((*dst[1])["reply"] == "udp 10.1.0.2:53 > 10.0.0.6:5001");
  // The old flow keeps its conn (refreshed every 5 s) until the flush at
  // 30 s; its next packet makes conn 3, which the rule maps.
  CHECK((*dst[2])["conn"] == 3);
  CHECK((*dst[2])["t"] == 30'000'000'000LL);
  CHECK((*dst[2])["binding"] == "mapped");
  for (const json* d : of(recs, "dying"))
    if ((*d)["conn"] == 1) CHECK((*d)["reason"] == "flush");
  // The snapshot at 20 s still holds conn 1 with its null binding.
  bool seen = false;
  for (const json* s : of(recs, "snapshot"))
    if ((*s)["t"] == 20'000'000'000LL)
      for (const json& e : (*s)["entries"])
        if (e["conn"] == 1) {
          seen = true;
          CHECK(e["reply"] == "udp 10.96.0.10:53 > 10.0.0.5:5000");
        }
  CHECK(seen);
}

TEST_CASE("dns race behind DNAT: one backend merges, two backends insert reply-only") {
  auto same = trace_of("scenarios/incidents/dns-race-dnat-same-backend.json");
  auto two = trace_of("scenarios/incidents/dns-race-dnat-two-backends.json");
  auto clash_of = [](const std::vector<json>& recs) {
    for (const json& r : recs)
      if (r.value("kind", "") == "clash") return r;
    return json();
  };
  CHECK(clash_of(same)["outcome"] == "merged into winner");
  CHECK(clash_of(two)["outcome"] == "inserted reply-only");
  CHECK(clash_of(two)["winner"] == 1);
  for (const auto* recs : {&same, &two}) {
    const json& end = recs->back();
    CHECK(end["stats"]["clash_resolve"] == 1);
    CHECK(end["stats"]["insert_failed"] == 0);
    CHECK(end["stats"]["drop"] == 0);
  }
  // The reply-only entry is NAT_CLASH with a fixed 1 s timeout.
  bool reply_only = false;
  for (const json& r : two)
    if (r.value("kind", "") == "snapshot")
      for (const json& e : r["entries"]) reply_only |= e["status"].dump().find("IPS_NAT_CLASH") != std::string::npos;
  CHECK_FALSE(reply_only);  // conntrack -L hides it: only its REPLY node is in the table
}

namespace {

// The last `stats` record of each CPU of the run.
std::map<int, json> last_stats(const std::vector<json>& recs) {
  std::map<int, json> out;
  for (const json* r : of(recs, "stats")) out[(*r)["cpu"].get<int>()] = *r;
  return out;
}

uint16_t mapped_sport(const json& nat) {
  // "reply": "tcp 203.0.113.10:443 > 192.0.2.10:PORT"
  const std::string reply = nat["reply"];
  return static_cast<uint16_t>(std::stoi(reply.substr(reply.rfind(':') + 1)));
}

}  // namespace

TEST_CASE("nat/snat-port-collision: five clients behind one address all confirm, colliders get class ports") {
  auto recs = trace_of("scenarios/nat/snat-port-collision.json");
  std::vector<const json*> src;
  for (const json* n : of(recs, "nat"))
    if ((*n)["manip"] == "src") src.push_back(n);
  REQUIRE(src.size() == 5);
  // Clients 1-3 use port 40000, 4-5 port 700.
  CHECK(mapped_sport(*src[0]) == 40000);
  CHECK((*src[0])["how"] == "in_range");
  for (int k : {1, 2}) {
    CHECK((*src[k])["how"] == "unique");
    CHECK(mapped_sport(*src[k]) >= 1024);
  }
  CHECK(mapped_sport(*src[1]) != mapped_sport(*src[2]));
  CHECK(mapped_sport(*src[3]) == 700);
  CHECK((*src[4])["how"] == "unique");
  CHECK(mapped_sport(*src[4]) >= 600);
  CHECK(mapped_sport(*src[4]) <= 1023);
  const json st = last_stats(recs).at(0);
  CHECK(st["found"] == 3);
  CHECK(st["insert_failed"] == 0);
  CHECK(st["drop"] == 0);
  CHECK(of(recs, "confirm").size() == 5);
}

TEST_CASE("incidents/snat-port-race: both pods keep port 40000, the second SYN is dropped at confirm") {
  auto recs = trace_of("scenarios/incidents/snat-port-race.json");
  std::vector<const json*> src;
  for (const json* n : of(recs, "nat"))
    if ((*n)["manip"] == "src") src.push_back(n);
  REQUIRE(src.size() == 3);
  // Mapped before either confirms: both keep the port.
  CHECK(mapped_sport(*src[0]) == 40000);
  CHECK(mapped_sport(*src[1]) == 40000);
  // The retransmission a second later finds 40000 taken and moves.
  CHECK((*src[2])["how"] == "unique");
  CHECK(mapped_sport(*src[2]) != 40000);
  CHECK((*src[2])["t"] == 1'000'000'000LL);
  const auto st = last_stats(recs);
  CHECK(st.at(1)["insert_failed"] == 1);
  CHECK(st.at(1)["drop"] == 1);
  CHECK(st.at(0)["insert_failed"] == 0);
  std::vector<const json*> drops;
  for (const json* v : of(recs, "verdict"))
    if ((*v)["verdict"] == "drop") drops.push_back(v);
  REQUIRE(drops.size() == 1);
  CHECK((*drops[0])["conn"] == 2);
  CHECK((*drops[0])["reason"] == "nf_conntrack_confirm");
}

TEST_CASE("incidents/snat-port-race-fully-random: random ports, both confirm") {
  auto recs = trace_of("scenarios/incidents/snat-port-race-fully-random.json");
  std::vector<const json*> src;
  for (const json* n : of(recs, "nat"))
    if ((*n)["manip"] == "src") src.push_back(n);
  REQUIRE(src.size() == 2);
  CHECK((*src[0])["how"] == "unique");
  CHECK((*src[1])["how"] == "unique");
  CHECK(mapped_sport(*src[0]) != mapped_sport(*src[1]));
  CHECK((*src[0])["range"] == "192.0.2.10 fully-random");
  for (const auto& entry : last_stats(recs)) {
    const int cpu = entry.first;
    const json& st = entry.second;
    CAPTURE(cpu);
    CHECK(st["insert_failed"] == 0);
    CHECK(st["drop"] == 0);
  }
  CHECK(of(recs, "confirm").size() == 2);
}

TEST_CASE("random port draws are reproducible from the seed, and change with it") {
  const std::string dir = temp_dir();
  json doc = json::parse(read_file(source_path("scenarios/incidents/snat-port-race-fully-random.json")));
  auto ports = [&](uint64_t seed, const std::string& name) {
    doc["seed"] = seed;
    const std::string path = dir + "/" + name + ".json";
    write_file(path, doc.dump());
    RunResult r = run_ctsim("run " + path + " --quiet --trace " + dir + "/" + name + ".jsonl");
    REQUIRE(r.code == 0);
    std::vector<uint16_t> out;
    std::istringstream in(read_file(dir + "/" + name + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      const json rec = json::parse(line);
      if (rec.value("kind", "") == "nat" && rec.value("manip", "") == "src") out.push_back(mapped_sport(rec));
    }
    return out;
  };
  const auto a = ports(3, "a"), b = ports(3, "b"), c = ports(4, "c");
  REQUIRE(a.size() == 2);
  CHECK(a == b);
  CHECK(a != c);
  for (uint16_t p : c) CHECK(p >= 1024);
}

TEST_CASE("NAT rules are refused where NAT cannot work") {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {R"({"ctsim": 1, "rules": [{"hook": "forward", "verdict": "dnat", "to": "10.1.0.1"}]})",
       "/rules/0/verdict: dnat works at the prerouting and output hooks only"},
      {R"({"ctsim": 1, "rules": [{"hook": "prerouting", "verdict": "snat", "to": "10.1.0.1"}]})",
       "/rules/0/verdict: snat works at the postrouting and input hooks only"},
      {R"({"ctsim": 1, "rules": [{"hook": "prerouting", "verdict": "dnat"}]})",
       "/rules/0: a dnat verdict needs \"to\" (the address to map to, e.g. \"10.1.0.1:53\")"},
      {R"({"ctsim": 1, "rules": [{"hook": "prerouting", "verdict": "accept", "to": "10.1.0.1"}]})",
       "/rules/0/to: \"to\" only applies to the dnat, snat and masquerade verdicts"},
      {R"({"ctsim": 1, "rules": [{"hook": "prerouting", "verdict": "dnat", "to": "10.1.0.0/24"}]})",
       "/rules/0/to: \"10.1.0.0/24\": NAT maps to an address or an address range (A-B), not a prefix"},
      {R"({"ctsim": 1, "rules": [{"hook": "prerouting", "verdict": "masquerade"}]})",
       "/rules/0/verdict: masquerade works at the postrouting hook only"},
      {R"({"ctsim": 1, "rules": [{"hook": "postrouting", "verdict": "masquerade", "to": "10.1.0.1"}]})",
       "/rules/0/to: \"10.1.0.1\": masquerade takes the outgoing address; give only ports (\":1024-65535\")"},
      {R"({"ctsim": 1, "rules": [{"hook": "postrouting", "verdict": "snat", "to": "10.1.0.9-10.1.0.1"}]})",
       "/rules/0/to: \"10.1.0.9-10.1.0.1\": the range's first address is above its last"},
      {R"({"ctsim": 1, "rules": [{"hook": "postrouting", "verdict": "snat", "to": "10.1.0.1-2001:db8::1"}]})",
       "both ends of an address range must be of one family"},
      {R"({"ctsim": 1, "rules": [{"hook": "postrouting", "verdict": "snat", "to": "10.1.0.1", "flags": ["randomly"]}]})",
       "/rules/0/flags/0: "},
      {R"({"ctsim": 1, "rules": [{"hook": "postrouting", "verdict": "accept", "flags": ["random"]}]})",
       "/rules/0/flags: \"flags\" only apply to the dnat, snat and masquerade verdicts"},
      {R"({"ctsim": 1, "namespaces": [{"name": "a", "addresses": ["10.0.0.0/8"]}]})",
       "/namespaces/0/addresses/0: \"10.0.0.0/8\": expected one address (no prefix, no port)"},
      {R"({"ctsim": 1, "actions": [{"at": "1s", "do": "addr_del"}]})", "/actions/0"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    ctsim::Scenario s;
    ctsim::Status st = ctsim::parse_scenario("nat.json", c.text, &s);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find(c.message) != std::string::npos);
  }
}
