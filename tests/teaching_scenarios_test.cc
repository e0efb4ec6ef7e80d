// The teaching scenarios (scenarios/lifecycle/, scenarios/incidents/): each
// runs clean under --check and shows, in its trace, the point its
// description makes. Each check fails if that behaviour breaks.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMs = 1'000'000;

struct Run {
  int code = -1;
  std::string err;
  std::vector<json> recs;
  std::string events, snapshots;
  size_t trace_bytes = 0;

  // Records of `kind` (and, if given, of conn `conn`).
  std::vector<const json*> all(const std::string& kind, int conn = -1) const {
    std::vector<const json*> out;
    for (const json& r : recs)
      if (r.value("kind", "") == kind && (conn < 0 || r.value("conn", 0) == conn)) out.push_back(&r);
    return out;
  }
  const json* first(const std::string& kind, int conn = -1) const {
    auto v = all(kind, conn);
    return v.empty() ? nullptr : v.front();
  }
  // Index of the first record of `kind` (and conn) at or after `from`; -1 if none.
  long index(const std::string& kind, int conn = -1, size_t from = 0) const {
    for (size_t i = from; i < recs.size(); ++i)
      if (recs[i].value("kind", "") == kind && (conn < 0 || recs[i].value("conn", 0) == conn))
        return static_cast<long>(i);
    return -1;
  }
  // The end record. The schema makes it the last line; ctsim currently writes
  // the final listener_read records after it (see the may_fail case below),
  // so it is looked up by kind.
  const json& end() const {
    for (size_t i = recs.size(); i-- > 0;)
      if (recs[i].value("kind", "") == "end") return recs[i];
    return recs.back();
  }
  const json& header() const { return recs.front(); }
  size_t end_index() const {
    for (size_t i = recs.size(); i-- > 0;)
      if (recs[i].value("kind", "") == "end") return i;
    return recs.size();
  }
  // The stats record of namespace `net` on CPU `cpu` written at time `t`.
  const json* stats_at(int64_t t, const std::string& net, int cpu = 0) const {
    for (const json& r : recs)
      if (r.value("kind", "") == "stats" && r["t"] == t && r["net"] == net && r["cpu"] == cpu) return &r;
    return nullptr;
  }
  const json* snapshot_at(int64_t t) const {
    for (const json& r : recs)
      if (r.value("kind", "") == "snapshot" && r["t"] == t) return &r;
    return nullptr;
  }
};

Run run_scenario(const std::string& rel, const std::string& extra = "") {
  const std::string dir = temp_dir();
  const std::string trace = dir + "/t.jsonl", ev = dir + "/e.txt", snap = dir + "/s.txt";
  RunResult r = run_ctsim("run " + source_path(rel) + " --trace " + trace + " --events " + ev + " --snapshots " + snap +
                          " --check " + extra);
  Run out;
  out.code = r.code;
  out.err = r.err;
  const std::string text = read_file(trace);
  out.trace_bytes = text.size();
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.recs.push_back(json::parse(line));
  out.events = read_file(ev);
  out.snapshots = read_file(snap);
  for (const std::string& f : {trace, ev, snap}) std::remove(f.c_str());
  ::rmdir(dir.c_str());
  return out;
}

// Runs a scenario and requires the common contract: exit 0 under --check,
// a header, an end record last, a trace well under 1 MB.
Run run_ok(const std::string& rel, const std::string& extra = "") {
  Run r = run_scenario(rel, extra);
  INFO(rel << ": " << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.recs.size() >= 2);
  REQUIRE(r.header().contains("ctsim_trace"));
  REQUIRE(r.end()["kind"] == "end");
  CHECK(r.trace_bytes < 1'000'000);
  CHECK(r.index("end") == static_cast<long>(r.end_index()));
  return r;
}

bool has_status(const json& entry, const std::string& bit) {
  for (const json& s : entry["status"])
    if (s == bit) return true;
  return false;
}

const json* entry_of(const json& snapshot, int conn) {
  for (const json& e : snapshot["entries"])
    if (e["conn"] == conn) return &e;
  return nullptr;
}

std::vector<std::string> scenario_files(const std::string& rel_dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(source_path(rel_dir).c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") out.push_back(rel_dir + "/" + n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("every teaching scenario runs clean under --check, small, with a description") {
  std::vector<std::string> files = scenario_files("scenarios/lifecycle");
  for (const std::string& f : scenario_files("scenarios/incidents")) files.push_back(f);
  CHECK(files.size() >= 20);
  for (const std::string& f : files) {
    INFO(f);
    const json doc = json::parse(read_file(source_path(f)));
    CHECK(doc.value("description", "").size() > 200);
    std::string base = f.substr(f.find_last_of('/') + 1);
    CHECK(doc["name"] == base.substr(0, base.size() - 5));
    if (f.find("/incidents/") != std::string::npos) {
      // An incident names what fixes it.
      const std::string d = doc["description"];
      CHECK((d.find("Knob") != std::string::npos || d.find("knob") != std::string::npos ||
             d.find("Fix") != std::string::npos || d.find("workaround") != std::string::npos));
    }
    Run r = run_ok(f);
    CHECK(r.header()["scenario"] == doc["name"]);
  }
}

// docs/TRACE_SCHEMA.md: "end" is the last record. A run whose listeners read at
// intervals writes their final listener_read records after it (Simulator::run
// drains the listeners after trace_->end()). Reported, not fixed here (sim/).
TEST_CASE("the end record is the last line of the trace, also with interval readers") {
  for (const char* s : {"scenarios/incidents/events-lossy.json", "scenarios/lifecycle/dying-list.json"}) {
    CAPTURE(s);
    Run r = run_ok(s);
    CHECK(r.end_index() + 1 == r.recs.size());
  }
}

// ------------------------------------------------------------- lifecycle

TEST_CASE("lifecycle/tuple-tcp: the SYN's tuple, its inversion, and the SYN-ACK matching the reply tuple") {
  Run r = run_ok("scenarios/lifecycle/tuple-tcp.json");
  const json* miss = r.first("lookup");
  REQUIRE(miss);
  CHECK((*miss)["tuple"] == "tcp 192.168.1.2:47562 > 10.0.0.2:80");
  CHECK((*miss)["match"].is_null());
  const json* nw = r.first("new", 1);
  REQUIRE(nw);
  CHECK((*nw)["orig"] == "tcp 192.168.1.2:47562 > 10.0.0.2:80");
  CHECK((*nw)["reply"] == "tcp 10.0.0.2:80 > 192.168.1.2:47562");
  const json* conf = r.first("confirm", 1);
  REQUIRE(conf);
  CHECK((*conf)["bucket_orig"] == (*miss)["bucket"]);
  auto hits = r.all("lookup", 1);
  REQUIRE(hits.size() == 1);
  CHECK((*hits[0])["tuple"] == "tcp 10.0.0.2:80 > 192.168.1.2:47562");
  CHECK((*hits[0])["match"] == "reply");
  CHECK((*hits[0])["bucket"] == (*conf)["bucket_reply"]);
  CHECK((*hits[0])["bucket"] != (*miss)["bucket"]);
}

TEST_CASE("lifecycle/tuple-icmp: echo id and type in the tuple; type 8 inverts to 0; type 9 cannot") {
  Run r = run_ok("scenarios/lifecycle/tuple-icmp.json");
  const json* nw = r.first("new", 1);
  REQUIRE(nw);
  CHECK((*nw)["orig"] == "icmp 192.168.1.2 > 10.0.0.2 echo-request id 42");
  CHECK((*nw)["reply"] == "icmp 10.0.0.2 > 192.168.1.2 echo-reply id 42");
  auto hits = r.all("lookup", 1);
  REQUIRE(hits.size() == 1);
  CHECK((*hits[0])["match"] == "reply");
  const json* inv = r.first("invalid");
  REQUIRE(inv);
  CHECK((*inv)["reason"] == "tuple cannot be inverted");
  CHECK(r.all("new").size() == 1);
  CHECK(r.end()["stats"]["invalid"] == 1);
  CHECK(r.snapshots.find("type=8 code=0 id=42 src=10.0.0.2 dst=192.168.1.2 type=0 code=0 id=42") != std::string::npos);
}

TEST_CASE("lifecycle/lookup-chain: three conns share a bucket; the SYN-ACK walks 3 nodes and matches a REPLY node") {
  Run r = run_ok("scenarios/lifecycle/lookup-chain.json");
  const json* c1 = r.first("confirm", 1);
  const json* c2 = r.first("confirm", 2);
  const json* c3 = r.first("confirm", 3);
  REQUIRE((c1 && c2 && c3));
  const int bucket = (*c1)["bucket_reply"];
  CHECK((*c2)["bucket_orig"] == bucket);
  CHECK((*c3)["bucket_reply"] == bucket);
  CHECK((*c2)["bucket_reply"] != bucket);
  CHECK((*c3)["bucket_orig"] != bucket);
  auto hits = r.all("lookup", 1);
  REQUIRE(hits.size() == 1);
  CHECK((*hits[0])["tuple"] == "tcp 10.0.0.80:443 > 172.16.0.10:51000");
  CHECK((*hits[0])["bucket"] == bucket);
  CHECK((*hits[0])["chain"] == 3);
  CHECK((*hits[0])["match"] == "reply");
}

TEST_CASE("lifecycle/new-conn: both tuples, use 1, on blue/CPU 1's unconfirmed list and not in the table") {
  Run r = run_ok("scenarios/lifecycle/new-conn.json");
  const json* nw = r.first("new", 1);
  REQUIRE(nw);
  CHECK((*nw)["net"] == "blue");
  CHECK((*nw)["cpu"] == 1);
  CHECK((*nw)["use"] == 1);
  CHECK((*nw)["orig"] == "tcp 192.168.1.2:47562 > 10.0.0.2:80");
  CHECK((*nw)["reply"] == "tcp 10.0.0.2:80 > 192.168.1.2:47562");
  const json* held = r.snapshot_at(500 * kMs);
  REQUIRE(held);
  CHECK((*held)["count"] == 0);  // unconfirmed: in no bucket
  const json* st = r.stats_at(500 * kMs, "blue", 1);
  REQUIRE(st);
  CHECK((*st)["count"] == 1);  // but counted
  const json* conf = r.first("confirm", 1);
  REQUIRE(conf);
  CHECK((*conf)["t"] == 1 * kSec);
  const json* after = r.snapshot_at(1500 * kMs);
  REQUIRE(after);
  CHECK((*after)["count"] == 1);
}

TEST_CASE("lifecycle/confirm: two buckets, the table's reference, IPS_CONFIRMED, NEW only after confirm") {
  Run r = run_ok("scenarios/lifecycle/confirm.json");
  const long ci = r.index("confirm", 1);
  REQUIRE(ci >= 0);
  const json& conf = r.recs[ci];
  CHECK(conf["bucket_orig"] == 474);
  CHECK(conf["bucket_reply"] == 154);
  CHECK(conf["use"] == 2);
  const long ei = r.index("event", 1);
  REQUIRE(ei > ci);
  CHECK(r.recs[ei]["type"] == "NEW");
  const json* snap = r.snapshot_at(1 * kMs);
  REQUIRE(snap);
  const json* e = entry_of(*snap, 1);
  REQUIRE(e);
  CHECK((*e)["use"] == 1);
  CHECK(has_status(*e, "IPS_CONFIRMED"));
  auto hits = r.all("lookup", 1);
  REQUIRE(hits.size() == 1);
  CHECK((*hits[0])["bucket"] == 154);
  CHECK(r.events.rfind("    [NEW] tcp", 0) == 0);
}

TEST_CASE("lifecycle/removal: freed from the unconfirmed list by a drop rule; expiry, GC, dying, last put") {
  Run r = run_ok("scenarios/lifecycle/removal.json");
  // (1) dropped before confirm: destroy and free at once, never confirmed, never dying.
  const long drop = r.index("verdict", 1);
  REQUIRE(drop >= 0);
  bool rule_drop = false;
  for (const json* v : r.all("verdict", 1))
    if ((*v)["verdict"] == "drop" && (*v)["hook"] == "forward") rule_drop = true;
  CHECK(rule_drop);
  CHECK(r.first("confirm", 1) == nullptr);
  CHECK(r.first("dying", 1) == nullptr);
  REQUIRE(r.first("free", 1));
  CHECK((*r.first("free", 1))["t"] == 0);
  // (2) expiry at ~3 s, reaped by the GC later, freed at the last put (21 s).
  const long di = r.index("dying", 2);
  REQUIRE(di >= 0);
  const json& dying = r.recs[di];
  CHECK(dying["reason"] == "gc");
  CHECK(dying["t"].get<int64_t>() >= 3 * kSec);
  CHECK(dying["t"].get<int64_t>() < 21 * kSec);
  bool gc_reaped = false;
  for (const json* g : r.all("gc"))
    if ((*g)["t"] == dying["t"] && (*g)["expired"].get<int>() >= 1) gc_reaped = true;
  CHECK(gc_reaped);
  const long fi = r.index("free", 2);
  REQUIRE(fi > di);
  CHECK(r.recs[fi]["t"] == 21 * kSec);
  CHECK(r.index("destroy", 2) > di);
}

TEST_CASE(
    "lifecycle/timeouts: SYN_SENT 120 s, a per-namespace ESTABLISHED of 200 s refreshed by traffic, across the jiffies "
    "wrap") {
  Run r = run_ok("scenarios/lifecycle/timeouts.json");
  const int64_t hz = r.header()["hz"];
  const int64_t sweep = 128 * (16 * hz / 128) * kSec / hz;  // one full GC sweep at the slowest pace
  const json* d1 = r.first("dying", 1);
  REQUIRE(d1);
  CHECK((*d1)["reason"] == "gc");
  CHECK((*d1)["t"].get<int64_t>() >= 120 * kSec);
  CHECK((*d1)["t"].get<int64_t>() <= 120 * kSec + sweep + 100 * kMs);
  CHECK(r.first("dying", 2) == nullptr);  // 5 days
  bool refreshed = false;
  for (const json* u : r.all("update", 3))
    if ((*u)["t"] == 150 * kSec && (*u)["timeout"] == 200) refreshed = true;
  CHECK(refreshed);
  const json* before = r.snapshot_at(299 * kSec);
  const json* after = r.snapshot_at(301 * kSec);
  REQUIRE((before && after));
  CHECK((*before)["jiffies"].get<uint64_t>() > 0xffff0000u);
  CHECK((*after)["jiffies"].get<uint64_t>() < 1000u);
  CHECK((*entry_of(*before, 3))["timeout"] == 51);
  CHECK((*entry_of(*after, 3))["timeout"] == 49);
  CHECK((*entry_of(*after, 2))["timeout"].get<int>() > 431000);
  const json* d3 = r.first("dying", 3);
  REQUIRE(d3);
  CHECK((*d3)["reason"] == "gc");
  CHECK((*d3)["t"].get<int64_t>() >= 350 * kSec);
  CHECK((*d3)["t"].get<int64_t>() <= 350 * kSec + sweep + 100 * kMs);
  CHECK((*d3)["jiffies"].get<uint64_t>() < 100000u);  // after the wrap
}

TEST_CASE(
    "lifecycle/dying-list: undelivered DESTROYs park conns on the dying list, counted, freed in batches on resume") {
  Run r = run_ok("scenarios/lifecycle/dying-list.json");
  CHECK(r.all("dying").size() == 80);
  std::set<int> freed_before_resume;
  for (const json* f : r.all("free"))
    if ((*f)["t"].get<int64_t>() < 5 * kSec) freed_before_resume.insert((*f)["conn"].get<int>());
  CHECK(freed_before_resume.size() == 40);
  const json* snap = r.snapshot_at(3 * kSec);
  REQUIRE(snap);
  CHECK((*snap)["count"] == 0);
  const json* st = r.stats_at(3 * kSec, "init");
  REQUIRE(st);
  CHECK((*st)["count"] == 40);
  bool undelivered = false;
  for (const json* e : r.all("event"))
    if ((*e)["delivered"] == false) undelivered = true;
  CHECK(undelivered);
  bool batch32 = false;
  for (const json* w : r.all("ecache_work"))
    if ((*w)["t"].get<int64_t>() > 5 * kSec && (*w)["sent"] == 32) batch32 = true;
  CHECK(batch32);
  CHECK(r.end()["conns_freed"] == 80);
}

// ------------------------------------------------------------- incidents

TEST_CASE("incidents/table-full: early_drop of non-ASSURED conns first, then drops") {
  Run r = run_ok("scenarios/incidents/table-full.json");
  long first_early = -1;
  for (size_t i = 0; i < r.recs.size(); ++i)
    if (r.recs[i].value("kind", "") == "dying" && r.recs[i]["reason"] == "early_drop") {
      first_early = static_cast<long>(i);
      break;
    }
  const long first_drop = r.index("drop");
  REQUIRE(first_early >= 0);
  REQUIRE(first_drop >= 0);
  CHECK(first_early < first_drop);
  CHECK(r.recs[first_drop]["reason"] == "table full, dropping packet");
  const json* mid = r.stats_at(1500 * kMs, "init");
  REQUIRE(mid);
  CHECK((*mid)["early_drop"].get<int>() > 0);
  CHECK((*mid)["drop"] == 0);
  CHECK(r.end()["stats"]["early_drop"].get<int>() > 0);
  CHECK(r.end()["stats"]["drop"].get<int>() > 0);
  // The client of a dropped SYN hears nothing and sends the same SYN again
  // after its retransmission timeout (at least 200 ms later).
  int64_t dropped_id = -1;
  for (const json& j : r.recs)
    if (j.value("kind", "") == "verdict" && j["verdict"] == "drop" && j["reason"] == "nf_conntrack_in") {
      dropped_id = j["id"];
      break;
    }
  REQUIRE(dropped_id > 0);
  std::string syn;
  int64_t syn_t = 0;
  bool resent = false;
  for (const json& j : r.recs) {
    if (j.value("kind", "") != "pkt") continue;
    if (j["id"] == dropped_id) {
      syn = j["pkt"];
      syn_t = j["t"];
    } else if (!syn.empty() && j["pkt"] == syn) {
      CHECK(j["t"].get<int64_t>() - syn_t >= 200 * kMs);
      resent = true;
      break;
    }
  }
  CHECK(syn.find("flags S ") != std::string::npos);
  CHECK(resent);
}

TEST_CASE("incidents/table-full-bigger: the same traffic with a bigger table drops nothing") {
  Run small = run_ok("scenarios/incidents/table-full.json");
  Run r = run_ok("scenarios/incidents/table-full-bigger.json");
  // Every connection completes its handshake at once: 20 UDP queries and
  // 100 x 3 TCP packets, where the small table needed retransmitted SYNs.
  CHECK(r.end()["packets"] == 320);
  CHECK(small.end()["packets"].get<int>() != 320);
  CHECK(r.end()["stats"]["drop"] == 0);
  CHECK(r.end()["stats"]["early_drop"] == 0);
  CHECK(r.all("drop").empty());
  CHECK(r.end()["conns_created"] == 120);
  // Four times the buckets: lookups walk much shorter chains, although the
  // bigger table holds more conns.
  auto mean_chain = [](const Run& x) {
    double sum = 0;
    auto l = x.all("lookup");
    for (const json* j : l) sum += (*j)["chain"].get<int>();
    return l.empty() ? 0.0 : sum / static_cast<double>(l.size());
  };
  CHECK(mean_chain(r) * 2 < mean_chain(small));
}

namespace {
// Both packets of the race got their own conn before either was confirmed.
void check_race(const Run& r) {
  auto news = r.all("new");
  REQUIRE(news.size() >= 2);
  CHECK((*news[0])["orig"] == (*news[1])["orig"]);
  CHECK((*news[0])["cpu"] != (*news[1])["cpu"]);
  CHECK(r.index("new", (*news[1])["conn"].get<int>()) < r.index("confirm"));
}
}  // namespace

TEST_CASE("incidents/dns-race-resolved: the UDP confirm clash is merged (clash_resolve)") {
  Run r = run_ok("scenarios/incidents/dns-race-resolved.json");
  check_race(r);
  const json* clash = r.first("clash", 2);
  REQUIRE(clash);
  CHECK((*clash)["winner"] == 1);
  CHECK((*clash)["outcome"] == "merged into winner");
  const json& st = r.end()["stats"];
  CHECK(st["clash_resolve"].get<int>() > 0);
  CHECK(st["insert_failed"] == 0);
  CHECK(st["drop"] == 0);
}

TEST_CASE("incidents/dns-race-dropped: without allow_clash the loser is dropped (insert_failed, drop)") {
  Run r = run_ok("scenarios/incidents/dns-race-dropped.json");
  check_race(r);
  const json* d = r.first("drop", 2);
  REQUIRE(d);
  CHECK((*d)["reason"] == "insert_failed: clash at confirm");
  const json& st = r.end()["stats"];
  CHECK(st["insert_failed"].get<int>() > 0);
  CHECK(st["drop"].get<int>() > 0);
  CHECK(st["clash_resolve"] == 0);
}

TEST_CASE("incidents/stale-udp: one-way traffic keeps the conn alive until the flush") {
  Run r = run_ok("scenarios/incidents/stale-udp.json");
  auto dying = r.all("dying", 1);
  REQUIRE(dying.size() == 1);
  CHECK((*dying[0])["reason"] == "flush");
  CHECK((*dying[0])["t"] == 65 * kSec);
  for (int64_t t : {25 * kSec, 55 * kSec}) {
    const json* s = r.snapshot_at(t);
    REQUIRE(s);
    const json* e = entry_of(*s, 1);
    REQUIRE(e);
    CHECK_FALSE(has_status(*e, "IPS_SEEN_REPLY"));
  }
  // Refreshed by each packet, never more than 30 s ahead: 6 sends before the flush.
  int refreshed = 0;
  for (const json* u : r.all("update", 1))
    if ((*u)["timeout"] == 30) ++refreshed;
  CHECK(refreshed >= 6);
  const json* n2 = r.first("new", 2);
  REQUIRE(n2);
  CHECK((*n2)["orig"] == (*r.first("new", 1))["orig"]);
  CHECK((*n2)["t"].get<int64_t>() > 65 * kSec);
}

TEST_CASE("incidents/tcp-out-of-window: INVALID and dropped by the rule; accepted with be_liberal") {
  Run r = run_ok("scenarios/incidents/tcp-out-of-window.json");
  const json* inv = r.first("invalid");
  REQUIRE(inv);
  CHECK((*inv)["t"] == 3 * kMs);
  bool dropped = false;
  for (const json* v : r.all("verdict"))
    if ((*v)["verdict"] == "drop" && (*v)["reason"] == "rule \"ct state invalid\"") dropped = true;
  CHECK(dropped);
  CHECK(r.end()["stats"]["invalid"].get<int>() >= 1);

  Run lib = run_ok("scenarios/incidents/tcp-out-of-window-liberal.json");
  CHECK(lib.all("invalid").empty());
  for (const json* v : lib.all("verdict")) CHECK((*v)["verdict"] == "accept");
  CHECK(lib.end()["stats"]["invalid"] == 0);
  CHECK(lib.end()["packets"] == r.end()["packets"]);
}

TEST_CASE("incidents/events-lossy: a full socket loses events and the reader prints ENOBUFS") {
  Run r = run_ok("scenarios/incidents/events-lossy.json");
  CHECK(r.events.find("WARNING: We have hit ENOBUFS! We are losing events.") != std::string::npos);
  int lost = 0, delivered = 0;
  for (const json* e : r.all("event")) ((*e)["delivered"] == false ? lost : delivered)++;
  CHECK(lost > 0);
  CHECK(delivered > 0);
  bool enobufs = false;
  for (const json* l : r.all("listener_read"))
    if ((*l)["enobufs"] == true) enobufs = true;
  CHECK(enobufs);
  CHECK(r.all("dying").empty());  // a lossy listener never holds a conn back
}

TEST_CASE("incidents/events-reliable: the dying list fills the count to max while the table is empty") {
  Run r = run_ok("scenarios/incidents/events-reliable.json");
  const int64_t max = r.header()["max"];
  int64_t flush_t = -1, resume_t = -1;
  for (const json* a : r.all("action")) {
    if ((*a)["do"] == "flush") flush_t = (*a)["t"];
    if ((*a)["do"] == "listener_resume") resume_t = (*a)["t"];
  }
  REQUIRE(flush_t >= 0);
  REQUIRE(resume_t > flush_t);
  std::set<int> parked;
  for (const json* d : r.all("dying"))
    if ((*d)["reason"] == "flush") parked.insert((*d)["conn"].get<int>());
  CHECK(static_cast<int64_t>(parked.size()) == max);
  // None of them is destroyed or freed before the reader comes back.
  for (const char* k : {"destroy", "free"})
    for (const json* f : r.all(k))
      if (parked.count((*f)["conn"].get<int>())) CHECK((*f)["t"].get<int64_t>() > resume_t);
  const json* snap = r.snapshot_at(2500 * kMs);
  REQUIRE(snap);
  CHECK((*snap)["count"] == 0);
  const json* st = r.stats_at(2500 * kMs, "init");
  REQUIRE(st);
  CHECK((*st)["count"] == max);
  bool full_while_empty = false;
  for (const json* d : r.all("drop"))
    if ((*d)["reason"] == "table full, dropping packet" && (*d)["t"].get<int64_t>() > flush_t &&
        (*d)["t"].get<int64_t>() < resume_t)
      full_while_empty = true;
  CHECK(full_while_empty);
  // After the resume they are all freed, and later conns get in.
  int freed = 0;
  for (const json* f : r.all("free"))
    if (parked.count((*f)["conn"].get<int>())) ++freed;
  CHECK(static_cast<int64_t>(freed) == max);
  const json* late = r.snapshot_at(8 * kSec);
  REQUIRE(late);
  CHECK((*late)["count"].get<int>() > 0);
}

TEST_CASE("incidents/late-destroy: expired conns are reaped within one v5.10 GC sweep, often seconds late") {
  Run r = run_ok("scenarios/incidents/late-destroy.json", "--timestamps");
  const uint32_t hz = r.header()["hz"];
  const uint32_t timeout = 30 * hz;              // nf_conntrack_udp_timeout
  const uint32_t bound = 128 * (16 * hz / 128);  // GC_MAX_BUCKETS_DIV runs at HZ/8
  std::map<int, uint32_t> confirmed;
  for (const json* c : r.all("confirm"))
    if ((*c)["net"] == "init") confirmed[(*c)["conn"]] = (*c)["jiffies"].get<uint32_t>();
  REQUIRE(confirmed.size() == 50);
  uint32_t worst = 0;
  int reaped = 0;
  for (const json* d : r.all("dying")) {
    const int conn = (*d)["conn"];
    REQUIRE(confirmed.count(conn));
    CHECK((*d)["reason"] == "gc");
    const uint32_t late = (*d)["jiffies"].get<uint32_t>() - (confirmed[conn] + timeout);
    CHECK(static_cast<int32_t>(late) >= 0);
    CHECK(late <= bound);
    worst = std::max(worst, late);
    ++reaped;
  }
  CHECK(reaped == 50);
  CHECK(worst > 4 * hz);  // the point: seconds after the timeout
  CHECK(r.events.find("[DESTROY] udp") != std::string::npos);
}

TEST_CASE("incidents/netns-shared-table: per-namespace counts above the global max in total, shared chains") {
  Run r = run_ok("scenarios/incidents/netns-shared-table.json");
  const int64_t max = r.header()["max"];
  int64_t total = 0;
  for (const char* ns : {"init", "tenant-a", "tenant-b"}) {
    const json* st = r.stats_at(1 * kSec, ns);
    REQUIRE(st);
    CHECK((*st)["count"].get<int64_t>() <= max);
    total += (*st)["count"].get<int64_t>();
  }
  CHECK(total > max);
  CHECK((*r.stats_at(1 * kSec, "tenant-a"))["count"] == max);
  CHECK((*r.stats_at(1 * kSec, "tenant-a"))["drop"].get<int>() > 0);
  CHECK((*r.stats_at(1 * kSec, "tenant-b"))["count"] == 20);
  CHECK((*r.stats_at(1 * kSec, "tenant-b"))["drop"] == 0);
  const json* snap = r.snapshot_at(1 * kSec);
  REQUIRE(snap);
  CHECK((*snap)["count"].get<int64_t>() == total);
  // tenant-b's first lookup walks tenant-a's nodes.
  for (const json* l : r.all("lookup"))
    if ((*l)["net"] == "tenant-b") {
      CHECK((*l)["chain"].get<int>() > 0);
      CHECK((*l)["match"].is_null());
      break;
    }
}

TEST_CASE("incidents/tcp-reopen: a SYN on a TIME_WAIT tuple kills the old conn and makes a new one") {
  Run r = run_ok("scenarios/incidents/tcp-reopen.json");
  bool time_wait = false;
  for (const json* u : r.all("update", 1))
    if ((*u)["state"] == "TIME_WAIT") time_wait = true;
  CHECK(time_wait);
  const long di = r.index("dying", 1);
  REQUIRE(di >= 0);
  CHECK(r.recs[di]["reason"] == "tracker");
  CHECK(r.recs[di]["t"] == 5 * kSec);
  const long ni = r.index("new", 2);
  REQUIRE(ni > di);
  CHECK(r.recs[ni]["t"] == 5 * kSec);
  CHECK(r.recs[ni]["orig"] == (*r.first("new", 1))["orig"]);
  const json* snap = r.snapshot_at(6 * kSec);
  REQUIRE(snap);
  REQUIRE((*snap)["count"] == 1);
  CHECK((*snap)["entries"][0]["conn"] == 2);
  CHECK((*snap)["entries"][0]["state"] == "ESTABLISHED");
}
