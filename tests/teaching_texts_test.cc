// The teaching texts (scenario descriptions, docs/WALKTHROUGH.md) state
// v5.10's facts. Each case pins one sentence that was wrong and is now
// right (issue 21's list): it fails on the old text.
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (GCC 12 false positives, see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

std::string description(const std::string& scenario) {
  return nlohmann::json::parse(read_file(source_path(scenario)))["description"].get<std::string>();
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("dns-race-dnat-two-backends: the reply-only clash insertion came with v5.6") {
  const std::string d = description("scenarios/incidents/dns-race-dnat-two-backends.json");
  CHECK(has(d, "Before v5.6"));
  CHECK(!has(d, "v5.7"));
}

TEST_CASE("dns-race-resolved: no stale claim that ctsim has no NAT") {
  const std::string d = description("scenarios/incidents/dns-race-resolved.json");
  CHECK(!has(d, "models no NAT"));
  CHECK(has(d, "dns-race-dnat-two-backends.json"));
}

TEST_CASE("udplite: UDP in v5.10 is also ASSURED on the first packet after the reply") {
  const std::string d = description("scenarios/protocols/udplite.json");
  CHECK(!has(d, "unlike UDP in v5.10 there is no two-second stream rule, so the first packet after the reply already "
                "gets the 120 s timeout and ASSURED"));
  CHECK(has(d, "ASSURED on the first packet after the reply (as UDP in v5.10)"));
}

TEST_CASE("udplite and gre: the kernel quirks ctsim verify found on 6.18") {
  const std::string u = description("scenarios/protocols/udplite.json");
  CHECK(has(u, "verifies the checksum with IPPROTO_UDP (17) in the pseudo-header"));
  CHECK(has(u, "nf_conntrack_checksum=0"));
  const std::string g = description("scenarios/protocols/gre.json");
  CHECK(!has(g, "ctsim keys GRE tuples by the packet's key both ways"));
  CHECK(has(g, "each direction is its own [UNREPLIED] conn"));
}

TEST_CASE("removal and the walk-through: nf_ct_delete reports DESTROY before it unhashes") {
  const std::string d = description("scenarios/lifecycle/removal.json");
  CHECK(!has(d, "off the hash onto the dying list, DESTROY event"));
  CHECK(has(d, "reports the DESTROY event first, then nf_ct_delete_from_lists"));
  const std::string w = read_file(source_path("docs/WALKTHROUGH.md"));
  CHECK(!has(w, "off the hash onto the dying list, the\nDESTROY event"));
  CHECK(has(w, "`nf_ct_delete` reports the DESTROY event\nfirst"));
}

TEST_CASE("walk-through: v5.10's GC runs at least every HZ/8, not at most") {
  const std::string w = read_file(source_path("docs/WALKTHROUGH.md"));
  CHECK(!has(w, "at most every HZ/8"));
  CHECK(has(w, "at least every HZ/8"));
}

TEST_CASE("table-full: a dropped SYN is retried after 1 s, and the flow generator does so") {
  const std::string d = description("scenarios/incidents/table-full.json");
  CHECK(!has(d, "200 ms"));
  CHECK(has(d, "1 s for a SYN"));
  // The behaviour behind the sentence: the first dropped SYN comes again
  // 1 s later (then 2 s: TCP_TIMEOUT_INIT doubled), in the scenario's own
  // trace.
  const std::string dir = temp_dir();
  const RunResult r = run_ctsim("run " + shell_quote(source_path("scenarios/incidents/table-full.json")) +
                                " --quiet --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  // The first table-full drop, and when the same packet shows up again.
  std::string first_pkt;
  int64_t first_t = -1;
  std::vector<int64_t> again;
  std::map<int64_t, std::string> pkt_of;  // packet id -> notation
  std::map<int64_t, int64_t> t_of;
  std::istringstream in(read_file(dir + "/t.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    const std::string kind = rec.value("kind", "");
    if (kind == "pkt") {
      pkt_of[rec["id"]] = rec["pkt"];
      t_of[rec["id"]] = rec["t"];
      if (!first_pkt.empty() && rec["pkt"] == first_pkt) again.push_back(rec["t"]);
    }
    if (kind == "verdict" && first_pkt.empty() && rec.value("verdict", "") == "drop") {
      first_pkt = pkt_of[rec["id"]];
      first_t = t_of[rec["id"]];
    }
  }
  REQUIRE(!first_pkt.empty());
  REQUIRE(!again.empty());
  CHECK(again[0] - first_t == 1'000'000'000);
  if (again.size() >= 2) CHECK(again[1] - again[0] == 2'000'000'000);
}
