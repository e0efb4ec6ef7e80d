// Connection events as in v5.10 (net/netfilter/nf_conntrack_ecache.c and
// include/net/netfilter/nf_conntrack_ecache.h): events cached while a packet
// is processed and delivered together at its confirm hook, DESTROY reported
// at once, missed events riding along with the next delivery, and the
// DESTROY redelivery work that keeps an undelivered conn on the dying list
// (first try after HZ, retries every HZ/10 while the listener is congested,
// puts in batches of ECACHE_STACK_ALLOC with an immediate re-run).
#include "core/nf_conntrack_ecache.h"

#include <doctest/doctest.h>

#include <vector>

#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

constexpr int kENOBUFS = -105;

unsigned ev(std::initializer_list<ip_conntrack_events> bits) {
  unsigned m = 0;
  for (auto b : bits) m |= 1u << b;
  return m;
}

// ctnetlink stand-in: records every attempted delivery; fails (-ENOBUFS)
// while `fail` is set, as a reliable listener with a full buffer does.
class TestNotifier : public EventNotifier {
 public:
  struct Call {
    unsigned events;
    uint32_t ct_id;
    uint64_t at;
    bool delivered;
  };
  explicit TestNotifier(const Clock& clock) : clock_(clock) {}
  int ctnetlink_conntrack_event(unsigned events, const nf_conn& ct, const net&, uint32_t, int) override {
    CHECK(nf_ct_is_confirmed(&ct));
    calls.push_back({events, ct.id, clock_.jiffies(), !fail});
    return fail ? kENOBUFS : 0;
  }
  std::vector<unsigned> delivered() const {
    std::vector<unsigned> out;
    for (const Call& c : calls)
      if (c.delivered) out.push_back(c.events);
    return out;
  }
  bool fail = false;
  std::vector<Call> calls;

 private:
  const Clock& clock_;
};

class WorkLog : public Recorder {
 public:
  struct Run {
    uint32_t sent;
    bool congested;
    int delay;
    uint32_t count_after;
    uint64_t at;
  };
  explicit WorkLog(const Clock& clock) : clock_(clock) {}
  void on_ecache_work(const net& n, uint32_t sent, bool congested, int delay) override {
    runs.push_back({sent, congested, delay, n.count, clock_.jiffies()});
  }
  std::vector<Run> runs;

 private:
  const Clock& clock_;
};

struct Handshake {
  nf_inet_addr c = ipv4(192, 168, 1, 2), s = ipv4(10, 0, 0, 2);
  Packet syn() const { return tcp_packet(c, 40000, s, 80, TCPHDR_SYN, 100); }
  Packet synack() const { return tcp_packet(s, 80, c, 40000, TCPHDR_SYN | TCPHDR_ACK, 500, 101); }
  Packet ack() const { return tcp_packet(c, 40000, s, 80, TCPHDR_ACK, 101, 501); }
};

// A confirmed UDP conn, no skb holding it.
nf_conn* udp_conn(World& w, uint16_t sport) {
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(udp_packet(ipv4(10, 0, 0, 1), sport, ipv4(10, 0, 0, 2), 53), nullptr, 0, &ct) == NF_ACCEPT);
  return ct;
}

}  // namespace

TEST_CASE("a TCP handshake delivers NEW|PROTOINFO, REPLY|PROTOINFO, PROTOINFO|ASSURED") {
  World w;
  TestNotifier nl(w.clock);
  w.init.event_cb = &nl;
  Handshake hs;

  Packet syn = hs.syn();
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, syn, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  nf_conn* ct = syn.ct;
  // Cached while unconfirmed, nothing sent before the confirm hook.
  CHECK(nl.calls.empty());
  CHECK(ct->ecache.cache == ev({IPCT_PROTOINFO}));
  REQUIRE(w.ct.nf_conntrack_confirm(0, syn) == NF_ACCEPT);
  CHECK(nl.delivered() == std::vector<unsigned>{ev({IPCT_NEW, IPCT_PROTOINFO})});
  CHECK(ct->ecache.cache == 0);
  w.ct.nf_reset_ct(syn);

  Packet synack = hs.synack();
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, synack, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  CHECK(nl.calls.size() == 1);
  REQUIRE(w.ct.nf_conntrack_confirm(0, synack) == NF_ACCEPT);
  w.ct.nf_reset_ct(synack);
  REQUIRE(w.forward(hs.ack()) == NF_ACCEPT);
  CHECK(nl.delivered() == std::vector<unsigned>{ev({IPCT_NEW, IPCT_PROTOINFO}), ev({IPCT_REPLY, IPCT_PROTOINFO}),
                                                ev({IPCT_PROTOINFO, IPCT_ASSURED})});
  for (const auto& c : nl.calls) CHECK(c.ct_id == ct->id);

  // A packet that changes nothing causes no message at all.
  REQUIRE(w.forward(tcp_packet(hs.c, 40000, hs.s, 80, TCPHDR_ACK, 101, 501)) == NF_ACCEPT);
  CHECK(nl.calls.size() == 3);

  // DESTROY goes out immediately at the kill, alone.
  CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  REQUIRE(nl.calls.size() == 4);
  CHECK(nl.calls[3].events == ev({IPCT_DESTROY}));
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_conntrack_events = 0: no events and no deferred destruction") {
  World w;
  TestNotifier nl(w.clock);
  w.init.event_cb = &nl;
  w.init.sysctl.events = 0;
  Handshake hs;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(hs.syn(), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(hs.synack()) == NF_ACCEPT);
  REQUIRE(w.forward(hs.ack()) == NF_ACCEPT);
  CHECK_FALSE(ct->ecache.present);
  CHECK(nl.calls.empty());
  // Even a listener that would fail cannot hold the conn back.
  nl.fail = true;
  CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  CHECK(nl.calls.empty());
  CHECK(w.init.count == 0);
  CHECK_FALSE(w.wq.is_queued(&w.init.ecache_dwork));
  CHECK(w.invariants() == "");
}

TEST_CASE("no notifier registered: nothing cached, nothing deferred") {
  World w;
  nf_conn* ct = udp_conn(w, 1000);
  CHECK(ct->ecache.present);     // the extension exists (sysctl on) ...
  CHECK(ct->ecache.cache == 0);  // ... but nothing is cached without ctnetlink
  CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
  CHECK(w.init.count == 0);
  CHECK_FALSE(w.wq.is_queued(&w.init.ecache_dwork));
}

TEST_CASE("a failed DESTROY keeps the conn DYING on the dying list until redelivered") {
  World w;
  TestNotifier nl(w.clock);
  WorkLog log(w.clock);
  w.ct.set_observer(&log);
  w.init.event_cb = &nl;
  const uint32_t hz = w.clock.hz();
  nf_conn* ct = udp_conn(w, 1000);
  nl.calls.clear();

  nl.fail = true;
  const uint64_t t0 = w.clock.jiffies();
  CHECK_FALSE(w.ct.nf_ct_kill(ct, DeathReason::kDelete));  // not delivered
  CHECK(nf_ct_is_dying(ct));
  CHECK(ct->ecache.state == NFCT_ECACHE_DESTROY_FAIL);
  CHECK(ct->use == 1);  // the table's reference, kept
  CHECK(w.init.count == 1);
  CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == 1);
  CHECK_FALSE(in_table(w.ct, ct));
  CHECK(w.invariants() == "");
  // The redelivery work is due one second later.
  CHECK(w.wq.is_queued(&w.init.ecache_dwork));
  CHECK(w.init.ecache_dwork.due == t0 + hz);
  CHECK(w.init.ecache_dwork_pending);

  // Still failing: retried every HZ/10.
  w.wq.advance_to(t0 + hz + 3 * (hz / 10));
  REQUIRE(log.runs.size() == 4);
  CHECK(log.runs[0].at == t0 + hz);
  for (size_t i = 0; i < log.runs.size(); ++i) {
    CAPTURE(i);
    CHECK(log.runs[i].congested);
    CHECK(log.runs[i].sent == 0);
    CHECK(log.runs[i].delay == static_cast<int>(hz / 10));
    if (i > 0) CHECK(log.runs[i].at - log.runs[i - 1].at == hz / 10);
  }
  CHECK(nl.calls.size() == 1 + 4);
  for (const auto& c : nl.calls) CHECK(c.events == ev({IPCT_DESTROY}));
  CHECK(w.init.count == 1);
  CHECK(w.invariants() == "");

  // The listener drains: the next retry delivers and puts the reference.
  nl.fail = false;
  w.wq.advance_to(w.clock.jiffies() + hz / 10);
  REQUIRE(log.runs.size() == 5);
  CHECK(log.runs[4].sent == 1);
  CHECK(log.runs[4].delay == -1);
  CHECK(w.init.count == 0);
  CHECK(log.freed.size() == 1);
  CHECK_FALSE(w.wq.is_queued(&w.init.ecache_dwork));
  CHECK_FALSE(w.init.ecache_dwork_pending);
  CHECK(w.invariants() == "");
}

TEST_CASE("redelivery puts conns in batches of 32 and re-runs at once for the rest") {
  CHECK(ECACHE_STACK_ALLOC == 32);
  World w;
  TestNotifier nl(w.clock);
  WorkLog log(w.clock);
  w.ct.set_observer(&log);
  w.init.event_cb = &nl;
  std::vector<nf_conn*> conns;
  for (uint16_t i = 0; i < 70; ++i) conns.push_back(udp_conn(w, static_cast<uint16_t>(1000 + i)));
  nl.fail = true;
  const uint64_t t0 = w.clock.jiffies();
  for (nf_conn* c : conns) CHECK_FALSE(w.ct.nf_ct_kill(c, DeathReason::kFlush));
  CHECK(w.init.count == 70);
  CHECK(Conntrack::list_length(w.init.pcpu[0].dying) == 70);
  CHECK(w.init.ecache_dwork.due == t0 + w.clock.hz());  // not pushed back by later failures
  CHECK(w.invariants() == "");

  nl.fail = false;
  w.wq.advance_to(t0 + w.clock.hz());
  REQUIRE(log.runs.size() == 3);
  CHECK(log.runs[0].sent == 32);
  CHECK(log.runs[0].delay == 0);
  CHECK(log.runs[0].count_after == 38);
  CHECK(log.runs[1].sent == 32);
  CHECK(log.runs[1].delay == 0);
  CHECK(log.runs[1].count_after == 6);
  CHECK(log.runs[2].sent == 6);
  CHECK(log.runs[2].delay == -1);
  CHECK(log.runs[2].count_after == 0);
  for (const auto& r : log.runs) CHECK(r.at == t0 + w.clock.hz());  // same jiffy
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("a successful DESTROY kicks pending redelivery to run now") {
  World w;
  TestNotifier nl(w.clock);
  WorkLog log(w.clock);
  w.ct.set_observer(&log);
  w.init.event_cb = &nl;
  nf_conn* a = udp_conn(w, 1000);
  nf_conn* b = udp_conn(w, 1001);
  nl.fail = true;
  const uint64_t t0 = w.clock.jiffies();
  CHECK_FALSE(w.ct.nf_ct_kill(a, DeathReason::kDelete));
  REQUIRE(w.init.ecache_dwork.due == t0 + w.clock.hz());
  w.wq.advance_to(t0 + 10);
  nl.fail = false;
  CHECK(w.ct.nf_ct_kill(b, DeathReason::kDelete));
  // nf_conntrack_ecache_work(): pending, so moved to 0 and the flag cleared.
  CHECK_FALSE(w.init.ecache_dwork_pending);
  CHECK(w.init.ecache_dwork.due == t0 + 10);
  CHECK(w.init.count == 1);
  w.wq.advance_to(t0 + 11);
  REQUIRE(log.runs.size() == 1);
  CHECK(log.runs[0].sent == 1);
  CHECK(w.init.count == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("missed events are re-sent with the next delivery") {
  World w;
  TestNotifier nl(w.clock);
  w.init.event_cb = &nl;
  Handshake hs;
  nf_conn* ct = nullptr;
  nl.fail = true;
  REQUIRE(w.forward(hs.syn(), nullptr, 0, &ct) == NF_ACCEPT);
  CHECK(ct->ecache.missed == ev({IPCT_NEW, IPCT_PROTOINFO}));
  nl.fail = false;
  REQUIRE(w.forward(hs.synack()) == NF_ACCEPT);
  CHECK(ct->ecache.missed == 0);
  REQUIRE(w.forward(hs.ack()) == NF_ACCEPT);
  REQUIRE(nl.calls.size() == 3);
  CHECK_FALSE(nl.calls[0].delivered);
  CHECK(nl.calls[1].events == ev({IPCT_NEW, IPCT_REPLY, IPCT_PROTOINFO}));
  CHECK(nl.calls[2].events == ev({IPCT_PROTOINFO, IPCT_ASSURED}));

  SUBCASE("missed events ride along with DESTROY") {
    nl.fail = true;
    REQUIRE(w.forward(tcp_packet(hs.c, 40000, hs.s, 80, TCPHDR_FIN | TCPHDR_ACK, 101, 501)) == NF_ACCEPT);
    const unsigned missed = ct->ecache.missed;
    CHECK(missed == ev({IPCT_PROTOINFO}));
    nl.fail = false;
    CHECK(w.ct.nf_ct_kill(ct, DeathReason::kDelete));
    CHECK(nl.calls.back().events == (ev({IPCT_DESTROY}) | missed));
  }
  SUBCASE("a failed delivery keeps earlier misses and adds the new events") {
    nl.fail = true;
    REQUIRE(w.forward(tcp_packet(hs.c, 40000, hs.s, 80, TCPHDR_FIN | TCPHDR_ACK, 101, 501)) == NF_ACCEPT);
    REQUIRE(w.forward(tcp_packet(hs.s, 80, hs.c, 40000, TCPHDR_FIN | TCPHDR_ACK, 501, 102)) == NF_ACCEPT);
    CHECK(ct->ecache.missed == ev({IPCT_PROTOINFO}));
    CHECK(nl.calls.back().events == ev({IPCT_PROTOINFO}));
  }
  CHECK(w.invariants() == "");
}

TEST_CASE("net_exit drops the listener first: no deferred destruction") {
  World w;
  net& b = w.ct.net_add("b", 5);
  TestNotifier nl(w.clock);
  b.event_cb = &nl;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(udp_packet(ipv4(10, 0, 0, 1), 1, ipv4(10, 0, 0, 2), 2), &b, 0, &ct) == NF_ACCEPT);
  nl.fail = true;
  nl.calls.clear();
  w.ct.net_exit(b);
  CHECK(nl.calls.empty());
  CHECK(b.count == 0);
  CHECK_FALSE(w.wq.is_queued(&b.ecache_dwork));
  CHECK(w.invariants() == "");
}

TEST_CASE("v5.10.19: after a clash merge the confirm hook delivers for the loser, not the winner") {
  // nf_conntrack_confirm() keeps the conn it read before
  // __nf_conntrack_confirm(); upstream 56b14ecec97f ("re-fetch conntrack
  // after insertion", 2022, later backported to 5.10.y stable) changed that.
  // In v5.10.19 the merged packet delivers nothing: the winner's cached
  // events wait for the next packet's confirm.
  World w;
  TestNotifier nl(w.clock);
  w.init.event_cb = &nl;
  Packet a = udp_packet(ipv4(10, 0, 0, 1), 4000, ipv4(10, 0, 0, 2), 53);
  Packet b = a;
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, a, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 1, b, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(w.ct.nf_conntrack_confirm(0, a) == NF_ACCEPT);
  nf_conn* winner = a.ct;
  CHECK(nl.delivered() == std::vector<unsigned>{ev({IPCT_NEW})});
  // A reply for the winner passes the conntrack hook: REPLY is cached.
  Packet reply = udp_packet(ipv4(10, 0, 0, 2), 53, ipv4(10, 0, 0, 1), 4000);
  REQUIRE(w.ct.nf_conntrack_in(w.init, 0, reply, NF_INET_PRE_ROUTING) == NF_ACCEPT);
  REQUIRE(reply.ct == winner);
  CHECK(winner->ecache.cache == ev({IPCT_REPLY}));
  // The loser's packet is merged into the winner: no delivery.
  REQUIRE(w.ct.nf_conntrack_confirm(1, b) == NF_ACCEPT);
  CHECK(b.ct == winner);
  CHECK(nl.calls.size() == 1);
  CHECK(winner->ecache.cache == ev({IPCT_REPLY}));
  // The reply's own confirm delivers it.
  REQUIRE(w.ct.nf_conntrack_confirm(0, reply) == NF_ACCEPT);
  CHECK(nl.delivered() == std::vector<unsigned>{ev({IPCT_NEW}), ev({IPCT_REPLY})});
  w.ct.nf_reset_ct(a);
  w.ct.nf_reset_ct(b);
  w.ct.nf_reset_ct(reply);
  CHECK(w.invariants() == "");
}
