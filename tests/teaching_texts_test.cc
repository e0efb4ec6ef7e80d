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
  CHECK(!has(d,
             "unlike UDP in v5.10 there is no two-second stream rule, so the first packet after the reply already "
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

// ---- The narratives (--explain), each item of issue 21 on the scenario
// that showed it. Every string below was absent from the old narrative.

namespace {

// The narrative of a repository scenario, under `kernel` when given.
std::string explain_of(const std::string& scenario, const std::string& kernel = "") {
  const std::string dir = temp_dir();
  const std::string out = dir + "/" + std::to_string(std::hash<std::string>{}(scenario + kernel)) + ".explain";
  const RunResult r = run_ctsim("run " + shell_quote(source_path(scenario)) + " --quiet --explain " + out +
                                (kernel.empty() ? "" : " --kernel " + kernel));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return read_file(out);
}

// The block of packet `id` (its first hook step up to the blank line).
std::string packet_block(const std::string& e, int id) {
  const size_t at = e.find("\npacket " + std::to_string(id) + " at ");
  if (at == std::string::npos) return "";
  const size_t end = e.find("\n\n", at + 1);
  return e.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

TEST_CASE("explain 1: an ICMP error is looked up by nf_conntrack_inet_error, not resolve_normal_ct") {
  const std::string e = explain_of("scenarios/protocols/icmp-error.json");
  const std::string p2 = packet_block(e, 2);
  CHECK(has(p2, "nf_conntrack_in() -> nf_conntrack_handle_icmp() -> nf_conntrack_inet_error()\n"));
  CHECK(has(p2, "nf_conntrack_find_get(): conn 1: a reference taken: use 2"));
  CHECK(has(p2, "ctinfo IP_CT_RELATED_REPLY; nf_conntrack_in() skips resolve_normal_ct()"));
  CHECK(!has(p2, "-> resolve_normal_ct()"));
  const std::string v6 = explain_of("scenarios/protocols/icmpv6.json");
  CHECK(has(packet_block(v6, 6),
            "nf_conntrack_inet_error(): the quoted packet belongs to conn 3: ctinfo "
            "IP_CT_RELATED_REPLY"));
  const std::string ns = packet_block(v6, 3);  // neighbour solicitation
  CHECK(has(ns,
            "nf_conntrack_icmpv6_error(): ctinfo IP_CT_UNTRACKED: the skb is marked untracked, it gets no conn; "
            "nf_conntrack_in() skips resolve_normal_ct() and the tracker"));
  CHECK(!has(ns, "-> resolve_normal_ct()"));
}

TEST_CASE("explain 2: an ICMP error for no conn counts `error`, not `invalid`") {
  const std::string p3 = packet_block(explain_of("scenarios/protocols/icmp-error.json"), 3);
  CHECK(has(p3, "nf_conntrack_handle_icmp() counts `error`"));
  CHECK(!has(p3, "counts `invalid`"));
}

TEST_CASE("explain 3: the reply-only NAT_CLASH conn is confirmed and hashed by its REPLY node") {
  const std::string e = explain_of("scenarios/incidents/dns-race-dnat-two-backends.json");
  CHECK(!has(e, "it was never confirmed"));
  CHECK(!has(e, "waits on the unconfirmed list"));
  CHECK(has(e,
            "nf_ct_resolve_clash() for conn 2: inserted reply-only\n"
            "       nf_ct_del_from_dying_or_unconfirmed_list(): off CPU 1's unconfirmed list\n"
            "       nf_ct_resolve_clash_harder(): IPS_FIXED_TIMEOUT set; IPS_NAT_CLASH set; IPS_CONFIRMED set; REPLY "
            "node at the head of bucket 22; a reference taken: use 2\n"));
  // Its delete: off its one bucket, onto the dying list.
  CHECK(has(e, "nf_ct_delete_from_lists(): conn 2: REPLY node off bucket 22\n"));
  CHECK(has(e, "nf_ct_add_to_dying_list(): conn 2: onto CPU 0's dying list\n"));
}

TEST_CASE("explain 4: a refused NEW keeps no conn; only a refused DESTROY waits for redelivery") {
  const std::string e = explain_of("scenarios/incidents/events-reliable.json");
  CHECK(!has(e, "the kernel keeps the conn for redelivery"));
  // What the core did about each refusal is the core's report
  // (on_event_result), not the listener's outcome.
  CHECK(has(e,
            "[NEW] message to listener \"conntrackd\": refused: the reliable listener's buffer is full: ctnetlink "
            "returns -ENOBUFS\n"
            "  14. nf_ct_deliver_cached_events(): conn 5: refused (-ENOBUFS): the events join its missed bits (missed "
            "IPCT_NEW) and ride with its next event; nothing keeps the conn\n"));
  CHECK(has(e,
            "nf_ct_deliver_cached_events(): conn 5 events IPCT_NEW|IPCT_REPLY (of them IPCT_NEW missed by an earlier "
            "delivery) -> ctnetlink [NEW]"));
  CHECK(has(e,
            "nf_conntrack_eventmask_report(): conn 27: the DESTROY was refused (-ENOBUFS): ecache state "
            "NFCT_ECACHE_DESTROY_FAIL, for ecache_work() to redeliver\n"
            "  4. nf_ct_delete_from_lists(): conn 27: ORIGINAL node off bucket 6; REPLY node off bucket 1\n"
            "  5. nf_ct_add_to_dying_list(): conn 27: onto CPU 0's dying list\n"));
  CHECK(has(e, "nf_conntrack_eventmask_report(): conn 23: delivered: its missed bits are cleared (missed none)"));
}

TEST_CASE("explain 6: NAT is narrated from the core: the binding, the null binding and the rewritten reply") {
  const std::string e = explain_of("scenarios/incidents/dns-race-dnat-two-backends.json");
  // The rule is nft's (the world's); every step after it the core reported
  // from nf_nat_setup_info(), get_unique_tuple() and nf_conntrack_alter_reply().
  CHECK(has(e,
            "nf_nat_inet_fn(): destination NAT for conn 1: rule \"udp daddr 10.96.0.10 dport 53\" (dnat to "
            "10.1.0.1:53) -> nf_nat_setup_info()\n"
            "  10. get_unique_tuple() for conn 1: find_best_ips_proto() chose the address; the destination port/id is "
            "in range and the tuple unused: kept\n"
            "       the tuple after NAT: udp 10.0.0.5:40000 > 10.1.0.1:53\n"
            "  11. nf_conntrack_alter_reply(): conn 1: REPLY is now udp 10.1.0.1:53 > 10.0.0.5:40000 (the tuple "
            "confirm will hash)\n"
            "  12. nf_nat_setup_info(): conn 1: IPS_DST_NAT set; IPS_DST_NAT_DONE set\n"));
  CHECK(has(e,
            "nf_nat_inet_fn(): no source NAT rule bound conn 2 -> nf_nat_alloc_null_binding() -> "
            "nf_nat_setup_info()\n"));
  CHECK(has(e,
            "nf_nat_setup_info(): conn 2: onto the bysource table, bucket 960 (hash_by_src of its ORIGINAL source); "
            "IPS_SRC_NAT_DONE set\n"));
  // The old narrative's own sentence, no longer written by the writer.
  CHECK(!has(e, "; IPS_DST_NAT set\n"));
  // A taken candidate: nf_conntrack_tuple_taken() counts `found` itself.
  const std::string r = explain_of("scenarios/incidents/snat-port-race.json");
  CHECK(has(r,
            "rule \"ip saddr 10.244.0.0/16\" (masquerade) -> nf_nat_masquerade_ipv4() -> nf_nat_setup_info()\n"
            "  15. nf_conntrack_tuple_taken() counts `found` (netns node, CPU 1)\n"
            "  16. get_unique_tuple() for conn 3: nf_nat_l4proto_unique_tuple() picked a free source port/id after 1 "
            "attempt(s) in 1 round(s); 1 candidate(s) found taken\n"));
  CHECK(!has(r, "nf_conntrack_tuple_taken counts `found`)"));
  CHECK(has(r, "nf_nat_cleanup_conntrack(): conn 2: off the bysource table\n"));
}

TEST_CASE("explain 7: a tracker run that changes nothing is told, with why tcp_in_window accepted") {
  const std::string p4 = packet_block(explain_of("scenarios/incidents/tcp-out-of-window-liberal.json"), 4);
  CHECK(has(p4,
            "nf_conntrack_tcp_packet(): conn 1 ESTABLISHED, timeout 432000 s, status IPS_SEEN_REPLY IPS_ASSURED "
            "IPS_CONFIRMED: NF_ACCEPT\n"
            "       tcp_in_window(): the segment is outside the window, accepted because "
            "nf_conntrack_tcp_be_liberal=1\n"));
}

TEST_CASE("explain 9: early drop runs inside __nf_conntrack_alloc, once the count exceeds the max") {
  const std::string e = explain_of("scenarios/incidents/table-full.json");
  CHECK(!has(e, "(nearly) full"));
  const size_t alloc = e.find("__nf_conntrack_alloc(): netns init count 65 > nf_conntrack_max 64: early_drop()");
  REQUIRE(alloc != std::string::npos);
  const size_t kill = e.find("early_drop_list(): conn ", alloc);
  const size_t counted = e.find("early_drop() counts `early_drop`", alloc);
  const size_t made = e.find("init_conntrack() allocates conn", alloc);
  REQUIRE(kill != std::string::npos);
  CHECK(e.substr(kill, e.find('\n', kill) - kill).find("of netns init is neither ASSURED nor dying") !=
        std::string::npos);
  CHECK(e.find("nf_ct_delete(): conn", kill) < counted);  // it kills before early_drop() counts
  CHECK(kill < counted);
  CHECK(counted < made);
}

TEST_CASE("explain 10: IPS_SEEN_REPLY is set by nf_conntrack_in after the tracker, not by the tracker") {
  const std::string e = read_file(source_path("tests/golden/seed-walkthrough.explain"));
  CHECK(has(e,
            "nf_conntrack_tcp_packet(): conn 1 SYN_SENT -> SYN_RECV, timeout 60 s, status IPS_CONFIRMED: NF_ACCEPT\n"
            "       nf_conntrack_event_cache(): IPCT_PROTOINFO cached\n"
            "  7. nf_conntrack_in(): the tracker has returned: IPS_SEEN_REPLY set on conn 1"));
  CHECK(!has(e, "SYN_RECV, timeout 60 s, status IPS_SEEN_REPLY"));
}

TEST_CASE("explain 14: nf_conntrack_in puts the skb's reference after an invalid verdict") {
  const std::string p4 = packet_block(explain_of("scenarios/incidents/tcp-out-of-window.json"), 4);
  CHECK(has(p4,
            "nf_conntrack_tcp_packet(): conn 1: returns -NF_ACCEPT: invalid, the packet goes on without a conn\n"
            "  7. invalid: tcp seq beyond the receiver's window\n"
            "  8. nf_conntrack_in(): conn 1: nf_ct_put(): use 1\n"
            "  9. nf_conntrack_in() counts `invalid`"));
}

TEST_CASE("explain, per kernel profile: lists (L1), the GC's cycle (G1) and 6.1+'s ignored TCP segment") {
  // L1: 5.10 joins the unconfirmed list, 6.18 has none to join.
  const std::string u510 = explain_of("scenarios/kernels/udp-assured.json", "5.10");
  const std::string u618 = explain_of("scenarios/kernels/udp-assured.json", "6.18");
  CHECK(has(u510, "it joins the unconfirmed list of netns"));
  CHECK(!has(u618, "unconfirmed list of netns"));
  CHECK(!has(u618, "leaves the unconfirmed list"));
  CHECK(has(u618, "it is on no list; use 1 (the skb's reference)"));
  // G1: v5.10's slices against the whole-table cycle.
  const std::string g510 = explain_of("scenarios/kernels/gc-linger.json", "5.10");
  const std::string g618 = explain_of("scenarios/kernels/gc-linger.json", "6.18");
  CHECK(has(g510, "early-dropped; next run in "));
  CHECK(!has(g510, "the cycle is done"));
  CHECK(has(g618, "the cycle is done"));
  CHECK(has(g510, "nf_ct_add_to_dying_list(): conn 1: onto CPU 0's dying list"));
  CHECK(!has(g618, "nf_ct_add_to_dying_list()"));
  // T5: the old segment is invalid under 5.10, ignored under 6.18.
  const std::string t510 = explain_of("scenarios/kernels/tcp-old-ack.json", "5.10");
  const std::string t618 = explain_of("scenarios/kernels/tcp-old-ack.json", "6.18");
  CHECK(has(t510, "returns -NF_ACCEPT: invalid"));
  CHECK(!has(t510, "NFCT_TCP_IGNORE"));
  CHECK(has(t618, "tcp_in_window() returns NFCT_TCP_IGNORE (6.1+)"));
  CHECK(!has(t618, "returns -NF_ACCEPT: invalid"));
}

TEST_CASE("explain: a reopen's -NF_REPEAT is told as the tracker's verdict, then nf_conntrack_in's repeat") {
  const std::string e = explain_of("scenarios/incidents/tcp-reopen.json");
  const size_t verdict = e.find("nf_conntrack_tcp_packet(): conn 1: returns -NF_REPEAT: it killed the conn");
  REQUIRE(verdict != std::string::npos);
  const size_t put = e.find("nf_conntrack_in(): nf_ct_put(): use 0 -> destroy_conntrack(): conn 1", verdict);
  const size_t counted = e.find("nf_conntrack_in() counts `invalid`", verdict);
  const size_t repeat =
      e.find("nf_conntrack_in(): back to `repeat:`: resolve_normal_ct() looks the packet up again", verdict);
  const size_t again = e.find("resolve_normal_ct()", repeat + 60);
  REQUIRE(repeat != std::string::npos);
  CHECK(put < repeat);      // the skb's reference goes before the second lookup
  CHECK(counted < repeat);  // v5.10 counts a reopen invalid (C3: not from 5.17)
  CHECK(again != std::string::npos);
  // The verdict line says nothing the core did not report about the repeat.
  CHECK(e.substr(verdict, e.find('\n', verdict) - verdict).find("looks the packet up") == std::string::npos);
}
