// The default scenario shows the kernel walk-through's steps, and running
// it twice gives the same bytes.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

std::vector<json> read_trace(const std::string& path) {
  std::vector<json> recs;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) recs.push_back(json::parse(line));
  return recs;
}

const json* find(const std::vector<json>& recs, const std::string& kind, int conn = -1, size_t from = 0,
                 size_t* at = nullptr) {
  for (size_t i = from; i < recs.size(); ++i) {
    if (recs[i].value("kind", "") != kind) continue;
    if (conn >= 0 && recs[i].value("conn", 0) != conn) continue;
    if (at) *at = i;
    return &recs[i];
  }
  return nullptr;
}

}  // namespace

TEST_CASE("seed-walkthrough: miss, new, confirm, reply match in a chain of 3, GC, free") {
  const std::string dir = temp_dir();
  RunResult r =
      run_ctsim("run " + source_path("scenarios/seed-walkthrough.json") + " --trace " + dir + "/t.jsonl --check");
  REQUIRE(r.code == 0);
  auto recs = read_trace(dir + "/t.jsonl");
  REQUIRE(recs.size() > 10);
  CHECK(recs[0]["ctsim_trace"] == 1);

  size_t at = 0;
  const json* miss = find(recs, "lookup", -1, 1, &at);
  REQUIRE(miss);
  CHECK((*miss)["match"].is_null());
  CHECK((*miss)["bucket"] == 474);
  const json* nw = find(recs, "new", 1);
  REQUIRE(nw);
  CHECK((*nw)["use"] == 1);
  CHECK((*nw)["cpu"] == 0);
  const json* conf = find(recs, "confirm", 1);
  REQUIRE(conf);
  CHECK((*conf)["bucket_orig"] == 474);
  CHECK((*conf)["bucket_reply"] == 154);
  CHECK((*conf)["use"] == 2);

  // The SYN-ACK (packet 4) is found through conn 1's REPLY node after
  // walking the two conns that joined bucket 154 later.
  bool saw_reply = false;
  for (const json& j : recs) {
    if (j.value("kind", "") == "lookup" && j.value("conn", 0) == 1 && j.value("match", json()) == "reply") {
      CHECK(j["chain"] == 3);
      CHECK(j["bucket"] == 154);
      saw_reply = true;
      break;
    }
  }
  CHECK(saw_reply);

  size_t dying_at = 0, destroy_at = 0, free_at = 0, gc_at = 0;
  const json* dying = find(recs, "dying", 1, 0, &dying_at);
  REQUIRE(dying);
  CHECK((*dying)["reason"] == "gc");
  REQUIRE(find(recs, "destroy", 1, dying_at, &destroy_at));
  REQUIRE(find(recs, "free", 1, destroy_at, &free_at));
  REQUIRE(find(recs, "gc", -1, free_at, &gc_at));
  CHECK(recs[gc_at]["expired"].get<int>() >= 1);
  // Expiry came 600 s after the last packet; the reap is within one sweep
  // of the 1024-bucket table (128 runs of at most 31 jiffies, about 16 s).
  const int64_t t = recs[dying_at]["t"];
  CHECK(t >= 600'006'000'000LL);
  CHECK(t <= 617'000'000'000LL);
  // The conn's deadline crossed the 32-bit jiffies wrap.
  CHECK(recs[dying_at]["jiffies"].get<uint64_t>() < 1'000'000u);
  const json& end = recs.back();
  CHECK(end["kind"] == "end");
  CHECK(end["conns_created"] == 3);
  CHECK(end["conns_freed"] == 3);
}

TEST_CASE("seed-walkthrough gives identical bytes on every run") {
  const std::string dir = temp_dir();
  const std::string s = source_path("scenarios/seed-walkthrough.json");
  REQUIRE(run_ctsim("run " + s + " --trace " + dir + "/a.jsonl --events " + dir + "/a.ev").code == 0);
  REQUIRE(run_ctsim("run " + s + " --trace " + dir + "/b.jsonl --events " + dir + "/b.ev").code == 0);
  CHECK(read_file(dir + "/a.jsonl") == read_file(dir + "/b.jsonl"));
  CHECK(read_file(dir + "/a.ev") == read_file(dir + "/b.ev"));
  CHECK(!read_file(dir + "/a.jsonl").empty());
}

TEST_CASE("a write error names the file, exits 2 and leaves nothing behind") {
  RunResult r = run_ctsim("run " + source_path("scenarios/seed-walkthrough.json") + " --trace /dev/full");
  CHECK(r.code == 2);
  CHECK(r.err.find("/dev/full: write error") != std::string::npos);
  const std::string dir = temp_dir();
  r = run_ctsim("run " + source_path("scenarios/seed-walkthrough.json") + " --trace " + dir +
                "/ok.jsonl --events /dev/full");
  CHECK(r.code == 2);
  CHECK_FALSE(file_exists(dir + "/ok.jsonl"));
}
