// A first end-to-end check of the core through the harness: one TCP
// handshake confirms a conn with use 1 after the skb is gone.
#include <doctest/doctest.h>

#include "tests/core_harness.h"

using namespace ctest;

TEST_CASE("a TCP handshake confirms one conn that the table holds once") {
  World w;
  auto c = ipv4(192, 168, 1, 2), s = ipv4(10, 0, 0, 2);
  nf_conn* ct = nullptr;
  CHECK(w.forward(tcp_packet(c, 47562, s, 80, TCPHDR_SYN, 100), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(ct->use == 1);
  CHECK(nf_ct_is_confirmed(ct));
  CHECK(ct->proto.tcp.state == TCP_CONNTRACK_SYN_SENT);
  CHECK(w.invariants() == "");
  CHECK(w.forward(tcp_packet(s, 80, c, 47562, TCPHDR_SYN | TCPHDR_ACK, 500, 101)) == NF_ACCEPT);
  CHECK(ct->proto.tcp.state == TCP_CONNTRACK_SYN_RECV);
  CHECK(w.forward(tcp_packet(c, 47562, s, 80, TCPHDR_ACK, 101, 501)) == NF_ACCEPT);
  CHECK(ct->proto.tcp.state == TCP_CONNTRACK_ESTABLISHED);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(w.invariants() == "");
  CHECK(w.init.count == 1);
}
