// The explain narrative states only what the run did (issue 21): for every
// scenario in the repository, each counter increment, `use` value, flag and
// life-cycle step the narrative states is checked against the JSONL trace
// and the end statistics of the same run. A failure names the scenario, the
// narrative's line and the packet it belongs to.
//
// What is compared:
//   - counters: the narrative's "<fn>() counts `X`" lines, summed per
//     counter, equal the trace's end stats for every counter they name
//     (every increment of those counters is reported by the core);
//   - `use`: init_conntrack's and __nf_conntrack_confirm's stated `use`
//     equal the trace's `new` and `confirm` records of that conn, in order;
//   - life cycle: per conn, the narrative's init_conntrack, IPS_CONFIRMED,
//     nf_ct_delete (IPS_DYING), destroy_conntrack and nf_conntrack_free steps
//     match the trace's new, confirm, dying (not a clash), destroy and free
//     records one for one;
//   - flags: every trace `update` record of a conn is matched, in order, by
//     a tracker step of that conn whose status (with IPS_SEEN_REPLY when the
//     narrative says nf_conntrack_in() set it right after) is the record's;
//   - NAT: every REPLY tuple nf_conntrack_alter_reply() is said to set
//     equals, in order, the `reply` of the conn's trace `nat` records that
//     changed it, and no such record goes untold;
//   - events: every message the narrative says a listener queued (the
//     core's function and event bits, the world's listener) is, in order,
//     a delivered trace `event` record of that conn with those bits, and
//     the number queued equals the messages in the run's --events stream
//     (every queued message is read by the end of these runs).
#include <doctest/doctest.h>

// Before <nlohmann/json.hpp> (GCC 12 false positives, see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

// One stated fact about a conn, from the narrative, with where it was said.
struct Said {
  std::string what;  // "new", "confirm", "dying", "destroy", "free"
  long use = -1;     // the stated `use` (new, confirm), else -1
  int line = 0;
  std::string packet;
};

// A tracker step: the status it states and where.
struct TrackerSaid {
  std::set<std::string> status;
  int line = 0;
  std::string packet;
};

// A stated REPLY tuple (nf_conntrack_alter_reply) or queued event message.
struct Stated {
  std::string text;  // the tuple; or "listener|TYPE|IPCT_A|IPCT_B"
  int line = 0;
  std::string packet;
};

struct Narrative {
  std::map<std::string, uint64_t> counts;  // counter -> sum stated
  std::map<long, std::vector<Stated>> replies;  // conn -> REPLY tuples set by NAT
  std::map<long, std::vector<Stated>> queued;   // conn -> messages queued
  size_t queued_total = 0;
  std::map<std::string, std::pair<int, std::string>> first_count;
  std::map<long, std::vector<Said>> conns;
  std::map<long, std::vector<TrackerSaid>> trackers;
};

std::set<std::string> words_of(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    if (w != "none") out.insert(w);
  return out;
}

Narrative parse_narrative(const std::string& text) {
  static const std::regex packet_re(R"(^packet (\d+) (at|continues at) )");
  static const std::regex counts_re(R"(\(\) counts `([a-z_]+)`(?: \+ (\d+))? \(netns )");
  static const std::regex new_re(R"(^  \d+\. init_conntrack\(\) allocates conn (\d+) )");
  static const std::regex list_use_re(R"(; use (\d+) \(the skb's reference\))");
  static const std::regex confirm_re(R"(^  \d+\. __nf_conntrack_confirm\(\): conn (\d+)[ ;].*IPS_CONFIRMED set)");
  static const std::regex confirm_use_re(
      R"(^       ORIGINAL hashed into bucket \d+, REPLY into bucket \d+ .*; use (\d+) )");
  static const std::regex dying_re(R"(^  \d+\. nf_ct_delete\(\): conn (\d+) \(.*\): IPS_DYING set; use (\d+))");
  static const std::regex destroy_re(R"(nf_ct_put\(\): use 0 -> destroy_conntrack\(\): conn (\d+) )");
  static const std::regex free_re(R"(^  \d+\. nf_conntrack_free\(\): conn (\d+) back to the slab)");
  static const std::regex tracker_re(R"(^  \d+\. [a-z0-9_]+_packet\(\): conn (\d+) .*status (.*): NF_ACCEPT$)");
  static const std::regex seen_reply_re(R"(IPS_SEEN_REPLY set on conn (\d+))");
  static const std::regex alter_re(R"(nf_conntrack_alter_reply\(\): conn (\d+): REPLY is now (.*) \(the tuple)");
  static const std::regex queued_re(
      R"re(\(\): conn (\d+) events ([A-Z_|]+)(?: \(of them [A-Z_|]+ missed by an earlier delivery\))? -> ctnetlink )re"
      R"re(\[([A-Z]+)\] message to listener "([^"]+)": queued )re");
  Narrative n;
  std::istringstream in(text);
  std::string packet = "(no packet)";
  long pending_new = -1, pending_confirm = -1;
  int lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    std::smatch m;
    if (std::regex_search(line, m, packet_re)) packet = "packet " + m[1].str();
    if (line.starts_with("action ") || line.starts_with("kernel work")) packet = line.substr(0, line.find(" at "));
    if (std::regex_search(line, m, counts_re)) {
      const std::string c = m[1].str();
      n.counts[c] += m[2].matched ? std::stoull(m[2].str()) : 1;
      if (!n.first_count.count(c)) n.first_count[c] = {lineno, packet};
    }
    if (std::regex_search(line, m, new_re)) {
      pending_new = std::stol(m[1].str());
      n.conns[pending_new].push_back({"new", -1, lineno, packet});
    } else if (pending_new >= 0 && std::regex_search(line, m, list_use_re)) {
      n.conns[pending_new].back().use = std::stol(m[1].str());
      pending_new = -1;
    }
    if (std::regex_search(line, m, confirm_re)) {
      pending_confirm = std::stol(m[1].str());
      n.conns[pending_confirm].push_back({"confirm", -1, lineno, packet});
    } else if (pending_confirm >= 0 && std::regex_search(line, m, confirm_use_re)) {
      n.conns[pending_confirm].back().use = std::stol(m[1].str());
      pending_confirm = -1;
    }
    if (std::regex_search(line, m, dying_re))
      n.conns[std::stol(m[1].str())].push_back({"dying", std::stol(m[2].str()), lineno, packet});
    if (std::regex_search(line, m, destroy_re))
      n.conns[std::stol(m[1].str())].push_back({"destroy", -1, lineno, packet});
    if (std::regex_search(line, m, free_re)) n.conns[std::stol(m[1].str())].push_back({"free", -1, lineno, packet});
    if (std::regex_search(line, m, tracker_re))
      n.trackers[std::stol(m[1].str())].push_back({words_of(m[2].str()), lineno, packet});
    if (std::regex_search(line, m, alter_re)) n.replies[std::stol(m[1].str())].push_back({m[2].str(), lineno, packet});
    if (std::regex_search(line, m, queued_re)) {
      std::string bits = m[2].str();
      for (char& c : bits)
        if (c == '|') c = ' ';
      std::string key = m[4].str() + "|" + m[3].str();
      for (const std::string& b : words_of(bits)) key += "|" + b;
      n.queued[std::stol(m[1].str())].push_back({key, lineno, packet});
      ++n.queued_total;
    }
    if (std::regex_search(line, m, seen_reply_re)) {
      auto& t = n.trackers[std::stol(m[1].str())];
      if (!t.empty()) t.back().status.insert("IPS_SEEN_REPLY");
    }
  }
  return n;
}

std::string where(const std::string& scenario, int line, const std::string& packet) {
  return scenario + ": explain line " + std::to_string(line) + " (" + packet + ")";
}

// Returns how many stated facts were compared.
size_t check_scenario(const std::string& rel, const std::string& dir) {
  const std::string tag = std::to_string(std::hash<std::string>{}(rel));
  const std::string trace_path = dir + "/" + tag + ".jsonl", explain_path = dir + "/" + tag + ".explain";
  const std::string events_path = dir + "/" + tag + ".events";
  const RunResult r = run_ctsim("run " + shell_quote(source_path(rel)) + " --quiet --trace " + trace_path +
                                " --explain " + explain_path + " --events " + events_path);
  REQUIRE_MESSAGE(r.code == 0, rel << ": " << r.err);
  if (r.code != 0) return 0;
  const Narrative said = parse_narrative(read_file(explain_path));
  size_t compared = said.counts.size();
  for (const auto& kv : said.conns) compared += kv.second.size();

  // The trace: per conn the life-cycle records, and the end statistics.
  std::map<long, std::vector<std::pair<std::string, long>>> done;  // conn -> (record, use)
  std::map<long, std::vector<std::set<std::string>>> updates;
  std::map<long, std::string> reply_now;                 // conn -> its REPLY tuple as the trace last gave it
  std::map<long, std::vector<std::string>> nat_replies;  // conn -> REPLY tuples NAT records changed it to
  std::map<long, std::vector<std::string>> delivered;    // conn -> "listener|TYPE|bits" of delivered events
  nlohmann::json end;
  std::istringstream in(read_file(trace_path));
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    const std::string kind = rec.value("kind", "");
    const long id = rec.value("conn", 0L);
    if (kind == "new" || kind == "confirm") done[id].push_back({kind, rec.value("use", -1L)});
    if (kind == "dying" && rec.value("reason", "") != "clash") done[id].push_back({"dying", -1});
    if (kind == "destroy" || kind == "free") done[id].push_back({kind, -1});
    if (kind == "update") {
      std::set<std::string> st;
      for (const auto& s : rec["status"]) st.insert(s.get<std::string>());
      updates[id].push_back(st);
    }
    if (kind == "new") reply_now[id] = rec.value("reply", "");
    if (kind == "nat") {
      const std::string reply = rec.value("reply", "");
      if (reply != reply_now[id]) nat_replies[id].push_back(reply);
      reply_now[id] = reply;
    }
    if (kind == "event" && rec.value("delivered", false)) {
      std::string key = rec.value("listener", "") + "|" + rec.value("type", "");
      std::set<std::string> bits;
      for (const auto& b : rec["events"]) bits.insert(b.get<std::string>());
      for (const std::string& b : bits) key += "|" + b;
      delivered[id].push_back(key);
    }
    if (kind == "end") end = rec;
  }
  REQUIRE_MESSAGE(end.is_object(), rel << ": no end record");
  if (!end.is_object()) return 0;

  // (No structured bindings below: clang 14 cannot capture them in the
  // assertion macros' lambdas.)
  for (const auto& kv : said.counts) {
    const std::string& counter = kv.first;
    const uint64_t sum = kv.second;
    const int line = said.first_count.at(counter).first;
    const std::string& packet = said.first_count.at(counter).second;
    REQUIRE_MESSAGE(end["stats"].contains(counter), where(rel, line, packet)
                                                        << ": counter `" << counter << "` is not in the statistics");
    CHECK_MESSAGE(end["stats"][counter].get<uint64_t>() == sum,
                  where(rel, line, packet) << ": the narrative counts `" << counter << "` " << sum
                                           << " times, the statistics say " << end["stats"][counter]);
  }

  for (const auto& kv : said.conns) {
    const long id = kv.first;
    const std::vector<Said>& steps = kv.second;
    const auto& recs = done[id];
    for (size_t i = 0; i < steps.size(); ++i) {
      const Said& s = steps[i];
      REQUIRE_MESSAGE(i < recs.size(), where(rel, s.line, s.packet) << ": conn " << id << " " << s.what
                                                                    << " is stated, the trace has no such record");
      REQUIRE_MESSAGE(recs[i].first == s.what, where(rel, s.line, s.packet)
                                                   << ": conn " << id << " " << s.what << " is stated, the trace's "
                                                   << "record is " << recs[i].first);
      if (recs[i].second >= 0 && s.use >= 0)
        CHECK_MESSAGE(recs[i].second == s.use, where(rel, s.line, s.packet)
                                                   << ": conn " << id << " " << s.what << " states use " << s.use
                                                   << ", the trace says " << recs[i].second);
    }
    CHECK_MESSAGE(steps.size() == recs.size(), rel << ": conn " << id << ": " << steps.size()
                                                   << " life-cycle steps told, " << recs.size() << " in the trace");
  }
  for (const auto& kv : done) {
    const long id = kv.first;
    CHECK_MESSAGE(said.conns.count(id) != 0, rel << ": conn " << id << " is in the trace, not in the narrative");
  }

  // NAT: the REPLY tuples stated, conn by conn, are the trace's.
  for (const auto& kv : nat_replies) {
    const long id = kv.first;
    static const std::vector<Stated> kNone;
    const auto it = said.replies.find(id);
    const std::vector<Stated>& told = it == said.replies.end() ? kNone : it->second;
    REQUIRE_MESSAGE(told.size() == kv.second.size(), rel << ": conn " << id << ": NAT changed its REPLY tuple "
                                                         << kv.second.size() << " time(s) in the trace, the narrative "
                                                         << "says nf_conntrack_alter_reply() " << told.size());
    for (size_t i = 0; i < told.size(); ++i) {
      CHECK_MESSAGE(told[i].text == kv.second[i], where(rel, told[i].line, told[i].packet)
                                                      << ": conn " << id << ": REPLY is now " << told[i].text
                                                      << ", the trace's nat record says " << kv.second[i]);
      ++compared;
    }
  }
  for (const auto& kv : said.replies) {
    const long id = kv.first;
    CHECK_MESSAGE(nat_replies.count(id) != 0, where(rel, kv.second[0].line, kv.second[0].packet)
                                                  << ": conn " << id << ": a REPLY change no nat record has");
  }

  // Events: each message stated queued is the trace's delivered event.
  for (const auto& kv : said.queued) {
    const long id = kv.first;
    const std::vector<std::string>& recs = delivered[id];
    for (size_t i = 0; i < kv.second.size(); ++i) {
      const Stated& q = kv.second[i];
      REQUIRE_MESSAGE(i < recs.size(), where(rel, q.line, q.packet)
                                           << ": conn " << id << ": message " << q.text
                                           << " is stated queued, the trace delivered no such event");
      CHECK_MESSAGE(recs[i] == q.text, where(rel, q.line, q.packet) << ": conn " << id << ": stated " << q.text
                                                                    << ", the trace delivered " << recs[i]);
      ++compared;
    }
  }
  for (const auto& kv : delivered) {
    const auto it = said.queued.find(kv.first);
    CHECK_MESSAGE((it != said.queued.end() && it->second.size() == kv.second.size()),
                  rel << ": conn " << kv.first << ": " << kv.second.size() << " events delivered in the trace, "
                      << (it == said.queued.end() ? 0 : it->second.size()) << " told");
  }
  // The --events stream: one line per message (the ENOBUFS warning aside).
  size_t stream = 0;
  std::istringstream ev(read_file(events_path));
  for (std::string line; std::getline(ev, line);)
    if (line.find("[NEW]") != std::string::npos || line.find("[UPDATE]") != std::string::npos ||
        line.find("[DESTROY]") != std::string::npos)
      ++stream;
  CHECK_MESSAGE(stream == said.queued_total, rel << ": the narrative says " << said.queued_total
                                                 << " messages were queued, the --events stream has " << stream);

  for (const auto& kv : updates) {
    const long id = kv.first;
    const std::vector<std::set<std::string>>& ups = kv.second;
    static const std::vector<TrackerSaid> kNone;
    const auto it = said.trackers.find(id);
    const auto& told = it == said.trackers.end() ? kNone : it->second;
    size_t at = 0;
    for (const std::set<std::string>& st : ups) {
      while (at < told.size() && told[at].status != st) ++at;
      std::string want;
      for (const std::string& s : st) want += s + " ";
      REQUIRE_MESSAGE(
          at < told.size(),
          rel << ": conn " << id << ": the trace's update with status " << want << "is told by no tracker step (last: "
              << (told.empty() ? std::string("none") : where(rel, told.back().line, told.back().packet)) << ")");
      ++at;
      ++compared;
    }
  }
  return compared;
}

}  // namespace

TEST_CASE("explain: every scenario's narrative agrees with its trace and statistics") {
  const std::string dir = temp_dir();
  const std::vector<std::string> all = repo_scenarios();
  REQUIRE(all.size() > 30);
  size_t compared = 0;
  for (const std::string& rel : all) {
    CAPTURE(rel);
    compared += check_scenario(rel, dir);
  }
  // The parser found the narratives' statements (a layout change that it
  // no longer reads would otherwise pass silently).
  CHECK(compared > 1000);
  MESSAGE("statements compared: " << compared);
}

TEST_CASE("explain cross-check: a narrative that miscounts is caught") {
  // The parser on a hand-made narrative: two `invalid` lines, one stated use.
  const Narrative n = parse_narrative(
      "\npacket 1 at 0s (jiffies 0), netns init, CPU 0, path p:\n"
      "  1. nf_conntrack_in() counts `invalid` (netns init, CPU 0)\n"
      "  2. early_drop() counts `early_drop` + 3 (netns init, CPU 0)\n"
      "  3. init_conntrack() allocates conn 7 (__nf_conntrack_alloc; netns init count 1)\n"
      "       it joins the unconfirmed list of netns init, CPU 0; use 1 (the skb's reference); ctinfo IP_CT_NEW\n"
      "  4. nf_conntrack_udp_packet(): conn 7 timeout 30 s, status none: NF_ACCEPT\n"
      "  5. nf_conntrack_in(): the tracker has returned: IPS_SEEN_REPLY set on conn 7 (x)\n"
      "  6. nf_conntrack_alter_reply(): conn 7: REPLY is now udp 10.1.0.1:53 > 10.0.0.5:40000 (the tuple confirm "
      "will hash)\n"
      "  7. nf_ct_deliver_cached_events(): conn 7 events IPCT_NEW|IPCT_REPLY (of them IPCT_NEW missed by an earlier "
      "delivery) -> ctnetlink [NEW] message to listener \"a\": queued (backlog 1)\n");
  CHECK(n.counts.at("invalid") == 1);
  CHECK(n.counts.at("early_drop") == 3);
  REQUIRE(n.conns.at(7).size() == 1);
  CHECK(n.conns.at(7)[0].use == 1);
  CHECK(n.conns.at(7)[0].packet == "packet 1");
  REQUIRE(n.trackers.at(7).size() == 1);
  CHECK(n.trackers.at(7)[0].status == std::set<std::string>{"IPS_SEEN_REPLY"});
  REQUIRE(n.replies.at(7).size() == 1);
  CHECK(n.replies.at(7)[0].text == "udp 10.1.0.1:53 > 10.0.0.5:40000");
  REQUIRE(n.queued.at(7).size() == 1);
  CHECK(n.queued.at(7)[0].text == "a|NEW|IPCT_NEW|IPCT_REPLY");
  CHECK(n.queued_total == 1);
}
