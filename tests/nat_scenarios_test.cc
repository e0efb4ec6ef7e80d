// NAT rules in scenarios: a conn's binding is decided by its first packet
// (a rule added later never applies), and the DNS race behind a DNAT service IP.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <nlohmann/json.hpp>
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
