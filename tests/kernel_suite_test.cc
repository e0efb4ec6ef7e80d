// tests/kernel/: the differential suite that `ctsim verify` plays on the live
// kernel and compares with ctsim (issue 15). Before that comparison can run,
// each scenario is checked here against ctsim itself under the live kernel's
// profile (6.18-late), so that the suite means something on any machine:
//
//  1. it is playable by `ctsim kernel-run`: no "kernel" key (verify picks the
//     profile), an explicit "until" of at most 8 s and at most 180 s for the
//     whole suite, at most 2 CPUs, packets at least 1 ms apart unless the
//     scenario is marked as a race ("verify": counts), and none of what
//     kernel-run refuses (hook_time, queue verdicts, read_every, captures,
//     table keys other than max, NAT to more than one address);
//  2. it runs under --kernel 6.18-late with --check (the core's invariants
//     after every event);
//  3. it shows the facts its row of tests/kernel/README.md promises: event
//     lines in order, snapshot lines in order, counts of event lines, and
//     the conntrack -S counters summed over the CPUs at the end of the run.
//
// Every scenario of the folder must have its facts here (and every facts
// entry a file), so a scenario cannot be added unchecked.
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (GCC 12 false positives, see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/scenario.h"
#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1000 * kMs;

struct Facts {
  const char* file;
  // Substrings that must appear in the --events output, each on a later line
  // than the one before.
  std::vector<const char*> events;
  // The same for the --snapshots output (conntrack -L and -S dumps).
  std::vector<const char*> snapshots;
  // (substring, n): exactly n lines of --events contain the substring.
  std::vector<std::pair<const char*, int>> event_counts;
  // (counter, value): conntrack -S at the end of the run, summed over CPUs.
  std::vector<std::pair<const char*, uint64_t>> totals;
};

// Counters not listed in a scenario's `totals` must be 0 at the end.
const char* const kCounters[] = {"found",      "invalid", "insert",         "insert_failed", "drop",
                                 "early_drop", "error",   "search_restart", "clash_resolve", "chaintoolong"};

const std::vector<Facts>& suite_facts() {
  static const std::vector<Facts> kFacts = {
      {"tcp-close-client-first.json",
       {"[NEW] tcp      6 120 SYN_SENT", "[UPDATE] tcp      6 60 SYN_RECV", "[UPDATE] tcp      6 432000 ESTABLISHED",
        "[UPDATE] tcp      6 120 FIN_WAIT", "[UPDATE] tcp      6 60 CLOSE_WAIT", "[UPDATE] tcp      6 30 LAST_ACK",
        "[UPDATE] tcp      6 120 TIME_WAIT"},
       {"tcp      6 431999 ESTABLISHED", "tcp      6 119 TIME_WAIT"},
       {{"[NEW]", 1}, {"[UPDATE]", 6}, {"[DESTROY]", 0}},
       {}},
      {"tcp-close-server-first.json",
       {"ESTABLISHED", "[UPDATE] tcp      6 120 FIN_WAIT", "[UPDATE] tcp      6 60 CLOSE_WAIT",
        "[UPDATE] tcp      6 30 LAST_ACK", "[UPDATE] tcp      6 120 TIME_WAIT"},
       {"tcp      6 59 CLOSE_WAIT", "tcp      6 119 TIME_WAIT"},
       {{"[NEW]", 1}, {"[UPDATE]", 6}},
       {}},
      {"tcp-simultaneous-close.json",
       {"ESTABLISHED", "[UPDATE] tcp      6 120 FIN_WAIT", "[UPDATE] tcp      6 30 LAST_ACK",
        "[UPDATE] tcp      6 120 TIME_WAIT"},
       {"tcp      6 29 LAST_ACK", "tcp      6 119 TIME_WAIT"},
       {{"[NEW]", 1}, {"[UPDATE]", 5}},
       {}},
      {"tcp-simultaneous-open.json",
       {"[NEW] tcp      6 120 SYN_SENT", "[UPDATE] tcp      6 119 SYN_SENT2", "[UPDATE] tcp      6 60 SYN_RECV",
        "[UPDATE] tcp      6 432000 ESTABLISHED"},
       {"tcp      6 119 SYN_SENT2", "tcp      6 431999 ESTABLISHED"},
       {{"[NEW]", 1}, {"[UPDATE]", 3}},
       {}},
      {"tcp-time-wait-reopen.json",
       {"[UPDATE] tcp      6 120 TIME_WAIT", "[DESTROY] tcp      6 119 TIME_WAIT", "[NEW] tcp      6 120 SYN_SENT",
        "[UPDATE] tcp      6 432000 ESTABLISHED"},
       {"tcp      6 119 TIME_WAIT", "tcp      6 431999 ESTABLISHED"},
       {{"[NEW]", 2}, {"[DESTROY]", 1}},
       {}},  // C3: the reopen counts no invalid under 6.18
      {"tcp-rst-in-window.json",
       {"ESTABLISHED", "[UPDATE] tcp      6 1 CLOSE", "[DESTROY] tcp      6 CLOSE", "[NEW] tcp      6 120 SYN_SENT"},
       {"tcp      6 431999 ESTABLISHED", "tcp      6 0 CLOSE", "# 0 flow entries", "tcp      6 119 SYN_SENT"},
       {{"[NEW]", 2}, {"[DESTROY]", 1}},
       {}},
      {"tcp-rst-out-of-window.json",
       {"ESTABLISHED", "[UPDATE] tcp      6 10 CLOSE"},
       {"tcp      6 431999 ESTABLISHED", "invalid=1", "tcp      6 9 CLOSE"},
       {{"[UPDATE]", 3}},
       {{"invalid", 1}}},
      {"tcp-out-of-window-strict.json",
       {"ESTABLISHED"},
       {"tcp      6 431999 ESTABLISHED", "invalid=1"},
       {{"[NEW]", 1}, {"[UPDATE]", 2}},
       {{"invalid", 1}}},
      {"tcp-out-of-window-liberal.json",
       {"ESTABLISHED"},
       {"tcp      6 431999 ESTABLISHED"},
       {{"[NEW]", 1}, {"[UPDATE]", 2}},
       {}},
      {"tcp-liberal-sysctl-midrun.json",
       {"ESTABLISHED"},
       {"invalid=1", "tcp      6 431999 ESTABLISHED"},
       {{"[NEW]", 1}, {"[UPDATE]", 2}},
       {{"invalid", 1}}},
      {"tcp-invalid-segments.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.10 dst=10.2.0.1 sport=40013"},
       {"sport=40013", "invalid=3"},
       {{"[NEW]", 1}},
       {{"invalid", 3}}},
      {"udp-unreplied.json",
       {"[NEW] udp      17 30 src=10.1.0.20"},
       {"udp      17 29 src=10.1.0.20 dst=10.2.0.53 sport=5000 dport=53 [UNREPLIED]",
        "udp      17 29 src=10.1.0.20 dst=10.2.0.53 sport=5000 dport=53 [UNREPLIED]"},
       {{"[NEW]", 1}, {"[UPDATE]", 0}},
       {}},
      {"udp-replied.json",
       {"[NEW] udp      17 30", "[UPDATE] udp      17 30 src=10.1.0.21 dst=10.2.0.53 sport=5001 dport=53 src="},
       {"udp      17 29 src=10.1.0.21 dst=10.2.0.53 sport=5001 dport=53 src=10.2.0.53 dst=10.1.0.21 sport=53 "
        "dport=5001 "
        "mark=0"},
       {{"[NEW]", 1}, {"[UPDATE]", 1}, {"ASSURED", 0}},
       {}},
      {"udp-stream.json",
       {"[NEW] udp      17 30", "[UPDATE] udp      17 30",
        "[UPDATE] udp      17 60 src=10.1.0.22 dst=10.2.0.22 sport=6000 "
        "dport=6001 src=10.2.0.22 dst=10.1.0.22 sport=6001 dport=6000 "
        "[ASSURED]"},
       {"udp      17 29 src=10.1.0.22", "udp      17 59 src=10.1.0.22"},
       {{"[UPDATE]", 2}, {"ASSURED", 1}},
       {}},
      {"udp-timeout-sysctl-midrun.json",
       {"[NEW] udp      17 30", "[DESTROY] udp      17 src=10.1.0.23", "[NEW] udp      17 2 src=10.1.0.23"},
       {"udp      17 29 src=10.1.0.23", "udp      17 1 src=10.1.0.23", "# snapshot at 3.5", "# 0 flow entries",
        "udp      17 1 src=10.1.0.23"},
       {{"[NEW]", 2}, {"[DESTROY]", 1}},
       {}},
      {"udp-expired-reaped-by-lookup.json",
       {"[NEW] udp      17 1 src=10.1.0.24", "[DESTROY] udp      17 src=10.1.0.24",
        "[NEW] udp      17 1 src=10.1.0.24"},
       {"udp      17 0 src=10.1.0.24", "udp      17 0 src=10.1.0.24"},
       {{"[NEW]", 2}, {"[DESTROY]", 1}},
       {}},
      {"udp-dns-race.json",
       {"[NEW] udp      17 30 src=10.1.0.25", "[UPDATE] udp      17 30 src=10.1.0.25"},
       {"udp      17 29 src=10.1.0.25 dst=10.2.0.53 sport=33000 dport=53 src=", "clash_resolve=1"},
       {{"[NEW]", 1}, {"[UPDATE]", 1}},
       {{"clash_resolve", 1}}},
      {"icmp-echo.json",
       {"[NEW] icmp     1 30 src=10.1.0.30 dst=10.2.0.30 type=8 code=0 id=4660 [UNREPLIED]",
        "[UPDATE] icmp     1 30 src=10.1.0.30 dst=10.2.0.30 type=8 code=0 id=4660 src="},
       {"icmp     1 29 src=10.1.0.30 dst=10.2.0.30 type=8 code=0 id=4660 [UNREPLIED]",
        "icmp     1 29 src=10.1.0.30 dst=10.2.0.30 type=8 code=0 id=4660 src="},
       {{"[NEW]", 1}, {"[UPDATE]", 1}},
       {}},
      {"icmp-error-port-unreachable.json",
       {"[NEW] udp      17 30 src=10.1.0.31"},
       {"udp      17 29 src=10.1.0.31 dst=10.2.0.31 sport=5002 dport=161 [UNREPLIED]", "error=1"},
       {{"[NEW]", 1}, {"[UPDATE]", 0}, {"icmp", 0}},
       {{"error", 1}}},
      {"icmp-error-ttl-exceeded.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.32"},
       {"tcp      6 119 SYN_SENT src=10.1.0.32", "tcp      6 118 SYN_SENT src=10.1.0.32"},
       {{"[NEW]", 1}, {"[UPDATE]", 0}, {"icmp", 0}},
       {}},
      {"icmpv6-echo.json",
       {"[NEW] icmpv6   58 30 src=2001:db8:1::40 dst=2001:db8:2::40 type=128 code=0 id=7 [UNREPLIED]",
        "[UPDATE] icmpv6   58 30 src=2001:db8:1::40"},
       {"icmpv6   58 29 src=2001:db8:1::40 dst=2001:db8:2::40 type=128 code=0 id=7 [UNREPLIED]",
        "icmpv6   58 29 src=2001:db8:1::40 dst=2001:db8:2::40 type=128 code=0 id=7 src="},
       {{"[NEW]", 1}, {"[UPDATE]", 1}},
       {}},
      {"icmpv6-error.json",
       {"[NEW] udp      17 30 src=2001:db8:1::41", "[NEW] tcp      6 120 SYN_SENT src=2001:db8:1::42",
        "[UPDATE] tcp      6 432000 ESTABLISHED src=2001:db8:1::42"},
       {"udp      17 29 src=2001:db8:1::41 dst=2001:db8:2::41 sport=5003 dport=53 [UNREPLIED]",
        "tcp      6 431999 ESTABLISHED src=2001:db8:1::42"},
       {{"[NEW]", 2}, {"[UPDATE]", 2}, {"icmpv6", 0}},
       {}},
      {"gre.json",
       {"[NEW] gre      47 30 src=10.1.0.50 dst=10.2.0.50 srckey=0x0 dstkey=0x0 [UNREPLIED]", "[UPDATE] gre      47 30",
        "[UPDATE] gre      47 180 src=10.1.0.50 dst=10.2.0.50 srckey=0x0 dstkey=0x0 src=10.2.0.50 dst=10.1.0.50 "
        "srckey=0x0 dstkey=0x0 [ASSURED]"},
       {"gre      47 29 src=10.1.0.50", "gre      47 179 src=10.1.0.50"},
       {{"[NEW]", 1}, {"[UPDATE]", 2}},
       {}},
      {"sctp-association.json",
       {"[NEW] sctp     132 10 CLOSED src=10.1.0.60", "[UPDATE] sctp     132 3 COOKIE_WAIT",
        "[UPDATE] sctp     132 3 COOKIE_ECHOED", "[UPDATE] sctp     132 210 ESTABLISHED",
        "[UPDATE] sctp     132 3 SHUTDOWN_SENT", "[UPDATE] sctp     132 3 SHUTDOWN_ACK_SENT",
        "[UPDATE] sctp     132 10 CLOSED"},
       {"sctp     132 209 ESTABLISHED", "invalid=1", "sctp     132 9 CLOSED"},
       {{"[NEW]", 1}, {"[UPDATE]", 6}},
       {{"invalid", 1}}},
      {"sctp-abort-reinit.json",
       {"[NEW] sctp     132 10 CLOSED src=10.1.0.61", "[UPDATE] sctp     132 3 COOKIE_WAIT",
        "[UPDATE] sctp     132 3 COOKIE_ECHOED", "[UPDATE] sctp     132 210 ESTABLISHED",
        "[UPDATE] sctp     132 10 CLOSED"},
       {"sctp     132 209 ESTABLISHED", "sctp     132 6 CLOSED", "invalid=1"},
       {{"[NEW]", 1}, {"[UPDATE]", 4}, {"COOKIE_WAIT", 1}},
       {{"invalid", 1}}},
      {"sctp-secondary-path.json",
       {"[NEW] sctp     132 30 HEARTBEAT_SENT src=10.1.0.62",
        "[UPDATE] sctp     132 210 ESTABLISHED src=10.1.0.62 dst=10.2.0.62 sport=5000 dport=5001 src=10.2.0.62 "
        "dst=10.1.0.62 sport=5001 dport=5000 [ASSURED]",
        "[NEW] sctp     132 10 CLOSED src=10.1.0.63", "[UPDATE] sctp     132 9 src=10.1.0.63",
        "[UPDATE] sctp     132 3 COOKIE_WAIT src=10.1.0.63"},
       {"sctp     132 209 ESTABLISHED src=10.1.0.62", "sctp     132 2 COOKIE_WAIT src=10.1.0.63", "invalid=1"},
       {{"[NEW]", 2}, {"[UPDATE]", 3}},
       {{"invalid", 1}}},
      {"dccp-generic-tracker.json",
       {"[NEW] dccp     33 600 src=10.1.0.21 dst=10.2.0.80 sport=0 dport=0 [UNREPLIED] src=10.2.0.80 dst=10.1.0.21 "
        "sport=0 dport=0",
        "[UPDATE] dccp     33 600 src=10.1.0.21 dst=10.2.0.80 sport=0 dport=0 src=10.2.0.80"},
       {"dccp     33 599 src=10.1.0.21 dst=10.2.0.80 sport=0 dport=0 src=10.2.0.80 dst=10.1.0.21 sport=0 dport=0 "
        "mark=0 use=1"},
       {{"[NEW]", 1}, {"[UPDATE]", 1}, {"ASSURED", 0}, {"REQUEST", 0}},
       {}},
      {"dccp-generic-nat.json",
       {"[NEW] dccp     33 600 src=10.1.0.74 dst=10.2.0.1 sport=0 dport=0 [UNREPLIED] src=10.2.0.1 dst=10.9.0.2 "
        "sport=0 dport=0",
        "[UPDATE] dccp     33 600 src=10.1.0.74",
        "[NEW] dccp     33 600 src=10.1.1.76 dst=10.2.0.2 sport=0 dport=0 [UNREPLIED] src=10.2.0.2 dst=10.9.0.2 "
        "sport=0 dport=0",
        "[NEW] dccp     33 600 src=10.3.0.1 dst=10.9.0.9 sport=0 dport=0 [UNREPLIED] src=10.2.0.1 dst=10.3.0.1 "
        "sport=0 dport=0"},
       {"dccp     33 599 src=10.1.0.74", "dccp     33 599 src=10.1.1.76", "dccp     33 599 src=10.3.0.1",
        "insert_failed=1 drop=1"},
       {{"[NEW]", 3}, {"[UPDATE]", 1}, {"src=10.1.0.75", 0}},
       {{"found", 1}, {"insert_failed", 1}, {"drop", 1}}},
      {"nat-snat-port-collision.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.71 dst=10.2.0.1 sport=40000 dport=80 [UNREPLIED] src=10.2.0.1 "
        "dst=10.9.0.1 sport=80 dport=40000",
        "[UPDATE] tcp      6 60 SYN_RECV src=10.1.0.71"},
       {"tcp      6 59 SYN_RECV src=10.1.0.71", "insert_failed=1 drop=1"},
       {{"[NEW]", 1}, {"src=10.1.0.72", 0}},
       {{"insert_failed", 1}, {"drop", 1}}},
      {"nat-dnat.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.73 dst=10.96.0.10 sport=40073 dport=80 [UNREPLIED] src=10.2.0.70 "
        "dst=10.1.0.73 sport=8080 dport=40073",
        "[UPDATE] tcp      6 432000 ESTABLISHED src=10.1.0.73 dst=10.96.0.10",
        "[NEW] udp      17 30 src=10.1.0.73 dst=10.96.0.10 sport=5073 dport=53 [UNREPLIED] src=10.96.0.10"},
       {"tcp      6 431999 ESTABLISHED src=10.1.0.73 dst=10.96.0.10 sport=40073 dport=80 src=10.2.0.70 dst=10.1.0.73 "
        "sport=8080"},
       {{"[NEW]", 2}},
       {}},
      {"nat-masquerade.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.74 dst=10.2.0.1 sport=40074 dport=80 [UNREPLIED] src=10.2.0.1 "
        "dst=10.9.0.2 sport=80 dport=40074",
        "[NEW] udp      17 30 src=10.1.0.75 dst=10.2.0.53 sport=5075 dport=53 [UNREPLIED] src=10.2.0.53 dst=10.9.0.2",
        "[NEW] tcp      6 120 SYN_SENT src=10.1.1.76 dst=10.2.0.1 sport=40076 dport=80 [UNREPLIED] src=10.2.0.1 "
        "dst=10.1.1.76",
        "[DESTROY]", "[DESTROY]",
        "[NEW] tcp      6 120 SYN_SENT src=10.1.0.77 dst=10.2.0.1 sport=40077 dport=80 [UNREPLIED] src=10.2.0.1 "
        "dst=10.9.0.3 sport=80 dport=40077"},
       {"# snapshot at 1.2", "src=10.1.1.76", "# 1 flow entries", "# snapshot at 2.0", "src=10.1.1.76",
        "src=10.1.0.77"},
       {{"[NEW]", 4},
        {"[DESTROY]", 2},
        {"[DESTROY] tcp      6 119 SYN_SENT src=10.1.0.74", 1},
        {"[DESTROY] udp      17 29 src=10.1.0.75", 1}},
       {}},
      {"table-full.json",
       {"[NEW] udp      17 30 src=10.1.0.80 dst=10.2.0.53 sport=5008", "[DESTROY]",
        "[NEW] udp      17 30 src=10.1.0.80 dst=10.2.0.53 sport=5009"},
       {"# snapshot at 0.2", "# 8 flow entries", "drop=1 early_drop=0", "# snapshot at 0.8", "sport=5009",
        "# 1 flow entries"},
       {{"[NEW]", 9}, {"[DESTROY]", 8}},
       {{"drop", 1}}},
      {"table-full-assured.json",
       {"[NEW] tcp      6 120 SYN_SENT src=10.1.0.81 dst=10.2.0.1 sport=40107",
        "[DESTROY] tcp      6 431998 ESTABLISHED", "[NEW] tcp      6 120 SYN_SENT src=10.1.0.82"},
       {"# 8 flow entries", "drop=1 early_drop=0", "sport=40082", "# 1 flow entries", "drop=2 early_drop=0"},
       {{"[NEW]", 9}, {"[DESTROY]", 8}, {"[UPDATE]", 0}},
       {{"drop", 2}}},
      {"netns-same-tuples.json",
       {"events-a:     [NEW] tcp", "events-b:     [NEW] tcp", "events-a:  [UPDATE] tcp      6 432000 ESTABLISHED",
        "events-b:  [UPDATE] tcp      6 432000 ESTABLISHED", "events-a:     [NEW] udp", "events-b:     [NEW] udp",
        "events-b: [DESTROY]"},
       {"(netns a)", "tcp      6 431999 ESTABLISHED", "udp      17 29", "(netns b)", "tcp      6 431999 ESTABLISHED",
        "udp      17 29", "# snapshot at 1.200000000s (netns a)", "tcp      6 431998 ESTABLISHED", "# 2 flow entries",
        "# snapshot at 1.200000000s (netns b)", "# 0 flow entries"},
       {{"events-a:", 4}, {"events-b:", 6}, {"events-a: [DESTROY]", 0}},
       {}},
      {"flush-and-delete.json",
       {"[NEW] icmp", "[DESTROY] udp      17 29 src=10.1.0.91", "[DESTROY] icmp     1 29 src=10.1.0.91",
        "[DESTROY] tcp      6 431998 ESTABLISHED src=10.1.0.91"},
       {"# 3 flow entries", "# snapshot at 1.3", "tcp      6 431998", "# 1 flow entries", "# snapshot at 1.7",
        "# 0 flow entries"},
       {{"[DESTROY]", 3}},
       {}},
      {"known-differences/events-lossy-listener.json",
       {"lossy: WARNING: We have hit ENOBUFS! We are losing events."},
       {"# 12 flow entries"},
       {{"all:     [NEW] udp", 12}, {"lossy:     [NEW] udp", 4}, {"ENOBUFS", 1}},
       {}},
      {"known-differences/events-reliable-listener.json",
       {"[NEW] udp      17 30 src=10.1.0.101 dst=10.2.0.53 sport=5103", "[DESTROY]", "[DESTROY]",
        "[DESTROY] udp      17 28 src=10.1.0.101"},
       {"# 3 flow entries", "# snapshot at 0.4", "# 0 flow entries", "# conntrack -L dying at 0.4", "udp      17 29",
        "# 1 flow entries", "# conntrack -L dying at 2.0", "# 0 flow entries"},
       {{"[NEW]", 3}, {"[DESTROY]", 3}},
       {}},
  };
  return kFacts;
}

std::vector<std::string> suite_files() {
  std::vector<std::string> out;
  // tests/kernel/known-differences/ holds the scenarios on which ctsim and
  // the live kernel are known to differ (its README says why): ctsim's side
  // of them is checked here all the same.
  const std::filesystem::path root = source_path("tests/kernel");
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.path().extension() == ".json") out.push_back(e.path().lexically_relative(root).string());
  std::sort(out.begin(), out.end());
  return out;
}

ctsim::Scenario load(const std::string& file) {
  ctsim::Scenario s;
  const ctsim::Status st = ctsim::load_scenario(source_path("tests/kernel/" + file), &s, {"6.18-late"});
  INFO(st.message());
  REQUIRE(st.ok());
  return s;
}

bool is_race(const ctsim::Scenario& s) { return s.verify_compare == ctsim::VerifyCompare::kCounts; }

// Each of `wanted` on a later line of `lines` than the one before; a missing
// one is reported by name.
void check_in_order(const std::vector<std::string>& lines, const std::vector<const char*>& wanted, const char* what) {
  size_t at = 0;
  for (const char* w : wanted) {
    while (at < lines.size() && lines[at].find(w) == std::string::npos) ++at;
    const std::string why = std::string(what) + ": \"" + w + "\" not found in order";
    INFO(why);
    CHECK(at < lines.size());
    if (at >= lines.size()) return;
    ++at;
  }
}

}  // namespace

TEST_CASE("tests/kernel holds at least 25 scenarios, each with its facts here") {
  const std::vector<std::string> files = suite_files();
  CHECK(files.size() >= 25);
  std::set<std::string> with_facts;
  for (const Facts& f : suite_facts()) {
    CHECK_MESSAGE(with_facts.insert(f.file).second, f.file << " has two facts entries");
    CHECK_MESSAGE(std::find(files.begin(), files.end(), f.file) != files.end(), f.file << " has facts but no file");
  }
  for (const std::string& f : files) CHECK_MESSAGE(with_facts.count(f) == 1, f << " has no facts in this test");
}

TEST_CASE("every tests/kernel scenario is one kernel-run can play in real time") {
  int64_t total = 0;
  int races = 0;
  for (const std::string& file : suite_files()) {
    CAPTURE(file);
    const json doc = json::parse(read_file(source_path("tests/kernel/" + file)));
    // verify picks the profile from uname -r; kernel-run refuses the rest.
    for (const char* key : {"kernel", "hook_time", "captures"}) CHECK_MESSAGE(!doc.contains(key), key);
    if (doc.contains("table")) {
      for (auto it = doc["table"].begin(); it != doc["table"].end(); ++it) CHECK(it.key() == "max");
      // The global nf_conntrack_max is the whole machine's for the run.
      CHECK(file.rfind("table-full", 0) == 0);
    }
    REQUIRE(doc.contains("until"));
    const ctsim::Scenario s = load(file);
    REQUIRE(s.until.has_value());
    CHECK(*s.until <= 8 * kSecond);
    total += *s.until;
    CHECK(s.cpus <= 2);
    for (const ctsim::ListenerSpec& l : s.listeners) CHECK(l.read_every == 0);
    for (const ctsim::RuleSpec& r : s.rules) {
      CHECK(r.verdict != ctsim::RuleSpec::Verdict::kQueue);
      // One address: kernel-run maps addresses, and the kernel picks among
      // several by a hash of the real ones.
      CHECK(r.to.size() <= 1);
      for (const ctcore::nf_nat_range2& range : r.to) CHECK(range.min_addr == range.max_addr);
    }
    for (const ctsim::FlowSpec& f : s.flows) {
      CHECK(f.count <= 100);
      CHECK(f.rtt >= kMs);
      CHECK((f.count == 1 || f.interval >= kMs));
    }
    // Real injection jitters: only a marked race puts packets closer than
    // 1 ms (the same instant, on two CPUs).
    if (is_race(s)) {
      ++races;
      CHECK(!s.verify_because.empty());
    } else {
      for (size_t i = 1; i < s.packets.size(); ++i) CHECK(s.packets[i].at - s.packets[i - 1].at >= kMs);
    }
  }
  CHECK(total <= 180 * kSecond);
  CHECK(races >= 1);
}

TEST_CASE("every tests/kernel scenario runs under 6.18-late with --check and shows its facts") {
  for (const Facts& f : suite_facts()) {
    CAPTURE(f.file);
    const std::string dir = temp_dir();
    const RunResult r = run_ctsim("run " + shell_quote(source_path(std::string("tests/kernel/") + f.file)) +
                                  " --kernel 6.18-late --check --quiet --events " + dir + "/e.txt --snapshots " + dir +
                                  "/s.txt --stats " + dir + "/stats.json --trace " + dir + "/t.jsonl");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::vector<std::string> events = nonempty_lines(read_file(dir + "/e.txt"));
    const std::vector<std::string> snapshots = nonempty_lines(read_file(dir + "/s.txt"));
    check_in_order(events, f.events, "events");
    check_in_order(snapshots, f.snapshots, "snapshots");
    for (const std::pair<const char*, int>& count : f.event_counts) {
      const std::string text = count.first;
      CAPTURE(text);
      CHECK(std::count_if(events.begin(), events.end(),
                          [&](const std::string& l) { return l.find(text) != std::string::npos; }) == count.second);
    }
    // No conn may owe its end to the GC: the live kernel's GC sweeps about
    // once a minute at a phase nobody knows, so what ctsim's GC (first run at
    // 1 s) reaps inside a run, the kernel's almost never does. Expiries are
    // observed through lookups and dumps instead.
    for (const std::string& line : nonempty_lines(read_file(dir + "/t.jsonl")))
      if (line.find(R"("kind":"dying")") != std::string::npos)
        CHECK(line.find(R"("reason":"gc")") == std::string::npos);
    const json stats = json::parse(read_file(dir + "/stats.json"))["stats"];
    for (const char* counter : kCounters) {
      CAPTURE(counter);
      uint64_t want = 0;
      for (const auto& [name, value] : f.totals)
        if (std::string(name) == counter) want = value;
      CHECK(stats.at(counter).get<uint64_t>() == want);
    }
  }
}
