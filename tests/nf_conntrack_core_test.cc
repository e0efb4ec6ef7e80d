// The conntrack core's table and life cycle, pinned to v5.10
// (net/netfilter/nf_conntrack_core.c): chain order, reference counts at every
// step, drops before confirm, packets held across a flush, the confirm clash
// race, early drop and "table full", the per-namespace count against the
// global max, expiry across the 32-bit jiffies wrap, lazy eviction with
// search_restart, namespaces, and a randomized model test.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "sim/engine/rng.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

// Three packets of one UDP flow: the third finds SEEN_REPLY and sets ASSURED.
nf_conn* assured_udp(World& w, net& n, uint16_t sport, uint16_t dport = 53) {
  auto c = ipv4(10, 9, 0, 1), s = ipv4(10, 9, 0, 2);
  nf_conn* ct = nullptr;
  CHECK(w.forward(udp_packet(c, sport, s, dport), &n, 0, &ct) == NF_ACCEPT);
  CHECK(w.forward(udp_packet(s, dport, c, sport), &n) == NF_ACCEPT);
  CHECK(w.forward(udp_packet(c, sport, s, dport), &n) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  REQUIRE(ct->test_bit(IPS_ASSURED_BIT));
  return ct;
}

nf_conn* unreplied_udp(World& w, net& n, uint16_t sport, uint16_t dport = 53) {
  nf_conn* ct = nullptr;
  CHECK(w.forward(udp_packet(ipv4(10, 8, 0, 1), sport, ipv4(10, 8, 0, 2), dport), &n, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  REQUIRE_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  return ct;
}

}  // namespace

TEST_CASE("colliding conns are chained newest first and walked in that order") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  uint32_t b = 0;
  std::vector<Packet> pk = colliding_udp(w.ct, w.init, 3, &b);
  std::vector<uint32_t> ids;
  for (const Packet& p : pk) {
    nf_conn* c = nullptr;
    REQUIRE(w.forward(p, nullptr, 0, &c) == NF_ACCEPT);
    ids.push_back(c->id);
  }
  // hlist_nulls_add_head at confirm: the newest conn's ORIGINAL node first.
  CHECK(chain_walk(w.ct, b) == std::vector<uint32_t>{ids[2] * 2, ids[1] * 2, ids[0] * 2});
  // A lookup of the oldest walks all three; of the newest, one.
  w.forward(pk[0]);
  CHECK(rec.last_bucket == b);
  CHECK(rec.last_chain == 3);
  CHECK(rec.last_match);
  w.forward(pk[2]);
  CHECK(rec.last_chain == 1);
  // A fourth tuple of the same bucket walks the whole chain and misses.
  std::vector<Packet> four = colliding_udp(w.ct, w.init, 4, &b);
  Packet miss = four[3];
  CHECK(w.ct.nf_conntrack_in(w.init, 0, miss, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  CHECK(rec.last_chain == 3);
  CHECK_FALSE(rec.last_match);
  w.ct.nf_reset_ct(miss);
  CHECK(w.invariants() == "");
}

TEST_CASE("use at every step of the life cycle") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  const uint32_t hz = w.clock.hz();
  Packet p = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);

  CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* ct = p.ct;
  REQUIRE(ct != nullptr);
  // Allocated and unconfirmed: the skb's reference only, on the unconfirmed
  // list, counted, timeout relative.
  CHECK(ct->use == 1);
  CHECK_FALSE(nf_ct_is_confirmed(ct));
  CHECK(Conntrack::list_length(w.init.pcpu[0].unconfirmed) == 1);
  CHECK(w.init.count == 1);
  CHECK(ct->timeout == 30 * hz);
  CHECK(w.invariants({&p}) == "");

  CHECK(w.ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
  // Confirmed while the skb still holds it: table + skb.
  CHECK(ct->use == 2);
  CHECK(nf_ct_is_confirmed(ct));
  CHECK(Conntrack::list_length(w.init.pcpu[0].unconfirmed) == 0);
  CHECK(ct->timeout == w.ct.now32() + 30 * hz);
  CHECK(w.invariants({&p}) == "");

  w.ct.nf_reset_ct(p);
  CHECK(ct->use == 1);  // the table's
  CHECK(w.invariants() == "");

  // A lookup takes one more and the caller puts it.
  nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p));
  REQUIRE(h != nullptr);
  CHECK(ct->use == 2);
  w.ct.nf_ct_put(ct);
  CHECK(ct->use == 1);

  const uint32_t id = ct->id;
  CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  // The table's reference was the last: deleted and freed at once.
  CHECK(rec.was_freed(id));
  CHECK(w.init.count == 0);
  CHECK(w.ct.conns_allocated() == 0);
  CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("a packet dropped before confirm frees its unconfirmed conn") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  Packet p = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  const uint32_t id = p.ct->id;
  CHECK(Conntrack::list_length(w.init.pcpu[1].unconfirmed) == 1);
  CHECK(w.init.count == 1);
  w.ct.nf_reset_ct(p);  // NF_DROP at some later hook: the skb is freed
  CHECK(rec.was_freed(id));
  CHECK(rec.dying.empty());  // never DYING, never in the table
  CHECK(Conntrack::list_length(w.init.pcpu[1].unconfirmed) == 0);
  CHECK(w.init.count == 0);
  CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p)) == nullptr);
  CHECK(w.invariants() == "");
}

TEST_CASE("a packet held between hooks keeps its conn alive after a flush") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  Packet first = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(first, nullptr, 0, &ct) == NF_ACCEPT);
  Packet held = first;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, held, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(held.ct == ct);
  CHECK(ct->use == 2);

  CHECK(w.ct.nf_conntrack_flush(&w.init) == 1);
  // Off the table, on the dying list, still counted, held by the skb only.
  CHECK(nf_ct_is_dying(ct));
  CHECK(ct->use == 1);
  CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == 1);
  CHECK(w.init.count == 1);
  CHECK_FALSE(in_table(w.ct, ct));
  CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(first)) == nullptr);
  CHECK_FALSE(rec.was_freed(ct->id));
  CHECK(w.invariants({&held}) == "");

  // The confirm hook sees a confirmed (dead) conn: nothing to insert.
  CHECK(w.ct.nf_conntrack_confirm(0, held) == NF_ACCEPT);
  const uint32_t id = ct->id;
  w.ct.nf_reset_ct(held);
  CHECK(rec.was_freed(id));
  CHECK(w.init.count == 0);
  CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("an unconfirmed conn marked DYING fails its confirm (insert_failed)") {
  // __nf_ct_unconfirmed_destroy() (module or hook removal) sets DYING on
  // every unconfirmed conn; __nf_conntrack_confirm then refuses it after
  // taking it off the unconfirmed list.
  World w;
  Packet p = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* ct = p.ct;
  ct->set_bit(IPS_DYING_BIT);
  CHECK(w.ct.nf_conntrack_confirm(1, p) == NF_DROP);
  CHECK(w.ct.stat(w.init, 1).insert_failed == 1);
  CHECK(w.ct.stat(w.init, 1).drop == 0);
  CHECK_FALSE(nf_ct_is_confirmed(ct));
  CHECK(Conntrack::list_length(w.init.pcpu[0].unconfirmed) == 0);
  CHECK(Conntrack::list_length(w.init.pcpu[1].dying) == 1);  // the confirming CPU's
  CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p)) == nullptr);
  CHECK(w.invariants({&p}) == "");
  w.ct.nf_reset_ct(p);
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("confirm clash race: UDP is merged into the winner") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  Packet a = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  Packet b = a;
  // Both CPUs pass the conntrack hook before either confirms.
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* winner = a.ct;
  nf_conn* loser = b.ct;
  REQUIRE(winner != loser);
  CHECK(w.init.count == 2);
  CHECK(w.invariants({&a, &b}) == "");

  CHECK(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  const uint32_t loser_id = loser->id;
  CHECK(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
  CHECK(b.ct == winner);
  CHECK(b.ctinfo == IP_CT_NEW);
  CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
  CHECK(w.ct.stat(w.init, 1).insert_failed == 0);
  CHECK(w.ct.stat(w.init, 1).drop == 0);
  CHECK(rec.was_freed(loser_id));
  CHECK(w.init.count == 1);
  CHECK(winner->use == 3);  // table + two skbs
  CHECK(w.invariants({&a, &b}) == "");
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);
  CHECK(winner->use == 1);
  CHECK(table_conns(w.ct).size() == 1);
  CHECK(w.invariants() == "");
}

// Issue 21: the narrative's statements about these steps come from the
// core's own reports, made where the step happens, naming the function.
TEST_CASE("the core reports its branches and status bits where it takes them") {
  World w;
  Recorder rec;
  rec.watch = &w.init;
  w.ct.set_observer(&rec);
  const auto bit = [](const char* fn, unsigned b, uint32_t id) {
    return std::string(fn) + " status bit " + std::to_string(b) + " conn " + std::to_string(id);
  };
  const auto branch = [](const char* fn, CtBranch b, uint32_t id) {
    return std::string(fn) + " branch " + std::to_string(static_cast<int>(b)) + " conn " + std::to_string(id);
  };
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53), nullptr, 0, &ct) == NF_ACCEPT);
  const uint32_t id = ct->id;
  CHECK(rec.facts == std::vector<std::string>{branch("resolve_normal_ct", CtBranch::kInitConntrack, 0),
                                              bit("__nf_conntrack_confirm", IPS_CONFIRMED_BIT, id)});
  rec.facts.clear();
  CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  CHECK(rec.facts == std::vector<std::string>{bit("nf_ct_delete", IPS_DYING_BIT, id)});
  // on_free comes after the namespace's count went down.
  REQUIRE(rec.freed == std::vector<uint32_t>{id});
  CHECK(rec.count_at_free == std::vector<uint32_t>{0});

  // A TCP clash loser is not inserted: reported as such, no IPS_DYING.
  rec.facts.clear();
  Packet a = tcp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 80, TCPHDR_SYN, 1000);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  const uint32_t winner = a.ct->id, loser = b.ct->id;
  rec.facts.clear();
  CHECK(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  CHECK(w.ct.nf_conntrack_confirm(1, b) == NF_DROP);
  CHECK(rec.facts == std::vector<std::string>{bit("__nf_conntrack_confirm", IPS_CONFIRMED_BIT, winner),
                                              branch("nf_ct_resolve_clash", CtBranch::kNotInserted, loser)});
  w.ct.nf_reset_ct(b);
  w.ct.nf_reset_ct(a);

  // At namespace exit an unconfirmed conn is marked dying by
  // nf_ct_unconfirmed_destroy(), not nf_ct_delete().
  net& other = w.ct.net_add("other", 7);
  Packet held = udp_packet(ipv4(10, 0, 0, 3), 4001, ipv4(10, 0, 0, 2), 53);
  REQUIRE(w.ct.nf_conntrack_in(other, 0, held, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  rec.facts.clear();
  w.ct.net_exit(other);
  CHECK(rec.facts == std::vector<std::string>{bit("nf_ct_unconfirmed_destroy", IPS_DYING_BIT, held.ct->id)});
  w.ct.nf_reset_ct(held);
  CHECK(w.invariants() == "");
}

TEST_CASE("confirm clash race in opposite directions: merged with the loser's ctinfo") {
  // A->B and B->A both miss and create conns. The loser's ORIGINAL tuple
  // equals the winner's REPLY tuple, so confirm finds the winner's REPLY
  // node; __nf_ct_resolve_clash attaches the winner with the loser's ctinfo
  // (IP_CT_NEW), not IP_CT_ESTABLISHED_REPLY.
  World w;
  Packet a = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  Packet b = udp_packet(ipv4(10, 0, 0, 2), 53, ipv4(10, 0, 0, 1), 4000);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
  CHECK(b.ct == a.ct);
  CHECK(b.ctinfo == IP_CT_NEW);
  CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
  CHECK(w.init.count == 1);
  CHECK(w.invariants({&a, &b}) == "");
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_ct_resolve_clash_harder: a NATed loser with a free reply tuple goes in reply-only") {
  // ctsim has no NAT; the test plays its part: the winner has NAT done and
  // the loser's reply tuple was rewritten (nf_conntrack_alter_reply) before
  // confirm, so the two conns do not match and the loser's reply tuple is
  // not taken.
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  const uint32_t hz = w.clock.hz();
  Packet a = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  nf_conn* winner = a.ct;
  nf_conn* loser = b.ct;
  winner->status = static_cast<uint16_t>(winner->status | IPS_SRC_NAT_DONE);
  Packet natted = udp_packet(ipv4(10, 0, 0, 2), 53, ipv4(10, 9, 9, 9), 999);
  w.ct.nf_conntrack_alter_reply(loser, tuple_of(natted));

  REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
  CHECK(b.ct == loser);
  CHECK(w.ct.stat(w.init, 1).clash_resolve == 1);
  CHECK(w.ct.stat(w.init, 1).insert_failed == 0);
  CHECK(nf_ct_is_confirmed(loser));
  CHECK(loser->test_bit(IPS_NAT_CLASH_BIT));
  CHECK(loser->test_bit(IPS_FIXED_TIMEOUT_BIT));
  CHECK(loser->timeout == w.ct.now32() + hz);  // one second, absolute
  CHECK(loser->use == 2);                      // table + skb
  CHECK(w.init.count == 2);
  CHECK(w.invariants({&a, &b}) == "");
  // The ORIGINAL direction still finds only the winner ...
  nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(a));
  REQUIRE(h != nullptr);
  CHECK(nf_ct_tuplehash_to_ctrack(h) == winner);
  w.ct.nf_ct_put(winner);
  // ... the rewritten reply direction finds the loser.
  h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(natted));
  REQUIRE(h != nullptr);
  CHECK(nf_ct_tuplehash_to_ctrack(h) == loser);
  CHECK(h->tuple.dst.dir == IP_CT_DIR_REPLY);
  w.ct.nf_ct_put(loser);
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);

  // A reply does not refresh it (FIXED_TIMEOUT); one second on it is gone.
  w.clock.advance(hz / 2);
  REQUIRE(w.forward(natted) == NF_ACCEPT);
  CHECK(loser->timeout == w.ct.now32() + hz / 2);
  CHECK_FALSE(loser->test_bit(IPS_ASSURED_BIT));
  const uint32_t loser_id = loser->id;
  w.clock.advance(hz / 2);
  CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(natted)) == nullptr);
  CHECK(rec.was_freed(loser_id));
  CHECK(w.init.count == 1);
  CHECK(in_table(w.ct, winner));
  CHECK(w.invariants() == "");
}

TEST_CASE("confirm clash race: TCP loses the packet (insert_failed and drop)") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  Packet a = tcp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 80, TCPHDR_SYN, 1000);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* winner = a.ct;
  nf_conn* loser = b.ct;
  REQUIRE(winner != loser);
  CHECK(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  CHECK(w.ct.nf_conntrack_confirm(1, b) == NF_DROP);
  CHECK(w.ct.stat(w.init, 1).insert_failed == 1);
  CHECK(w.ct.stat(w.init, 1).drop == 1);
  CHECK(w.ct.stat(w.init, 1).clash_resolve == 0);
  // The loser waits on the dying list for its skb to go. v5.10 only moves
  // it there: IPS_DYING stays clear (nf_ct_resolve_clash, drop path).
  CHECK(b.ct == loser);
  CHECK_FALSE(nf_ct_is_dying(loser));
  CHECK_FALSE(nf_ct_is_confirmed(loser));
  CHECK(Conntrack::list_length(w.init.pcpu[1].dying) == 1);
  CHECK(w.init.count == 2);
  CHECK(w.invariants({&a, &b}) == "");
  const uint32_t loser_id = loser->id;
  w.ct.nf_reset_ct(b);
  w.ct.nf_reset_ct(a);
  CHECK(rec.was_freed(loser_id));
  CHECK(w.init.count == 1);
  CHECK(in_table(w.ct, winner));
  CHECK(w.invariants() == "");
}

TEST_CASE("early_drop evicts non-ASSURED conns only") {
  // 8 buckets: early_drop's 8-bucket range covers the whole table.
  World w({8, 4, 0x12345678, 2});
  nf_conn* a1 = assured_udp(w, w.init, 1001);
  nf_conn* a2 = assured_udp(w, w.init, 1002);
  nf_conn* u1 = unreplied_udp(w, w.init, 2001);
  nf_conn* u2 = unreplied_udp(w, w.init, 2002);
  const uint32_t u1_id = u1->id, u2_id = u2->id;
  Recorder rec;
  w.ct.set_observer(&rec);
  REQUIRE(w.init.count == 4);

  nf_conn* fresh = nullptr;
  CHECK(w.forward(udp_packet(ipv4(10, 7, 0, 1), 3000, ipv4(10, 7, 0, 2), 53), nullptr, 0, &fresh) == NF_ACCEPT);
  REQUIRE(fresh != nullptr);
  const uint32_t drops = w.ct.stat(w.init, 0).early_drop;
  CHECK(drops >= 1);
  CHECK(drops <= 2);
  CHECK(rec.dying.size() == drops);
  for (uint32_t id : rec.dying) CHECK((id == u1_id || id == u2_id));
  for (DeathReason r : rec.reasons) CHECK(r == DeathReason::kEarlyDrop);
  CHECK(in_table(w.ct, a1));
  CHECK(in_table(w.ct, a2));
  CHECK(in_table(w.ct, fresh));
  CHECK(w.init.count == 5 - drops);
  CHECK(w.ct.stat(w.init, 0).drop == 0);
  CHECK_FALSE(w.ct.gc_early_drop_pending());
  CHECK(w.invariants() == "");
}

TEST_CASE("early_drop kills every eligible conn of the bucket unless the walk is diverted") {
  SUBCASE("one bucket: R3 O3 R2 O2 R1 O1, all three dropped") {
    // Killing conn k through Rk unlinks Ok first, which rewrites Rk->next
    // to R(k-1): the walk goes on and drops every non-ASSURED conn.
    World w({1, 3, 0x12345678, 1});
    std::vector<uint32_t> ids;
    for (uint16_t i = 0; i < 3; ++i) ids.push_back(unreplied_udp(w, w.init, static_cast<uint16_t>(2000 + i))->id);
    CHECK(chain_walk(w.ct, 0) ==
          std::vector<uint32_t>{ids[2] * 2 + 1, ids[2] * 2, ids[1] * 2 + 1, ids[1] * 2, ids[0] * 2 + 1, ids[0] * 2});
    Recorder rec;
    w.ct.set_observer(&rec);
    CHECK(w.forward(udp_packet(ipv4(10, 7, 0, 1), 3000, ipv4(10, 7, 0, 2), 53)) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).early_drop == 3);
    CHECK(rec.dying == std::vector<uint32_t>{ids[2], ids[1], ids[0]});
    CHECK(w.init.count == 1);
    CHECK(w.invariants() == "");
  }
  SUBCASE("ORIGINAL nodes only: the first kill diverts the walk, one drop") {
    // Chain O3 O2 O1. Killing conn 3 moves O3 to the dying list, so O3->next
    // is the dying list's nulls marker and the walk ends there (early_drop
    // does not check the nulls value and does not restart).
    World w({1024, 3, 0x12345678, 1});
    uint32_t b = 0;
    std::vector<Packet> pk = colliding_udp(w.ct, w.init, 4, &b);
    std::vector<uint32_t> ids;
    for (int i = 0; i < 3; ++i) {
      nf_conn* c = nullptr;
      REQUIRE(w.forward(pk[i], nullptr, 0, &c) == NF_ACCEPT);
      ids.push_back(c->id);
    }
    CHECK(chain_walk(w.ct, b) == std::vector<uint32_t>{ids[2] * 2, ids[1] * 2, ids[0] * 2});
    Recorder rec;
    w.ct.set_observer(&rec);
    CHECK(w.forward(pk[3]) == NF_ACCEPT);  // count 4 > max 3: early_drop from bucket b
    CHECK(w.ct.stat(w.init, 0).early_drop == 1);
    CHECK(rec.dying == std::vector<uint32_t>{ids[2]});
    CHECK(w.init.count == 3);
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("default table size from RAM, rounded up to a page of heads") {
  constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
  CHECK(nf_conntrack_default_buckets(8 * GiB) == 65536);
  CHECK(nf_conntrack_default_buckets(4 * GiB) == 16384);  // not above 4 GiB
  CHECK(nf_conntrack_default_buckets(2 * GiB) == 16384);
  CHECK(nf_conntrack_default_buckets(512 * MiB) == 4096);  // 512 MiB / 16384 / 8
  CHECK(nf_conntrack_default_buckets(100 * MiB) == 1024);  // 800 -> 1024
  CHECK(nf_conntrack_default_buckets(1 * MiB) == 512);     // 8 -> 32 -> 512
  CHECK(nf_ct_round_buckets(1) == 512);
  CHECK(nf_ct_round_buckets(512) == 512);
  CHECK(nf_ct_round_buckets(513) == 1024);
}

TEST_CASE("table full: only ASSURED conns left, the new conn is dropped") {
  World w({8, 4, 0x12345678, 2});
  std::vector<nf_conn*> assured;
  for (uint16_t i = 0; i < 4; ++i) assured.push_back(assured_udp(w, w.init, 1001 + i));
  const uint64_t created = w.ct.conns_created();
  Packet p = udp_packet(ipv4(10, 7, 0, 1), 3000, ipv4(10, 7, 0, 2), 53);
  CHECK(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_DROP);
  CHECK(p.ct == nullptr);
  CHECK(w.ct.stat(w.init, 0).drop == 1);
  CHECK(w.ct.stat(w.init, 0).early_drop == 0);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(w.ct.gc_early_drop_pending());
  CHECK(w.init.count == 4);  // the increment was undone
  CHECK(w.ct.conns_created() == created);
  for (nf_conn* c : assured) CHECK(in_table(w.ct, c));
  CHECK(w.invariants() == "");
  // The next GC run consumes the request.
  w.advance_seconds(1);
  CHECK_FALSE(w.ct.gc_early_drop_pending());
}

TEST_CASE("v5.10: nf_conntrack_max is compared with each namespace's own count") {
  World w({8, 4, 0x12345678, 2});
  net& b = w.ct.net_add("b", 0x9999);
  std::vector<nf_conn*> in_b;
  for (uint16_t i = 0; i < 3; ++i) unreplied_udp(w, w.init, static_cast<uint16_t>(2000 + i));
  for (uint16_t i = 0; i < 3; ++i) in_b.push_back(unreplied_udp(w, b, static_cast<uint16_t>(2000 + i)));
  // Six conns in all, above max = 4, but each namespace has 3: no pressure.
  CHECK(w.init.count == 3);
  CHECK(b.count == 3);
  CHECK(w.ct.stat(w.init, 0).early_drop + w.ct.stat(b, 0).early_drop == 0);
  CHECK(w.ct.stat(w.init, 0).drop + w.ct.stat(b, 0).drop == 0);
  // The fourth of init reaches max (not above it): still no eviction.
  unreplied_udp(w, w.init, 2003);
  CHECK(w.init.count == 4);
  CHECK(w.ct.stat(w.init, 0).early_drop == 0);
  // The fifth goes above: init evicts its own conns and never b's.
  unreplied_udp(w, w.init, 2004);
  CHECK(w.ct.stat(w.init, 0).early_drop >= 1);
  CHECK(w.init.count == 5 - w.ct.stat(w.init, 0).early_drop);
  CHECK(b.count == 3);
  for (nf_conn* c : in_b) CHECK(in_table(w.ct, c));
  CHECK(w.invariants() == "");
}

TEST_CASE("expiry across the 32-bit jiffies wrap") {
  World w;
  const uint32_t hz = w.clock.hz();
  // The clock starts at INITIAL_JIFFIES = (u32)(-300 * HZ).
  CHECK(w.ct.now32() == static_cast<uint32_t>(-300 * static_cast<int32_t>(hz)));
  // 10 s before the 32-bit wrap.
  w.wq.advance_to(w.clock.jiffies() + 290 * hz);
  CHECK(w.ct.now32() == static_cast<uint32_t>(-10 * static_cast<int32_t>(hz)));
  nf_conn* ct = nullptr;
  Packet p = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  REQUIRE(w.forward(p, nullptr, 0, &ct) == NF_ACCEPT);
  // 30 s of life: the deadline is past the wrap, numerically below now.
  CHECK(ct->timeout == 20 * hz);
  CHECK(ct->timeout < w.ct.now32());
  CHECK_FALSE(nf_ct_is_expired(ct, w.ct.now32()));
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 30 * hz);

  // One jiffy before the deadline, on the far side of the wrap, with the GC
  // running all along: still there.
  w.wq.advance_to(w.clock.jiffies() + 30 * hz - 1);
  CHECK(w.ct.now32() == 20 * hz - 1);
  REQUIRE(in_table(w.ct, ct));
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 1);
  nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p));
  REQUIRE(h != nullptr);
  w.ct.nf_ct_put(ct);

  // At the deadline it is expired ((s32)(timeout - now) <= 0), and the next
  // lookup reaps it.
  w.clock.advance(1);
  CHECK(nf_ct_is_expired(ct, w.ct.now32()));
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 0);
  CHECK(w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p)) == nullptr);
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("lazy eviction on lookup and search_restart") {
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  const uint32_t hz = w.clock.hz();
  uint32_t b = 0;
  std::vector<Packet> pk = colliding_udp(w.ct, w.init, 3, &b);

  SUBCASE("expired conn met through its ORIGINAL node: the walk restarts") {
    nf_conn* old = nullptr;
    REQUIRE(w.forward(pk[0], nullptr, 0, &old) == NF_ACCEPT);
    const uint32_t old_id = old->id;
    // Past the deadline without running the GC.
    w.clock.advance(31 * hz);
    nf_conn* fresh = nullptr;
    REQUIRE(w.forward(pk[0], nullptr, 0, &fresh) == NF_ACCEPT);
    // nf_ct_gc_expired killed it from inside the walk: hlist_nulls_del_rcu
    // kept its ORIGINAL node's next, but the node was then added to the
    // dying list's head, so `next` became the dying list's nulls marker.
    // The walk ended on nulls (1<<30)+1 != bucket and restarted once.
    CHECK(w.ct.stat(w.init, 0).search_restart == 1);
    CHECK(rec.was_freed(old_id));
    REQUIRE(rec.reasons.size() == 1);
    CHECK(rec.reasons[0] == DeathReason::kTimeout);
    CHECK(fresh->id != old_id);
    CHECK(rec.last_chain == 1);  // one node walked before the restart, none after
    CHECK(w.init.count == 1);
    CHECK(w.invariants() == "");
  }

  SUBCASE("expired conn met through its REPLY node: no restart") {
    nf_conn* old = nullptr;
    REQUIRE(w.forward(pk[0], nullptr, 0, &old) == NF_ACCEPT);
    const uint32_t old_id = old->id;
    w.clock.advance(31 * hz);
    // A reply-direction packet hashes to the bucket of the REPLY node.
    Packet reply = udp_packet(pk[0].daddr, pk[0].dport, pk[0].saddr, pk[0].sport);
    nf_conn* fresh = nullptr;
    ip_conntrack_info info;
    REQUIRE(w.forward(reply, nullptr, 0, &fresh, &info) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).search_restart == 0);
    CHECK(rec.was_freed(old_id));
    CHECK(info == IP_CT_NEW);  // a new conn, the old one is gone
    CHECK(fresh->id != old_id);
    CHECK(w.invariants() == "");
  }

  SUBCASE("an expired conn behind a live one is reaped by a miss") {
    nf_conn* c0 = nullptr;
    nf_conn* c1 = nullptr;
    REQUIRE(w.forward(pk[0], nullptr, 0, &c0) == NF_ACCEPT);
    w.clock.advance(20 * hz);
    REQUIRE(w.forward(pk[1], nullptr, 0, &c1) == NF_ACCEPT);
    w.clock.advance(11 * hz);  // c0 expired (31 s), c1 live (11 s)
    CHECK(chain_walk(w.ct, b) == std::vector<uint32_t>{c1->id * 2, c0->id * 2});
    const uint32_t c0_id = c0->id;
    // Looking up c1 stops at c1: c0 is not touched.
    w.forward(pk[1]);
    CHECK(w.ct.stat(w.init, 0).search_restart == 0);
    CHECK_FALSE(rec.was_freed(c0_id));
    // A third tuple of the bucket walks past c1 into c0, reaps it, restarts.
    Packet miss = pk[2];
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, miss, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).search_restart == 1);
    CHECK(rec.was_freed(c0_id));
    CHECK(rec.last_chain == 3);  // c1, c0, then c1 again
    CHECK_FALSE(rec.last_match);
    w.ct.nf_reset_ct(miss);
    CHECK(chain_walk(w.ct, b) == std::vector<uint32_t>{c1->id * 2});
    CHECK(w.invariants() == "");
  }
}

TEST_CASE("a lookup diverted onto a dying list can return a DYING conn of that list") {
  // X (tuple T) dies while a packet holds it and stays on CPU 0's dying
  // list; Y (same tuple) replaces it in the table and then expires. A lookup
  // of T kills Y from inside the walk; Y's ORIGINAL node goes to the head of
  // the killing CPU's dying list, so the walk continues into that list.
  // Nothing in nf_ct_key_equal() looks at DYING: on CPU 0 the walk meets X
  // (live timeout, CONFIRMED, same tuple) and returns it. On CPU 1 the dying
  // list is empty, the walk ends on its nulls marker and restarts.
  World w;
  Recorder rec;
  w.ct.set_observer(&rec);
  const uint32_t hz = w.clock.hz();
  Packet t = generic_packet(ipv4(10, 0, 0, 1), ipv4(10, 0, 0, 2));
  for (uint8_t i = 2; bucket_of(w.ct, w.init, t) == reply_bucket_of(w.ct, w.init, t); ++i) {
    t = generic_packet(ipv4(10, 0, 0, i), ipv4(10, 0, 0, 2));
  }
  w.init.sysctl.generic_timeout = 600 * hz;
  nf_conn* x = nullptr;
  REQUIRE(w.forward(t, nullptr, 0, &x) == NF_ACCEPT);
  Packet held = t;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, held, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(held.ct == x);
  REQUIRE(w.ct.nf_conntrack_flush(&w.init) == 1);  // X dies on CPU 0's dying list
  w.init.sysctl.generic_timeout = 10 * hz;
  nf_conn* y = nullptr;
  REQUIRE(w.forward(t, nullptr, 0, &y) == NF_ACCEPT);
  REQUIRE(y != x);
  const uint32_t y_id = y->id;
  w.clock.advance(11 * hz);  // Y expired, X (600 s) not; no GC run
  REQUIRE(nf_ct_is_expired(y, w.ct.now32()));
  REQUIRE_FALSE(nf_ct_is_expired(x, w.ct.now32()));

  SUBCASE("on CPU 0 the dying X is found") {
    nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(t));
    REQUIRE(h != nullptr);
    CHECK(nf_ct_tuplehash_to_ctrack(h) == x);
    CHECK(nf_ct_is_dying(x));
    CHECK(x->use == 2);
    CHECK(w.ct.stat(w.init, 0).search_restart == 0);
    w.ct.nf_ct_put(x);
  }
  SUBCASE("on CPU 1 the walk restarts and finds nothing") {
    CHECK(w.ct.nf_conntrack_find_get(w.init, 1, tuple_of(t)) == nullptr);
    CHECK(w.ct.stat(w.init, 1).search_restart == 1);
  }
  CHECK(rec.was_freed(y_id));
  CHECK(w.invariants({&held}) == "");
  w.ct.nf_reset_ct(held);
  CHECK(w.init.count == 0);
}

TEST_CASE("a table dump reaps up to 8 expired conns per bucket, last collected first") {
  // ctnetlink_dump_table(): ORIGINAL nodes only; an expired conn is taken
  // (up to 8 per bucket) and killed once the bucket's lock is dropped, by a
  // loop that counts the array down, so the last one collected dies first.
  World w({1, 0, 0x12345678, 1});
  net& other = w.ct.net_add("other", 0);
  const uint32_t hz = w.clock.hz();
  w.init.sysctl.generic_timeout = 10 * hz;
  std::vector<uint32_t> ids;
  for (uint8_t i = 1; i <= 10; ++i) {
    nf_conn* c = nullptr;
    REQUIRE(w.forward(generic_packet(ipv4(10, 0, 0, i), ipv4(10, 0, 1, 1)), nullptr, 0, &c) == NF_ACCEPT);
    ids.push_back(c->id);
  }
  w.init.sysctl.generic_timeout = 600 * hz;
  for (uint8_t i = 11; i <= 12; ++i) {
    nf_conn* c = nullptr;
    REQUIRE(w.forward(generic_packet(ipv4(10, 0, 0, i), ipv4(10, 0, 1, 1)), nullptr, 0, &c) == NF_ACCEPT);
    ids.push_back(c->id);
  }
  nf_conn* elsewhere = nullptr;
  REQUIRE(w.forward(generic_packet(ipv4(10, 0, 0, 99), ipv4(10, 0, 1, 1)), &other, 0, &elsewhere) == NF_ACCEPT);
  w.clock.advance(11 * hz);
  Recorder rec;
  w.ct.set_observer(&rec);
  std::vector<uint32_t> shown;
  w.ct.for_each_conn_in_table(&w.init, [&](const nf_conn& c) { shown.push_back(c.id); });
  // Live conns of this namespace, in chain order (newest first).
  CHECK(shown == std::vector<uint32_t>{ids[11], ids[10]});
  // Collected in chain order 10, 9, ..., 3; killed 3, 4, ..., 10.
  CHECK(rec.dying == std::vector<uint32_t>{ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], ids[9]});
  CHECK(w.init.count == 4);
  CHECK(other.count == 1);
  CHECK(w.invariants() == "");
}

TEST_CASE("IPv6 conns: every address word counts, replies map back") {
  World w;
  auto v6 = [](uint32_t w1, uint8_t last) {
    nf_inet_addr a;
    a.all[0] = 0xb80d0120u;  // 2001:db8::/32
    a.all[1] = w1;
    a.all[3] = static_cast<uint32_t>(last) << 24;
    return a;
  };
  auto udp6 = [](nf_inet_addr s, uint16_t sp, nf_inet_addr d, uint16_t dp) {
    Packet p = udp_packet(ipv4(0, 0, 0, 0), sp, ipv4(0, 0, 0, 0), dp);
    p.l3num = NFPROTO_IPV6;
    p.saddr = s;
    p.daddr = d;
    return p;
  };
  nf_conn* a = nullptr;
  nf_conn* b = nullptr;
  REQUIRE(w.forward(udp6(v6(1, 1), 5000, v6(0, 2), 53), nullptr, 0, &a) == NF_ACCEPT);
  REQUIRE(w.forward(udp6(v6(2, 1), 5000, v6(0, 2), 53), nullptr, 0, &b) == NF_ACCEPT);
  CHECK(a != b);
  CHECK(w.init.count == 2);
  nf_conn* back = nullptr;
  ip_conntrack_info info;
  REQUIRE(w.forward(udp6(v6(0, 2), 53, v6(2, 1), 5000), nullptr, 0, &back, &info) == NF_ACCEPT);
  CHECK(back == b);
  CHECK(info == IP_CT_ESTABLISHED_REPLY);
  CHECK(b->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK_FALSE(a->test_bit(IPS_SEEN_REPLY_BIT));
  CHECK(w.invariants() == "");
}

TEST_CASE("two namespaces with identical tuples are kept apart; flush one") {
  World w;
  net& b = w.ct.net_add("b", 0);  // same hash_mix: same bucket as init
  Packet p = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  nf_conn* in_init = nullptr;
  nf_conn* in_b = nullptr;
  REQUIRE(w.forward(p, &w.init, 0, &in_init) == NF_ACCEPT);
  REQUIRE(w.forward(p, &b, 0, &in_b) == NF_ACCEPT);
  REQUIRE(in_init != in_b);
  CHECK(w.init.count == 1);
  CHECK(b.count == 1);
  CHECK(bucket_of(w.ct, w.init, p) == bucket_of(w.ct, b, p));

  nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(b, 0, tuple_of(p));
  REQUIRE(h != nullptr);
  CHECK(nf_ct_tuplehash_to_ctrack(h) == in_b);
  w.ct.nf_ct_put(in_b);
  h = w.ct.nf_conntrack_find_get(w.init, 0, tuple_of(p));
  REQUIRE(h != nullptr);
  CHECK(nf_ct_tuplehash_to_ctrack(h) == in_init);
  w.ct.nf_ct_put(in_init);

  // A second packet in b finds b's conn.
  nf_conn* again = nullptr;
  ip_conntrack_info info;
  w.forward(p, &b, 0, &again, &info);
  CHECK(again == in_b);

  CHECK(w.ct.nf_conntrack_flush(&b) == 1);
  CHECK(b.count == 0);
  CHECK(w.init.count == 1);
  CHECK(in_table(w.ct, in_init));
  CHECK(w.ct.nf_conntrack_find_get(b, 0, tuple_of(p)) == nullptr);
  CHECK(w.invariants() == "");
  // A different hash_mix puts the same tuple elsewhere (in general).
  net& c = w.ct.net_add("c", 0xa5a5a5a5u);
  CHECK(w.ct.hash_conntrack_raw(tuple_of(p), c) != w.ct.hash_conntrack_raw(tuple_of(p), w.init));
}

TEST_CASE("net_exit kills every conn of the namespace and nothing else") {
  World w;
  net& b = w.ct.net_add("b", 3);
  for (uint16_t i = 0; i < 5; ++i) unreplied_udp(w, b, static_cast<uint16_t>(2000 + i));
  assured_udp(w, b, 1000);
  nf_conn* keep = unreplied_udp(w, w.init, 2000);
  REQUIRE(b.count == 6);
  w.ct.net_exit(b);
  CHECK(b.count == 0);
  CHECK_FALSE(b.alive);
  CHECK(w.init.count == 1);
  CHECK(in_table(w.ct, keep));
  CHECK(Conntrack::list_length(b.pcpu[0].dying) == 0);
  CHECK(w.invariants() == "");
}

// ---------------------------------------------------------------------------
// Randomized model test. A fixed-seed stream of operations (packets of
// random generic-protocol flows in either direction through the whole
// forward path, packets dropped between the hooks, lookups, time advances
// that run the GC, flushes) drives two namespaces with different timeouts.
// After every step the core's invariants must hold and the set of live
// (unexpired) conns in the table must equal a trivial model: a map from
// (namespace, original tuple) to the absolute expiry jiffy.
namespace {

// The project's PRNG (sim/engine/rng.h); below() returns 32-bit values here.
struct Rng {
  ctsim::Rng r;
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(r.below(n)); }
  uint64_t next() { return r.next(); }
};

using Key = std::tuple<uint16_t, std::string>;  // net, 40 tuple bytes (dir 0)

Key key_of(uint16_t net_index, nf_conntrack_tuple t) {
  t.dst.dir = IP_CT_DIR_ORIGINAL;
  std::string bytes(sizeof t, '\0');
  std::memcpy(bytes.data(), &t, sizeof t);
  return {net_index, bytes};
}

}  // namespace

TEST_CASE("randomized model: live conns match a map of tuple -> expiry") {
  World w({64, 0, 0x2468ace0, 2});
  net& b = w.ct.net_add("b", 0x13579bdf);
  const uint32_t hz = w.clock.hz();
  w.init.sysctl.generic_timeout = 60 * hz;
  b.sysctl.generic_timeout = 100 * hz;
  net* nets[2] = {&w.init, &b};

  std::map<Key, uint64_t> model;  // -> absolute 64-bit expiry jiffy
  Rng rng{ctsim::Rng(20240601, 0)};
  uint64_t kills = 0, creates = 0;

  auto alive = [&](const Key& k) {
    auto it = model.find(k);
    return it != model.end() && it->second > w.clock.jiffies();
  };

  for (int step = 0; step < 6000; ++step) {
    CAPTURE(step);
    const uint32_t op = rng.below(100);
    net& n = *nets[rng.below(2)];
    const uint16_t cpu = static_cast<uint16_t>(rng.below(2));
    Packet p =
        generic_packet(ipv4(10, 0, 0, static_cast<uint8_t>(1 + rng.below(5))),
                       ipv4(10, 0, 1, static_cast<uint8_t>(1 + rng.below(5))), static_cast<uint8_t>(98 + rng.below(2)));
    if (rng.below(2)) std::swap(p.saddr, p.daddr);
    const nf_conntrack_tuple t = tuple_of(p);
    nf_conntrack_tuple inv;
    REQUIRE(nf_ct_invert_tuple(&inv, t));
    const Key k = key_of(n.index, t), ki = key_of(n.index, inv);
    const uint64_t expiry = w.clock.jiffies() + n.sysctl.generic_timeout;

    if (op < 65) {  // a packet through the whole forward path
      REQUIRE(w.forward(p, &n, cpu) == NF_ACCEPT);
      if (alive(k)) {
        model[k] = expiry;
      } else if (alive(ki)) {
        model[ki] = expiry;
      } else {
        model.erase(k);
        model.erase(ki);
        model[k] = expiry;
        ++creates;
      }
    } else if (op < 75) {  // dropped after the conntrack hook, before confirm
      REQUIRE(w.ct.nf_conntrack_in(n, cpu, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
      w.ct.nf_reset_ct(p);
      if (alive(k)) {
        model[k] = expiry;  // the tracker refreshed the confirmed conn
      } else if (alive(ki)) {
        model[ki] = expiry;
      }
    } else if (op < 80) {  // a lookup (may reap lazily)
      nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(n, cpu, t);
      CHECK((h != nullptr) == (alive(k) || alive(ki)));
      if (h != nullptr) w.ct.nf_ct_put(nf_ct_tuplehash_to_ctrack(h));
    } else if (op < 98) {  // time passes; the GC runs as due
      w.wq.advance_to(w.clock.jiffies() + rng.below(40 * hz));
    } else {  // conntrack -F in one namespace
      kills += w.ct.nf_conntrack_flush(&n);
      for (auto it = model.begin(); it != model.end();) {
        it = std::get<0>(it->first) == n.index ? model.erase(it) : std::next(it);
      }
    }

    REQUIRE(w.invariants() == "");
    std::set<std::tuple<Key, uint32_t>> real, want;
    for (const nf_conn* c : table_conns(w.ct)) {
      if (nf_ct_is_expired(c, w.ct.now32())) continue;
      real.emplace(key_of(c->net, c->tuplehash[IP_CT_DIR_ORIGINAL].tuple), c->timeout);
    }
    for (const auto& [key, exp] : model) {
      if (exp > w.clock.jiffies()) want.emplace(key, static_cast<uint32_t>(exp));
    }
    REQUIRE(real == want);
  }
  // The run must have exercised creation, expiry across the wrap and flush.
  CHECK(creates > 100);
  CHECK(kills > 0);
  CHECK(w.clock.jiffies() > initial_jiffies_for_hz(hz) + 600 * hz);
}

// ---------------------------------------------------------------------------
// Randomized stress of the reference rules. Packets of random UDP, TCP and
// generic flows on two CPUs are held between the conntrack hook and confirm
// (so unconfirmed conns race to confirm, and conns die under held packets),
// released with or without confirm, while time advances (GC, expiry, event
// redelivery), flushes and kills happen and the event listener fails on and
// off. After every step every invariant must hold with the held packets'
// references accounted; at the end everything must be freed.
namespace {

class FlakyNotifier : public EventNotifier {
 public:
  int ctnetlink_conntrack_event(unsigned, const nf_conn&, const net&, uint32_t, int) override {
    ++calls;
    return fail ? -105 : 0;
  }
  bool fail = false;
  uint64_t calls = 0;
};

}  // namespace

TEST_CASE("randomized stress: held packets, clashes, flushes and failing events") {
  World w({32, 0, 0x0badcafe, 2});
  net& b = w.ct.net_add("b", 0x77);
  FlakyNotifier nl;
  w.init.event_cb = &nl;
  b.event_cb = &nl;
  net* nets[2] = {&w.init, &b};
  Rng rng{ctsim::Rng(777, 0)};
  struct Held {
    Packet p;
    uint16_t cpu;
  };
  std::vector<std::unique_ptr<Held>> held;
  auto held_ptrs = [&] {
    std::vector<const Packet*> v;
    for (auto& h : held) v.push_back(&h->p);
    return v;
  };
  auto random_packet = [&] {
    Packet p;
    const uint8_t a = static_cast<uint8_t>(1 + rng.below(3)), c = static_cast<uint8_t>(1 + rng.below(3));
    const uint16_t sp = static_cast<uint16_t>(1000 + rng.below(3));
    switch (rng.below(3)) {
      case 0: p = udp_packet(ipv4(10, 0, 0, a), sp, ipv4(10, 0, 1, c), 53); break;
      case 1: {
        static const uint8_t flags[] = {TCPHDR_SYN, TCPHDR_SYN | TCPHDR_ACK, TCPHDR_ACK, TCPHDR_FIN | TCPHDR_ACK,
                                        TCPHDR_RST};
        p = tcp_packet(ipv4(10, 0, 0, a), sp, ipv4(10, 0, 1, c), 80, flags[rng.below(5)], rng.below(1000),
                       rng.below(1000));
        break;
      }
      default: p = generic_packet(ipv4(10, 0, 0, a), ipv4(10, 0, 1, c)); break;
    }
    if (rng.below(2)) {
      std::swap(p.saddr, p.daddr);
      std::swap(p.sport, p.dport);
    }
    return p;
  };

  uint64_t clashes = 0;
  for (int step = 0; step < 8000; ++step) {
    CAPTURE(step);
    const uint32_t op = rng.below(100);
    net& n = *nets[rng.below(2)];
    const uint16_t cpu = static_cast<uint16_t>(rng.below(2));
    if (op < 30) {
      if (held.size() < 12) {
        auto h = std::make_unique<Held>(Held{random_packet(), cpu});
        w.ct.nf_conntrack_in(n, cpu, h->p, NF_INET_PRE_ROUTING);
        if (h->p.ct != nullptr) held.push_back(std::move(h));
      }
    } else if (op < 55) {
      if (!held.empty()) {
        const size_t i = rng.below(static_cast<uint32_t>(held.size()));
        Held& h = *held[i];
        if (rng.below(10) < 7) {
          const uint32_t before = w.ct.stat(*nets[0], h.cpu).clash_resolve + w.ct.stat(*nets[1], h.cpu).clash_resolve +
                                  w.ct.stat(*nets[0], h.cpu).insert_failed + w.ct.stat(*nets[1], h.cpu).insert_failed;
          w.ct.nf_conntrack_confirm(h.cpu, h.p);
          clashes += w.ct.stat(*nets[0], h.cpu).clash_resolve + w.ct.stat(*nets[1], h.cpu).clash_resolve +
                     w.ct.stat(*nets[0], h.cpu).insert_failed + w.ct.stat(*nets[1], h.cpu).insert_failed - before;
        }
        w.ct.nf_reset_ct(h.p);
        held.erase(held.begin() + static_cast<long>(i));
      }
    } else if (op < 75) {
      w.forward(random_packet(), &n, cpu);
    } else if (op < 85) {
      w.wq.advance_to(w.clock.jiffies() + rng.below(40 * w.clock.hz()));
    } else if (op < 88) {
      w.ct.nf_conntrack_flush(rng.below(3) == 0 ? nullptr : &n);
    } else if (op < 93) {
      nl.fail = !nl.fail;
    } else if (op < 98) {
      std::vector<const nf_conn*> live = table_conns(w.ct);
      if (!live.empty()) {
        nf_conn* victim = const_cast<nf_conn*>(live[rng.below(static_cast<uint32_t>(live.size()))]);
        w.ct.set_this_cpu(cpu);
        w.ct.nf_ct_kill(victim, DeathReason::kDelete);
      }
    } else {
      Packet p = random_packet();
      nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(n, cpu, tuple_of(p));
      if (h != nullptr) w.ct.nf_ct_put(nf_ct_tuplehash_to_ctrack(h));
    }
    REQUIRE(w.invariants(held_ptrs()) == "");
  }
  CHECK(clashes > 0);
  CHECK(nl.calls > 0);

  // Wind down: release every packet, let the listener drain, flush.
  for (auto& h : held) w.ct.nf_reset_ct(h->p);
  held.clear();
  nl.fail = false;
  w.advance_seconds(2);
  w.ct.nf_conntrack_flush(nullptr);
  CHECK(w.invariants() == "");
  CHECK(w.init.count == 0);
  CHECK(b.count == 0);
  CHECK(w.ct.conns_allocated() == 0);
  for (net* n : nets)
    for (uint16_t c = 0; c < 2; ++c) {
      CHECK(Conntrack::list_length(n->pcpu[c].dying) == 0);
      CHECK(Conntrack::list_length(n->pcpu[c].unconfirmed) == 0);
    }
}

TEST_CASE("nf_conntrack_in: ICMP errors take the error path (error, RELATED), not a new conn") {
  World w;
  nf_conn* ct = nullptr;
  Packet udp = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  REQUIRE(w.forward(udp, nullptr, 0, &ct) == NF_ACCEPT);

  SUBCASE("an error quoting no packet counts error only") {
    Packet e = icmp_packet(ipv4(10, 0, 0, 9), ipv4(10, 0, 0, 1), 3, 3, 0);
    CHECK(w.ct.nf_conntrack_in(w.init, 0, e, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(e.ct == nullptr);
    CHECK(w.ct.stat(w.init, 0).error == 1);
    CHECK(w.ct.stat(w.init, 0).invalid == 0);
    CHECK(w.init.count == 1);
  }
  SUBCASE("an error quoting the flow's packet is RELATED to its conn") {
    // Port unreachable from the server, quoting the client's datagram.
    Packet e = icmp_packet(ipv4(10, 0, 0, 2), ipv4(10, 0, 0, 1), 3, 3, 0);
    e.has_inner = true;
    e.inner.l3num = NFPROTO_IPV4;
    e.inner.saddr = udp.saddr;
    e.inner.daddr = udp.daddr;
    e.inner.protonum = IPPROTO_UDP_;
    e.inner.sport = udp.sport;
    e.inner.dport = udp.dport;
    CHECK(w.ct.nf_conntrack_in(w.init, 0, e, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    CHECK(e.ct == ct);
    CHECK(e.ctinfo == IP_CT_RELATED_REPLY);
    CHECK(ct->use == 2);
    CHECK(w.ct.stat(w.init, 0).error == 0);
    CHECK(w.init.count == 1);
    CHECK(w.invariants({&e}) == "");
    w.ct.nf_reset_ct(e);
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("check_invariants names each kind of break: a packet's reference untold, a use too many, a count off") {
  World w;
  assured_udp(w, w.init, 4000);
  nf_conn* b = assured_udp(w, w.init, 4001);
  Packet held = udp_packet(ipv4(10, 8, 0, 1), 5000, ipv4(10, 8, 0, 2), 53);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, held, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.invariants({&held}) == "");
  // A packet's reference the checker is not told of.
  CHECK(w.invariants() == fmt::format("conn {} has use 1 but 0 references exist", held.ct->id));
  // One reference too many on a conn in the table.
  ++b->use;
  CHECK(w.invariants({&held}) == fmt::format("conn {} has use 2 but 1 references exist", b->id));
  --b->use;
  // The namespace's count off by one.
  ++w.init.count;
  CHECK(w.invariants({&held}) == "net init count 4 but 3 conns exist");
  --w.init.count;
  CHECK(w.invariants({&held}) == "");
  w.ct.nf_reset_ct(held);
}
