// Flow generators: the scripts they play (TCP handshake, data, close; UDP
// with or without replies; ICMP echo pairs), their determinism and entry
// independence, mix weights, loss and retransmission, and Poisson arrivals.
// Every statistical check uses a fixed seed, so it is reproducible.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario.cc).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/packet.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/scenario.h"
#include "sim/world/flow_generator.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

using ctcore::Packet;
using ctsim::FlowConn;
using ctsim::FlowGenerator;
using ctsim::FlowSpec;

namespace {

// The flow entries of a scenario whose "flows" array is `flows_json`.
ctsim::Scenario load(const std::string& flows_json, uint64_t seed = 1) {
  ctsim::Scenario s;
  const std::string text = "{\"ctsim\": 1, \"seed\": " + std::to_string(seed) + ", \"flows\": " + flows_json + "}";
  ctsim::Status st = ctsim::parse_scenario("flows.json", text, &s);
  INFO(st.message());
  REQUIRE(st.ok());
  return s;
}

FlowSpec spec(const std::string& flow_json) { return load("[" + flow_json + "]").flows.at(0); }

struct Sent {
  Packet pkt;
  bool lost;
  ctsim::SimTime delay;  // to the next packet, -1 after the last
};

// Plays connection `index` of a generator to its end.
std::vector<Sent> play(FlowGenerator& g, uint64_t index, FlowConn* conn_out = nullptr) {
  FlowConn c;
  g.start(&c, index, 0, 4);
  std::vector<Sent> out;
  for (int guard = 0; guard < 100000; ++guard) {
    Sent s;
    g.packet(c, &s.pkt);
    s.lost = g.draw_loss(c);
    s.delay = g.advance(c, s.lost);
    out.push_back(s);
    if (s.delay < 0) break;
  }
  if (conn_out) *conn_out = c;
  return out;
}

std::vector<std::string> texts(const std::vector<Sent>& v) {
  std::vector<std::string> out;
  for (const Sent& s : v) out.push_back(ctsim::format_packet(s.pkt));
  return out;
}

// Each connection's packets, for the first n connections.
std::vector<std::string> stream(const FlowSpec& fs, uint32_t entry, uint64_t seed, int n) {
  FlowGenerator g(fs, entry, seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back("gap " + std::to_string(g.next_gap()));
    for (const std::string& t : texts(play(g, i))) out.push_back(t);
  }
  return out;
}

const char* kTcp =
    R"({"at": "0s", "kind": "tcp", "count": 100, "rate": "100/s", "src": "192.168.0.0/16",
        "dst": "10.0.0.2:80", "data_packets": 1, "close": "fin", "rtt": "2ms"})";

}  // namespace

TEST_CASE("a tcp flow with data_packets 1 and close fin is 8 packets with continuous seq/ack") {
  FlowGenerator g(spec(kTcp), 0, 1);
  FlowConn c;
  const std::vector<Sent> v = play(g, 0, &c);
  REQUIRE(v.size() == 8);
  const std::vector<std::string> flags = {"S", "SA", "A", "PA", "A", "FA", "FA", "A"};
  const std::vector<bool> from_client = {true, false, true, true, false, true, false, true};
  const Packet& syn = v[0].pkt;
  const uint32_t c0 = syn.seq, s0 = v[1].pkt.seq;
  // What each side has sent so far, as sequence numbers.
  uint32_t cnxt = c0, snxt = s0;
  for (size_t i = 0; i < v.size(); ++i) {
    CAPTURE(i);
    const Packet& p = v[i].pkt;
    CHECK(p.protonum == ctcore::IPPROTO_TCP_);
    CHECK(ctsim::format_tcp_flags(p.tcp_flags) == flags[i]);
    CHECK(v[i].delay == (i + 1 < v.size() ? 2'000'000 : -1));
    const bool cl = from_client[i];
    CHECK((p.saddr == syn.saddr && p.sport == syn.sport) == cl);
    CHECK(p.dport == (cl ? 80 : syn.sport));
    CHECK(p.seq == (cl ? cnxt : snxt));
    if (p.tcp_flags & ctcore::TCPHDR_ACK) CHECK(p.ack_seq == (cl ? snxt : cnxt));
    const uint32_t adv = p.len + ((p.tcp_flags & (ctcore::TCPHDR_SYN | ctcore::TCPHDR_FIN)) ? 1 : 0);
    (cl ? cnxt : snxt) += adv;
  }
  CHECK(v[3].pkt.len == 1000);
  CHECK(v[0].pkt.wscale == 7);
  CHECK(v[0].pkt.sackok);
  CHECK(v[0].pkt.mss == 1460);
  CHECK(cnxt == c0 + 1 + 1000 + 1);
  CHECK(snxt == s0 + 1 + 1);
  // Client address from the /16, port from Linux's ephemeral range.
  CHECK((syn.saddr.all[0] & 0xffff) == (192 | (168 << 8)));
  CHECK(syn.sport >= 32768);
  CHECK(syn.sport <= 60999);
}

TEST_CASE("tcp close rst and none") {
  FlowSpec rst =
      spec(R"({"at": "0s", "kind": "tcp", "src": "1.1.1.1", "dst": "2.2.2.2:22", "data_packets": 2, "close": "rst"})");
  FlowGenerator g1(rst, 0, 1);
  std::vector<Sent> v = play(g1, 0);
  REQUIRE(v.size() == 3 + 4 + 1);
  CHECK(ctsim::format_tcp_flags(v.back().pkt.tcp_flags) == "RA");
  CHECK(v.back().pkt.saddr == v[0].pkt.saddr);
  FlowSpec none =
      spec(R"({"at": "0s", "kind": "tcp", "src": "1.1.1.1", "dst": "2.2.2.2:22", "data_packets": 0, "close": "none"})");
  FlowGenerator g2(none, 0, 1);
  v = play(g2, 0);
  REQUIRE(v.size() == 3);
  CHECK(ctsim::format_tcp_flags(v.back().pkt.tcp_flags) == "A");
}

TEST_CASE("udp flows: one-way, or request and reply") {
  FlowSpec one = spec(
      R"({"at": "0s", "kind": "udp", "src": "10.0.0.1", "dst": "10.0.0.53:53", "reply": false, "data_packets": 3})");
  FlowGenerator g1(one, 0, 1);
  std::vector<Sent> v = play(g1, 0);
  REQUIRE(v.size() == 3);
  for (const Sent& s : v) {
    CHECK(s.pkt.protonum == ctcore::IPPROTO_UDP_);
    CHECK(s.pkt.dport == 53);
    CHECK(s.pkt.saddr == v[0].pkt.saddr);
  }
  FlowSpec two = spec(R"({"at": "0s", "kind": "udp", "src": "10.0.0.1", "dst": "10.0.0.53:53", "data_packets": 2})");
  FlowGenerator g2(two, 0, 1);
  v = play(g2, 0);
  REQUIRE(v.size() == 4);
  for (size_t i = 0; i < v.size(); ++i) {
    CAPTURE(i);
    const bool request = i % 2 == 0;
    CHECK(v[i].pkt.dport == (request ? 53 : v[0].pkt.sport));
    CHECK(v[i].pkt.sport == (request ? v[0].pkt.sport : 53));
    CHECK(v[i].pkt.saddr == (request ? v[0].pkt.saddr : v[0].pkt.daddr));
  }
}

TEST_CASE("icmp flows: each echo-request is answered by its echo-reply") {
  FlowSpec fs = spec(R"({"at": "0s", "kind": "icmp", "src": "10.0.0.0/24", "dst": "8.8.8.8", "data_packets": 3})");
  FlowGenerator g(fs, 0, 1);
  std::vector<Sent> v = play(g, 0);
  REQUIRE(v.size() == 6);
  for (size_t i = 0; i < v.size(); i += 2) {
    const Packet& req = v[i].pkt;
    const Packet& rep = v[i + 1].pkt;
    CHECK(req.icmp_type == 8);
    CHECK(rep.icmp_type == 0);
    CHECK(req.icmp_id == rep.icmp_id);
    CHECK(req.icmp_id == v[0].pkt.icmp_id);
    CHECK(req.icmp_seq == i / 2 + 1);
    CHECK(rep.icmp_seq == req.icmp_seq);
    CHECK(rep.saddr == req.daddr);
    CHECK(rep.daddr == req.saddr);
  }
  FlowSpec v6 = spec(R"({"at": "0s", "kind": "icmp", "src": "2001:db8::/64", "dst": "2001:db8:1::1"})");
  FlowGenerator g6(v6, 0, 1);
  v = play(g6, 0);
  REQUIRE(v.size() == 2);
  CHECK(v[0].pkt.protonum == ctcore::IPPROTO_ICMPV6_);
  CHECK(v[0].pkt.icmp_type == 128);
  CHECK(v[1].pkt.icmp_type == 129);
}

TEST_CASE("ipv6 flows draw from the prefix and the port range") {
  FlowSpec fs =
      spec(R"({"at": "0s", "kind": "udp", "src": "[2001:db8::/32]:1000-1001", "dst": "[2001:db8:ffff::1]:443"})");
  FlowGenerator g(fs, 0, 7);
  std::map<uint16_t, int> ports;
  for (int i = 0; i < 200; ++i) {
    std::vector<Sent> v = play(g, i);
    const Packet& p = v[0].pkt;
    CHECK(p.l3num == ctcore::NFPROTO_IPV6);
    CHECK(p.saddr.all[0] == ((0x20) | (0x01 << 8) | (0x0d << 16) | (0xb8u << 24)));
    CHECK(p.dport == 443);
    ++ports[p.sport];
  }
  CHECK(ports.size() == 2);
  CHECK(ports.count(1000) == 1);
  CHECK(ports.count(1001) == 1);
}

TEST_CASE("generators are deterministic: same seed same packets, another seed others") {
  const FlowSpec fs = spec(kTcp);
  const auto a = stream(fs, 0, 1, 20);
  const auto b = stream(fs, 0, 1, 20);
  const auto c = stream(fs, 0, 2, 20);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a.size() == 20 * 9);
}

TEST_CASE("adding a flow entry leaves the other entries' packets unchanged (whole run)") {
  // Entry 0 draws from 192.168.0.0/16, the added entry from 172.16.0.0/12,
  // so each packet in the trace names its entry. The packets of entry 0
  // must be the same, in the same order, with or without the other one.
  const std::string a = R"({"at": "0s", "kind": "mix", "count": 300, "rate": "1000/s", "src": "192.168.0.0/16",
                            "dst": "10.0.0.0/24", "loss": 0.05, "weights": {"tcp": 2, "udp": 1, "icmp": 1}})";
  const std::string b = R"({"at": "0s", "kind": "mix", "count": 300, "rate": "3000/s", "src": "172.16.0.0/12",
                            "dst": "10.0.0.0/24", "loss": 0.1})";
  auto entry0 = [&](const std::string& flows) {
    ctsim::Scenario s = load(flows, 9);
    s.cpus = 2;
    const std::string dir = ctest::temp_dir();
    ctsim::RunOptions opt;
    opt.trace_path = dir + "/t.jsonl";
    ctsim::RunSummary sum;
    {
      ctsim::Simulator sim(s, opt);
      REQUIRE(sim.run(&sum).ok());
    }
    std::vector<std::string> pkts;
    std::istringstream in(ctest::read_file(opt.trace_path));
    std::string line;
    std::map<uint64_t, bool> seen;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.value("kind", "") != "pkt") continue;
      const uint64_t id = j["id"].get<uint64_t>();
      if (seen[id]) continue;
      seen[id] = true;
      const std::string p = j["pkt"].get<std::string>();
      if (p.find("192.168.") != std::string::npos) pkts.push_back(p);
    }
    return pkts;
  };
  const auto alone = entry0("[" + a + "]");
  const auto together = entry0("[" + a + "," + b + "]");
  CHECK(alone.size() > 900);
  CHECK(alone == together);
}

TEST_CASE("mix draws kinds in proportion to the weights") {
  FlowSpec fs = spec(R"({"at": "0s", "kind": "mix", "count": 20000, "rate": "1000/s", "src": "10.0.0.0/8",
                         "dst": "192.168.0.0/16", "weights": {"tcp": 6, "udp": 3, "icmp": 1}})");
  FlowGenerator g(fs, 0, 3);
  std::map<FlowSpec::Kind, int> n;
  const int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    FlowConn c;
    g.start(&c, i, 0, 1);
    ++n[c.kind];
  }
  // Binomial standard deviation at p = 0.6, n = 20000 is 0.0035: 0.015 is
  // over four of them.
  CHECK(std::abs(n[FlowSpec::Kind::kTcp] / double(kDraws) - 0.6) < 0.015);
  CHECK(std::abs(n[FlowSpec::Kind::kUdp] / double(kDraws) - 0.3) < 0.015);
  CHECK(std::abs(n[FlowSpec::Kind::kIcmp] / double(kDraws) - 0.1) < 0.015);
  FlowSpec only_udp = spec(R"({"at": "0s", "kind": "mix", "src": "10.0.0.0/8", "dst": "192.168.0.0/16",
                              "weights": {"udp": 1}})");
  FlowGenerator gu(only_udp, 0, 3);
  for (int i = 0; i < 100; ++i) {
    FlowConn c;
    gu.start(&c, i, 0, 1);
    CHECK(c.kind == FlowSpec::Kind::kUdp);
  }
}

TEST_CASE("loss makes tcp retransmit the same segment after a backed-off RTO") {
  FlowSpec fs = spec(R"({"at": "0s", "kind": "tcp", "src": "10.0.0.0/8", "dst": "192.168.0.1:443",
                         "data_packets": 5, "loss": 0.3, "rtt": "1ms"})");
  FlowGenerator g(fs, 0, 5);
  int lost = 0, conns_with_loss = 0, complete = 0;
  for (int i = 0; i < 200; ++i) {
    const std::vector<Sent> v = play(g, i);
    bool any = false;
    for (size_t k = 0; k + 1 < v.size(); ++k) {
      if (!v[k].lost) continue;
      any = true;
      ++lost;
      // The retransmission repeats the segment exactly.
      CHECK(ctsim::format_packet(v[k + 1].pkt) == ctsim::format_packet(v[k].pkt));
      // A handshake segment waits TCP_TIMEOUT_INIT (1 s), a later one at
      // least TCP_RTO_MIN (200 ms), doubled per earlier try.
      CHECK(v[k].delay >= ((v[k].pkt.tcp_flags & ctcore::TCPHDR_SYN) ? 1'000'000'000 : 200'000'000));
    }
    conns_with_loss += any;
    // Without a give-up, a connection plays its 3 + 10 + 3 segments plus one per loss.
    size_t losses = 0;
    for (const Sent& s : v) losses += s.lost;
    if (v.back().delay < 0 && !v.back().lost) {
      ++complete;
      CHECK(v.size() == 16 + losses);
    }
  }
  CHECK(lost > 200);
  CHECK(conns_with_loss > 150);
  CHECK(complete > 150);
  // Loss 1: the SYN goes out 1 + kTcpMaxRetransmits times, 1, 2, 4, ... s
  // apart (Linux's SYN retransmissions: TCP_TIMEOUT_INIT doubled), then the
  // sender gives up.
  FlowSpec all = spec(R"({"at": "0s", "kind": "tcp", "src": "10.0.0.1", "dst": "192.168.0.1:443", "loss": 1})");
  FlowGenerator ga(all, 0, 5);
  const std::vector<Sent> v = play(ga, 0);
  REQUIRE(v.size() == 1u + ctsim::kTcpMaxRetransmits);
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    CHECK(ctsim::format_tcp_flags(v[k].pkt.tcp_flags) == "S");
    CHECK(v[k].delay == (int64_t{1'000'000'000} << k));
  }
  CHECK(v.back().delay == -1);
}

TEST_CASE("lost udp requests get no reply") {
  FlowSpec fs = spec(
      R"({"at": "0s", "kind": "udp", "src": "10.0.0.1", "dst": "10.0.0.2:53", "data_packets": 1000, "loss": 0.5})");
  FlowGenerator g(fs, 0, 11);
  const std::vector<Sent> v = play(g, 0);
  size_t requests = 0, replies = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    const bool request = v[k].pkt.dport == 53;
    requests += request;
    replies += !request;
    if (request && v[k].lost && k + 1 < v.size()) CHECK(v[k + 1].pkt.dport == 53);
  }
  CHECK(requests == 1000);
  CHECK(replies > 350);
  CHECK(replies < 650);
}

TEST_CASE("rate gives Poisson arrivals with the right mean; interval a fixed gap") {
  FlowSpec fs = spec(
      R"({"at": "0s", "kind": "udp", "count": 100000, "rate": "2000/s", "src": "10.0.0.1", "dst": "10.0.0.2:53"})");
  FlowGenerator g(fs, 0, 13);
  const int kN = 100000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double gap = static_cast<double>(g.next_gap());
    sum += gap;
    sum2 += gap * gap;
  }
  const double mean = sum / kN;
  const double sd = std::sqrt(sum2 / kN - mean * mean);
  // Exponential gaps: mean 500 us, standard deviation equal to the mean.
  // The sample mean's standard error is 500/sqrt(1e5) = 1.6 us.
  CHECK(std::abs(mean - 500'000.0) < 8'000.0);
  CHECK(std::abs(sd / mean - 1.0) < 0.03);
  FlowSpec fixed =
      spec(R"({"at": "0s", "kind": "udp", "count": 10, "interval": "3ms", "src": "10.0.0.1", "dst": "10.0.0.2:53"})");
  FlowGenerator gf(fixed, 0, 13);
  for (int i = 0; i < 10; ++i) CHECK(gf.next_gap() == 3'000'000);
}

TEST_CASE("flow state is bounded by the connections alive at once, not the flow count") {
  // 20000 connections at 10000/s, each living about 8 rtt = 8 ms: about 80
  // alive at a time. The pools of live flow connections and in-flight
  // packets must stay near that, and flows never touch the per-tuple seq
  // map (that is for explicit packets only).
  ctsim::Scenario s = load(R"([{"at": "0s", "kind": "mix", "count": 20000, "rate": "10000/s", "cpu": "spread",
                                 "src": "10.0.0.0/8", "dst": "192.168.0.0/16:1-1024", "loss": 0.01}])");
  s.cpus = 2;
  ctsim::RunOptions opt;
  ctsim::RunSummary sum;
  ctsim::Simulator sim(s, opt);
  REQUIRE(sim.run(&sum).ok());
  CHECK(sum.packets > 60000);
  CHECK(sim.TEST_flow_conn_slots() < 400);
  CHECK(sim.TEST_in_flight_slots() < 100);
  CHECK(sim.TEST_seq_states() == 0);
}
