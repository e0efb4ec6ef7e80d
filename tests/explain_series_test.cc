// Explain mode and the time series: the walk-through's narrative is pinned
// by a golden file, the narrative names the kernel steps, the series has
// its documented columns and rows, and neither changes the trace.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

const std::string kWalk = source_path("scenarios/seed-walkthrough.json");

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

TEST_CASE("explain: the seed walk-through matches its golden narrative") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + kWalk + " --explain " + dir + "/e.txt --quiet");
  REQUIRE(r.code == 0);
  const std::string got = read_file(dir + "/e.txt");
  const std::string golden = read_file(source_path("tests/golden/seed-walkthrough.explain"));
  REQUIRE_MESSAGE(!golden.empty(), "no tests/golden/seed-walkthrough.explain: run `make goldens`");
  const bool same = got == golden;
  CHECK_MESSAGE(same,
                "explain output changed; if intended, run `make goldens` and explain why in "
                "the commit message");
}

TEST_CASE("explain: the narrative tells the kernel walk-through's steps") {
  const std::string dir = temp_dir();
  REQUIRE(run_ctsim("run " + kWalk + " --explain " + dir + "/e.txt --quiet").code == 0);
  const std::string e = read_file(dir + "/e.txt");
  // packet 1: tuple, hash and bucket, empty chain, init_conntrack with the
  // inverted tuple on the unconfirmed list of CPU 0, confirm into both buckets.
  CHECK(has(e, "packet 1 at 0.000000000s"));
  CHECK(has(e, "2. nf_ct_get_tuple(): tcp 192.168.1.2:47562 > 10.0.0.2:80\n"));
  CHECK(has(e, "reciprocal_scale(hash, 1024) = bucket 474\n"));
  CHECK(has(e, "____nf_conntrack_find(): bucket 474 is empty"));
  CHECK(has(e, "REPLY    tcp 10.0.0.2:80 > 192.168.1.2:47562  (nf_ct_invert_tuple)"));
  CHECK(has(e, "it joins the unconfirmed list of netns init, CPU 0; use 1"));
  CHECK(has(e, "ORIGINAL hashed into bucket 474, REPLY into bucket 154 (both at the chain head); use 2"));
  // packet 4: a chain of 3 compared node by node, matched in REPLY.
  CHECK(has(e,
            "____nf_conntrack_find() walks bucket 154: 3 nodes\n"
            "       node 1: conn 3 ORIGINAL tcp 192.168.1.4:41453 > 10.0.0.2:80: nf_ct_key_equal() is false\n"
            "       node 2: conn 2 ORIGINAL tcp 192.168.1.3:41062 > 10.0.0.2:80: nf_ct_key_equal() is false\n"
            "       node 3: conn 1 REPLY tcp 10.0.0.2:80 > 192.168.1.2:47562: nf_ct_key_equal() is true\n"));
  CHECK(has(e,
            "match in the REPLY direction: conn 1; __nf_conntrack_find_get() takes a reference for the skb: "
            "use 2; ctinfo IP_CT_ESTABLISHED_REPLY"));
  CHECK(has(e, "nf_conntrack_tcp_packet(): conn 1 SYN_SENT -> SYN_RECV, timeout 60 s"));
  CHECK(has(e, "nf_conntrack_tcp_packet(): conn 1 SYN_RECV -> ESTABLISHED, timeout 600 s"));
  // the end: gc_worker reaps conn 1, destroy and free, in that order
  const size_t dying = e.find("nf_ct_delete(): conn 1 (expired, met by gc_worker");
  const size_t event = e.find("conn 1 events IPCT_DESTROY -> ctnetlink [DESTROY]");
  const size_t destroy = e.find("nf_ct_put(): use 0 -> destroy_conntrack(): conn 1 leaves the dying list");
  CHECK(has(e, "nf_ct_delete_from_lists(): conn 1: ORIGINAL node off bucket 474; REPLY node off bucket 154\n"));
  const size_t freed = e.find("nf_conntrack_free(): conn 1 back to the slab; netns init count 0");
  REQUIRE(dying != std::string::npos);
  CHECK(dying < event);
  CHECK(event < destroy);
  CHECK(destroy < freed);
  CHECK(has(e, "kernel work: gc_worker at 602.772000000s"));
}

TEST_CASE("explain and series do not change the trace or the events") {
  const std::string dir = temp_dir();
  REQUIRE(run_ctsim("run " + kWalk + " --quiet --trace " + dir + "/a.jsonl --events " + dir + "/a.events").code == 0);
  REQUIRE(run_ctsim("run " + kWalk + " --quiet --trace " + dir + "/b.jsonl --events " + dir + "/b.events --explain " +
                    dir + "/e.txt --series " + dir + "/s.csv --series-every 10ms")
              .code == 0);
  CHECK(read_file(dir + "/a.jsonl") == read_file(dir + "/b.jsonl"));
  CHECK(read_file(dir + "/a.events") == read_file(dir + "/b.events"));
  CHECK(read_file(dir + "/a.jsonl").size() > 1000);
}

TEST_CASE("series: documented columns, one row per interval plus the end, integers only") {
  const std::string dir = temp_dir();
  RunResult r =
      run_ctsim("run " + kWalk + " --series " + dir + "/s.csv --series-every 100s --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  auto rows = lines_of(read_file(dir + "/s.csv"));
  REQUIRE(rows.size() == 8);  // header, 100 s .. 600 s, the end at 602.772 s
  CHECK(rows[0] ==
        "t_ns,jiffies,table,count_init,tcp_none,tcp_syn_sent,tcp_syn_recv,tcp_established,tcp_fin_wait,"
        "tcp_close_wait,tcp_last_ack,tcp_time_wait,tcp_close,tcp_syn_sent2,unconfirmed,dying,gc_runs,gc_scanned,"
        "gc_expired,gc_early_dropped,backlog_events,lost_events,events_offered,events_delivered");
  const auto cols = split(rows[0], ',');
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto v = split(rows[i], ',');
    REQUIRE(v.size() == cols.size());
    for (const std::string& x : v) {
      CHECK(!x.empty());
      CHECK(x.find_first_not_of("0123456789") == std::string::npos);
    }
  }
  auto col = [&](size_t row, const std::string& name) {
    for (size_t c = 0; c < cols.size(); ++c)
      if (cols[c] == name) return std::stoull(split(rows[row], ',')[c]);
    FAIL("no column " << name);
    return 0ull;
  };
  CHECK(col(1, "t_ns") == 100000000000ull);
  CHECK(col(6, "t_ns") == 600000000000ull);
  CHECK(col(7, "t_ns") == 602772000000ull);  // the end: the GC reaped conn 1
  // at 100 s: three conns, two still SYN_SENT, one ESTABLISHED
  CHECK(col(1, "table") == 3);
  CHECK(col(1, "count_init") == 3);
  CHECK(col(1, "tcp_syn_sent") == 2);
  CHECK(col(1, "tcp_established") == 1);
  CHECK(col(1, "gc_runs") > 700);  // about 8 a second on an idle table
  // between 100 s and 200 s the GC reaped conns 2 and 3 (timeout 120 s)
  CHECK(col(2, "gc_expired") == 2);
  CHECK(col(2, "table") == 1);
  CHECK(col(7, "table") == 0);
  CHECK(col(7, "gc_expired") == 1);
  CHECK(col(7, "events_delivered") == 8);
  // The sampling does not keep the run alive: the trace still ends at 602.772 s.
  auto trace = lines_of(read_file(dir + "/t.jsonl"));
  CHECK(trace.back().rfind("{\"t\":602772000000,", 0) == 0);
}

TEST_CASE("series-every: bad values are refused before anything runs") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + kWalk + " --series " + dir + "/s.csv --series-every soon");
  CHECK(r.code == 2);
  CHECK(has(r.err, "--series-every soon"));
  CHECK(!file_exists(dir + "/s.csv"));
  CHECK(run_ctsim("run " + kWalk + " --series " + dir + "/s.csv --series-every 0s").code == 2);
}

TEST_CASE("explain and series are all-or-nothing outputs") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + kWalk + " --trace " + dir + "/t.jsonl --explain /dev/full");
  CHECK(r.code == 2);
  CHECK(has(r.err, "/dev/full: write error"));
  CHECK(!file_exists(dir + "/t.jsonl"));
  r = run_ctsim("run " + kWalk + " --explain " + dir + "/e.txt --series /dev/full");
  CHECK(r.code == 2);
  CHECK(!file_exists(dir + "/e.txt"));
  r = run_ctsim("run " + kWalk + " --series " + dir + "/nodir/s.csv");
  CHECK(r.code == 2);
  CHECK(has(r.err, "cannot open for writing"));
}

TEST_CASE("--quiet: no summary; no progress line when stderr is not a terminal") {
  RunResult r = run_ctsim("run " + kWalk + " --quiet");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  r = run_ctsim("run " + kWalk);
  CHECK(has(r.err, "ctsim: seed-walkthrough: 9 packets"));
  CHECK(!has(r.err, "\r"));
}

TEST_CASE("explain: queue, clash, lost and refused events, flush and netns exit") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + source_path("tests/data/explain-mix.json") + " --quiet --explain " + dir +
                          "/e.txt --series " + dir + "/s.csv --series-every 20ms");
  REQUIRE(r.code == 0);
  const std::string e = read_file(dir + "/e.txt");
  // Two CPUs interleave hook by hook: the narrative says which packet goes on.
  CHECK(has(e,
            "packet 1 continues at 0.000000000s (jiffies 4294892296), CPU 0:\n  9. forward hook\n"
            "  10. rule \"udp dport 53\" matches: verdict queue\n"));
  CHECK(has(e, "11. forward hook: the queued packet is reinjected (nf_reinject)"));
  CHECK(has(e,
            "__nf_conntrack_confirm() finds the tuple taken by conn 1: nf_ct_resolve_clash() for conn 2: "
            "merged into winner"));
  // The loser is moved, not deleted (v5.10: nf_ct_add_to_dying_list(), no
  // IPS_DYING, no nf_ct_delete()), and is destroyed off the dying list; each
  // move as the core reported it.
  CHECK(has(e,
            "       nf_ct_del_from_dying_or_unconfirmed_list(): off CPU 1's unconfirmed list\n"
            "  14. __nf_ct_resolve_clash(): conn 2 is not inserted: it never was in the table, so nothing deletes "
            "it (no IPS_DYING, no nf_ct_delete(), no IPCT_DESTROY); use 1, the skb's reference\n"));
  CHECK(has(e, "16. nf_ct_add_to_dying_list(): conn 2: onto CPU 1's dying list\n"));
  CHECK(
      has(e, "17. __nf_ct_resolve_clash(): nf_ct_put(): use 0 -> destroy_conntrack(): conn 2 leaves the dying list\n"));
  CHECK_FALSE(has(e, "nf_ct_delete(): conn 2"));
  CHECK(has(e,
            "rule \"tcp dport 23\" matches: verdict drop\n"
            "  11. the packet leaves the stack: nf_ct_put() drops its reference to conn 3: use 0\n"
            "  12. nf_ct_put(): use 0 -> destroy_conntrack(): conn 3 leaves the unconfirmed list\n"));
  CHECK(has(e, "message to listener \"a\": lost: the buffer is full (the reader will see ENOBUFS)"));
  CHECK(has(e, "message to listener \"b\": refused: the reliable listener's buffer is full"));
  CHECK(has(e,
            "action flush at 0.050000000s (jiffies 4294892308):\n"
            "  1. nf_ct_delete(): conn 1 (conntrack -F (nf_ct_iterate_cleanup)): IPS_DYING set"));
  CHECK(has(e, "nf_ct_delete(): conn 6 (its namespace exits (nf_conntrack_cleanup_net))"));
  CHECK(has(e, "nf_conntrack_free(): conn 6 back to the slab; netns blue count 0"));
  // The series has a column per namespace and per listener.
  auto rows = lines_of(read_file(dir + "/s.csv"));
  REQUIRE(rows.size() > 3);
  CHECK(has(rows[0], ",count_init,count_blue,tcp_none,"));
  CHECK(has(rows[0], ",backlog_a,backlog_b,lost_a,lost_b,events_offered,events_delivered"));
  CHECK(rows[1] == "20000000,4294892301,4,3,1,0,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,2,1,1,0,6,3");
  // after the flush (50 ms) and netns_del (60 ms): nothing in the table,
  // three conns held on the dying list for the reliable listener
  CHECK(rows[3] == "60000000,4294892311,0,3,0,0,0,0,0,0,0,0,0,0,0,0,3,0,0,0,0,2,1,4,0,12,3");
}

TEST_CASE("progress: a long run on a terminal shows a progress line on stderr") {
  if (std::system("command -v script >/dev/null 2>&1") != 0) return;  // util-linux script(1) absent
  const std::string dir = temp_dir();
  // explain-mix with a far `until`: the GC runs a few hundred thousand
  // times, which the progress callback sees; the TEST_ hook shows the line
  // at once instead of after two seconds of wall time.
  std::string s = read_file(source_path("tests/data/explain-mix.json"));
  s.replace(s.find("\"seed\": 3"), 9, std::string("\"seed\": 3, \"until\": \"20000s\""));
  write_file(dir + "/long.json", s);
  const std::string cmd = "CTSIM_TEST_PROGRESS_AFTER_MS=0 script -qec '" + std::string(CTSIM_BINARY) + " run " + dir +
                          "/long.json --trace /dev/null --events " + dir + "/t.events' " + dir +
                          "/tty.txt >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string tty = read_file(dir + "/tty.txt");
  CHECK(has(tty, "\rctsim: virtual time "));
  CHECK(has(tty, " events/s, "));
  CHECK(has(tty, "ctsim: mix: 6 packets"));
  // never in the outputs
  const std::string events = read_file(dir + "/t.events");
  CHECK(has(events, "[NEW] udp"));
  CHECK(!has(events, "events/s"));
}
