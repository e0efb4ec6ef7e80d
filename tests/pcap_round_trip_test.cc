// The round trip scenario -> `ctsim export` -> capture -> replay: for every
// scenario under scenarios/ that sends packets, replaying the exported
// capture must give byte for byte the events, snapshots and end counters of
// running the scenario itself. The replay scenario is the original with
// its packets, flows and captures replaced by one `captures` entry (cpu
// "mac": the CPU each packet was on, as export marked it; offset: the first
// packet's time), so listeners, rules, actions and timing are the same.
// Where the packets arrive: one namespace and path is the entry's netns and
// path; several are its `interfaces`, in the order export numbered them
// (the order they first appear), each frame naming its own.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using ctest::read_file;
using ctest::repo_scenarios;
using ctest::run_ctsim;
using ctest::shell_quote;
using ctest::source_path;
using ctest::temp_dir;
using ctest::write_file;
using nlohmann::json;

namespace {

struct Injected {
  std::vector<std::string> places;  // "NETNS/PATH" of the packets, in the order they first appear
  int64_t first_t = -1;
};

// Where and from when the scenario's packets arrive, from its trace.
Injected injected_of(const std::string& trace) {
  Injected r;
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"kind\":\"pkt\"") == std::string::npos) continue;
    const json j = json::parse(line);
    if (r.first_t < 0) r.first_t = j["t"].get<int64_t>();
    const std::string place = j["net"].get<std::string>() + "/" + j["path"].get<std::string>();
    if (std::find(r.places.begin(), r.places.end(), place) == r.places.end()) r.places.push_back(place);
  }
  return r;
}

// Whether a scenario file sends packets: a non-empty packets, flows or
// captures section (counted from the file, not from the run).
bool sends_packets(const json& doc) {
  for (const char* k : {"packets", "flows", "captures"})
    if (doc.contains(k) && !doc[k].empty()) return true;
  return false;
}

}  // namespace

TEST_CASE("every scenario that sends packets replays from its exported capture with the same events and counters") {
  int with_packets = 0;
  int compared = 0;
  int several_places = 0;
  for (const std::string& rel : repo_scenarios()) {
    CAPTURE(rel);
    const std::string scenario = source_path(rel);
    json doc = json::parse(read_file(scenario));
    if (!sends_packets(doc)) continue;
    ++with_packets;
    const std::string dir = temp_dir();
    const ctest::RunResult orig =
        run_ctsim("run " + shell_quote(scenario) + " -q --trace " + dir + "/o.jsonl --events " + dir +
                  "/o.events --snapshots " + dir + "/o.snapshots");
    REQUIRE(orig.code == 0);
    const Injected inj = injected_of(read_file(dir + "/o.jsonl"));
    REQUIRE(!inj.places.empty());
    const ctest::RunResult ex = run_ctsim("export " + shell_quote(scenario) + " --pcap " + dir + "/x.pcap");
    REQUIRE(ex.code == 0);
    doc.erase("packets");
    doc.erase("flows");
    json entry{{"file", dir + "/x.pcap"}, {"cpu", "mac"}, {"offset", std::to_string(inj.first_t) + "ns"}};
    if (inj.places.size() == 1) {
      const std::string& place = inj.places.front();
      entry["netns"] = place.substr(0, place.rfind('/'));
      entry["path"] = place.substr(place.rfind('/') + 1);
    } else {
      entry["interfaces"] = inj.places;
      ++several_places;
    }
    doc["captures"] = json::array({entry});
    write_file(dir + "/replay.json", doc.dump(2));
    const ctest::RunResult rep = run_ctsim("run " + dir + "/replay.json -q --check --events " + dir +
                                           "/r.events --snapshots " + dir + "/r.snapshots");
    REQUIRE_MESSAGE(rep.code == 0, rep.err);
    CHECK(read_file(dir + "/r.events") == read_file(dir + "/o.events"));
    // The snapshots file ends with every namespace's conntrack -S: the counters.
    CHECK(read_file(dir + "/r.snapshots") == read_file(dir + "/o.snapshots"));
    ++compared;
  }
  // Every scenario that sends packets went round, none skipped; and the
  // ones whose packets arrive in several namespaces or by several paths
  // are among them (their `interfaces` entry is what carries them).
  CHECK(with_packets > 0);
  CHECK(compared == with_packets);
  CHECK(several_places > 0);
}

TEST_CASE("export writes a classic nanosecond pcap, one frame per injected packet") {
  const std::string dir = temp_dir();
  const ctest::RunResult ex =
      run_ctsim("export " + shell_quote(source_path("scenarios/seed-walkthrough.json")) + " --pcap " + dir + "/s.pcap");
  REQUIRE(ex.code == 0);
  CHECK(ex.err.find("9 packets exported") != std::string::npos);
  const std::string bytes = read_file(dir + "/s.pcap");
  // Classic pcap, nanosecond magic (0xa1b23c4d, little-endian on disk).
  REQUIRE(bytes.size() > 24);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x4d);
  CHECK(static_cast<unsigned char>(bytes[3]) == 0xa1);
}

TEST_CASE("export names a several-namespace scenario's interfaces; a captures entry reads them, or refuses") {
  const std::string dir = temp_dir();
  const ctest::RunResult ex =
      run_ctsim("export " + shell_quote(source_path("scenarios/incidents/netns-shared-table.json")) + " --pcap " + dir +
                "/x.pcapng --pcap-format pcapng");
  REQUIRE(ex.code == 0);
  // In the order they first appear: the numbering of the destination MACs
  // and of the pcapng interfaces.
  CHECK(ex.err.find("; interfaces: \"tenant-a/forward\", \"tenant-b/forward\"\n") != std::string::npos);
  const std::string bytes = read_file(dir + "/x.pcapng");
  CHECK(bytes.find("tenant-a/forward") < bytes.find("tenant-b/forward"));
  CHECK(bytes.find(std::string("\x02\0\0\0\0\x02", 6)) != std::string::npos);  // a frame of interface 1

  // A capture that export did not write (real MACs): no frame names an
  // interface, each is skipped and counted as such.
  // Each run writes its events to its own file: a refused one writes none.
  int runs = 0;
  auto scenario = [&](const std::string& entry) {
    write_file(dir + "/s.json",
               R"({"ctsim": 1, "namespaces": [{"name": "a"}, {"name": "b"}], "captures": [)" + entry + "]}");
    return run_ctsim("run " + dir + "/s.json --events " + dir + "/e" + std::to_string(++runs));
  };
  const std::string eth = json(source_path("tests/data/pcap/tcp-eth.pcap")).dump();
  const ctest::RunResult foreign = scenario(R"({"file": )" + eth + R"(, "interfaces": ["a/forward", "b/input"]})");
  CHECK(foreign.code == 0);
  CHECK(foreign.err.find("8 frames, 0 replayed, skipped: 8 no-interface") != std::string::npos);
  // Where each packet arrives is said once: interfaces, or netns and path.
  const ctest::RunResult both = scenario(R"({"file": )" + eth + R"(, "netns": "a", "interfaces": ["a/forward"]})");
  CHECK(both.code == 2);
  CHECK(both.err.find("/captures/0/interfaces: \"interfaces\" says where each packet arrives: leave out \"netns\" "
                      "and \"path\"") != std::string::npos);
  const ctest::RunResult bad_path = scenario(R"({"file": )" + eth + R"(, "interfaces": ["a/sideways"]})");
  CHECK(bad_path.code == 2);
  CHECK(bad_path.err.find("/captures/0/interfaces/0: expected \"NETNS/PATH\" with PATH forward, input or output") !=
        std::string::npos);
  const ctest::RunResult bad_ns = scenario(R"({"file": )" + eth + R"(, "interfaces": ["a/forward", "c/input"]})");
  CHECK(bad_ns.code == 2);
  CHECK(bad_ns.err.find("/captures/0/interfaces/1: no namespace \"c\"") != std::string::npos);
  for (int refused = 2; refused <= runs; ++refused) CHECK(!ctest::file_exists(dir + "/e" + std::to_string(refused)));
}

TEST_CASE("a capture into a namespace that netns_add creates and netns_del removes: sent only while it lives") {
  // The replay looks its namespace up once and keeps the answer while the
  // core's list of namespaces does not grow (Simulator::capture_net): the
  // packets at 2 s and 4 s go into "green", added at 1 s; the one at 6 s,
  // after green is gone, is sent by nobody.
  const std::string dir = temp_dir();
  write_file(dir + "/s.json", R"({"ctsim": 1, "namespaces": [{"name": "blue"}], "packets": [
      {"at": "0s", "netns": "blue", "pkt": "udp 198.18.0.1:1000 > 198.18.1.1:53"},
      {"at": "2s", "netns": "blue", "pkt": "udp 198.18.0.1:1000 > 198.18.1.1:53"},
      {"at": "4s", "netns": "blue", "pkt": "udp 198.18.0.1:1000 > 198.18.1.1:53"}]})");
  REQUIRE(run_ctsim("export " + dir + "/s.json --pcap " + dir + "/c.pcap").code == 0);
  write_file(dir + "/r.json", R"({"ctsim": 1, "namespaces": [{"name": "blue"}],
      "captures": [{"file": "c.pcap", "netns": "green", "offset": "2s"}],
      "actions": [{"at": "1s", "do": "netns_add", "name": "green"}, {"at": "5s", "do": "netns_del", "name": "green"}],
      "until": "8s"})");
  const ctest::RunResult r = run_ctsim("run " + dir + "/r.json -q --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  const std::string t = read_file(dir + "/t.jsonl");
  CHECK(t.find(R"({"t":2000000000,"jiffies":4294892796,"kind":"pkt","net":"green")") != std::string::npos);
  CHECK(t.find(R"({"t":4000000000,"jiffies":4294893296,"kind":"pkt","net":"green")") != std::string::npos);
  CHECK(t.find(R"("kind":"new","net":"green","cpu":0,"conn":1,)") != std::string::npos);
  CHECK(t.find(R"({"t":6000000000,)") == std::string::npos);
  CHECK(t.find(R"("kind":"end","packets":2,"conns_created":1,"conns_freed":1,)") != std::string::npos);
}
