// A capture read ahead by its reader thread (sim/world/capture_source.h)
// gives the replay the same packets, skips, times and CPUs in the same
// order as reading it on the simulating thread, and a replay that ends
// before its capture does stops the thread.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/scenario/packet_notation.h"
#include "sim/scenario/scenario.h"
#include "sim/world/capture_source.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

namespace {

// TCP conns of 8 packets in two namespaces, `conns` in each.
std::string traffic_scenario(int conns) {
  return fmt::format(R"({{
    "ctsim": 1, "name": "two-boxes", "seed": 7, "cpus": 2,
    "namespaces": [ {{ "name": "a" }}, {{ "name": "b" }} ],
    "flows": [
      {{ "at": "0s", "kind": "tcp", "netns": "a", "cpu": 0, "count": {0}, "interval": "20us",
         "src": "10.0.0.0/16", "dst": "192.0.2.1:80", "rtt": "100us", "data_packets": 1, "close": "fin" }},
      {{ "at": "5us", "kind": "tcp", "netns": "b", "path": "input", "cpu": 1, "count": {0}, "interval": "20us",
         "src": "10.1.0.0/16", "dst": "192.0.2.2:443", "rtt": "100us", "data_packets": 1, "close": "fin" }}
    ],
    "until": "1s"
  }})",
                     conns);
}

// The capture replayed into namespace a only: b's frames name no
// interface of the entry and are skipped, between a's.
std::string replay_scenario(const std::string& pcap, const std::string& until) {
  return fmt::format(R"({{
    "ctsim": 1, "name": "replay", "seed": 7, "cpus": 2,
    "namespaces": [ {{ "name": "a" }}, {{ "name": "b" }} ],
    "captures": [ {{ "file": "{}", "interfaces": ["a/forward"], "cpu": "mac" }} ],
    "until": "{}"
  }})",
                     pcap, until);
}

ctsim::Scenario parse(const std::string& text) {
  ctsim::Scenario s;
  const ctsim::Status st = ctsim::parse_scenario("<test>", text, &s);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return s;
}

// 2 x 500 conns x 8 packets: 8,000 frames, past kInlineFrames.
std::string exported_capture() {
  static const std::string path = [] {
    const std::string p = ctest::temp_dir() + "/two.pcap";
    const ctsim::Scenario s = parse(traffic_scenario(500));
    ctsim::RunOptions ro;
    ro.injected_pcap_path = p;
    ctsim::Simulator sim(s, ro);
    ctsim::RunSummary sum;
    REQUIRE(sim.run(&sum).ok());
    REQUIRE(sum.packets == 8000);
    return p;
  }();
  return path;
}

struct Seen {
  std::vector<std::string> packets;  // notation, time and CPU of each, in order
  std::vector<std::string> skips;    // frame number and reason of each
  ctsim::CaptureSummary summary;
  bool read_ahead = false;
};

Seen read_all(const ctsim::Scenario& s, bool read_ahead) {
  ctsim::CaptureSource src(s.captures.at(0), s.cpus, read_ahead);
  REQUIRE(src.open().ok());
  Seen seen;
  for (;;) {
    const bool more = src.advance();
    for (const ctsim::CaptureSource::Skip& k : src.skips())
      seen.skips.push_back(fmt::format("{} {}", k.frame, ctsim::kFrameSkipNames[static_cast<size_t>(k.reason)]));
    if (!more) break;
    seen.packets.push_back(fmt::format("{} at {} cpu {} {}", ctsim::format_packet(src.packet()), src.at(), src.cpu(),
                                       src.place().netns));
    seen.read_ahead = seen.read_ahead || src.reading_ahead();
  }
  seen.summary = src.summary();
  return seen;
}

std::string run_trace(const ctsim::Scenario& s, bool read_ahead, ctsim::RunSummary* sum) {
  const std::string trace = ctest::temp_dir() + "/t.jsonl";
  ctsim::RunOptions ro;
  ro.capture_read_ahead = read_ahead;
  ro.trace_path = trace;
  ctsim::Simulator sim(s, ro);
  REQUIRE(sim.run(sum).ok());
  return ctest::read_file(trace);
}

// The process's threads (/proc/self/task).
size_t threads_now() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace

TEST_CASE("the reader thread gives the same frames in the same order as reading inline") {
  const ctsim::Scenario s = parse(replay_scenario(exported_capture(), "1s"));
  const Seen inline_read = read_all(s, false);
  const Seen ahead = read_all(s, true);
  CHECK_FALSE(inline_read.read_ahead);
  CHECK(ahead.read_ahead);  // 8,000 frames: the thread took over after kInlineFrames
  CHECK(inline_read.packets.size() == 4000);
  CHECK(inline_read.skips.size() == 4000);  // namespace b's frames: no interface
  CHECK(ahead.packets == inline_read.packets);
  CHECK(ahead.skips == inline_read.skips);
  CHECK(ahead.summary.frames == 8000);
  CHECK(ahead.summary.replayed == inline_read.summary.replayed);
  CHECK(ahead.summary.skipped == inline_read.summary.skipped);
  CHECK(ahead.summary.error == inline_read.summary.error);
}

TEST_CASE("a replay's trace is the same with and without the reader thread") {
  const ctsim::Scenario s = parse(replay_scenario(exported_capture(), "1s"));
  ctsim::RunSummary a;
  ctsim::RunSummary b;
  const std::string with_thread = run_trace(s, true, &a);
  const std::string without = run_trace(s, false, &b);
  CHECK(with_thread.find("\"kind\":\"skipped\"") != std::string::npos);
  CHECK(with_thread == without);
  CHECK(a.packets == 4000);
  CHECK(a.captures.at(0).frames == b.captures.at(0).frames);
}

TEST_CASE("a replay that ends before its capture stops the reader thread, and counts what it replayed") {
  // The flows run for about 10 ms of 1 s: ending at 6 ms leaves the reader
  // thread waiting on a full ring, which the run's end must close.
  const ctsim::Scenario s = parse(replay_scenario(exported_capture(), "6ms"));
  ctsim::RunSummary a;
  ctsim::RunSummary b;
  const std::string with_thread = run_trace(s, true, &a);
  const std::string without = run_trace(s, false, &b);
  CHECK(with_thread == without);
  CHECK(a.packets < 4000);
  CHECK(a.packets > 2048);  // past kInlineFrames' worth of frames: the thread ran
  CHECK(a.captures.at(0).frames == b.captures.at(0).frames);
  CHECK(a.captures.at(0).replayed == b.captures.at(0).replayed);
}

TEST_CASE("the run's end stops the reader thread, before the simulator is destroyed") {
  // ctsim leaves the simulator to the process's exit: the thread must not
  // outlive the run, reading a stdio stream while exit() flushes them.
  const ctsim::Scenario s = parse(replay_scenario(exported_capture(), "6ms"));
  const size_t before = threads_now();
  ctsim::RunOptions ro;
  ro.capture_read_ahead = true;
  ctsim::Simulator sim(s, ro);
  ctsim::RunSummary sum;
  REQUIRE(sim.run(&sum).ok());
  CHECK(sum.packets > 2048);  // the thread ran (see above)
  CHECK(threads_now() == before);
}
