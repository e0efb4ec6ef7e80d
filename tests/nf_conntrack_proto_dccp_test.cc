// DCCP tracking (v5.10): a connection from Request to the closing Reset
// with the state and timeout of every step; packets the table refuses or
// ignores; the Reset-only teardown; reincarnation; the sysctls.
#include <doctest/doctest.h>

#include <cstring>

#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_sysctl.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace ctcore {
bool dccp_can_early_drop(const nf_conn* ct);
}

namespace {

const nf_inet_addr kC = ipv4(192, 168, 1, 2), kS = ipv4(10, 0, 0, 2);

constexpr uint8_t REQUEST = 0, RESPONSE = 1, DATA = 2, ACK = 3, DATAACK = 4, CLOSEREQ = 5, CLOSE = 6, RESET = 7,
                  SYNC = 8;

Packet dccp(bool from_client, uint8_t type, uint64_t seq = 0, uint64_t ack = 0) {
  return dccp_packet(kC, kS, from_client, type, 1000, 2000, seq, ack);
}

}  // namespace

TEST_CASE("nf_conntrack_dccp_packet: a connection from Request to Reset") {
  World w;
  EventLog log;
  w.init.event_cb = &log;
  nf_conn* ct = nullptr;

  REQUIRE(w.forward(dccp(true, REQUEST, 100), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(ct->proto.dccp.state == CT_DCCP_REQUEST);
  CHECK(std::strcmp(dccp_state_name(*ct), "REQUEST") == 0);
  CHECK(ct->proto.dccp.role[IP_CT_DIR_ORIGINAL] == CT_DCCP_ROLE_CLIENT);
  CHECK(ct->proto.dccp.role[IP_CT_DIR_REPLY] == CT_DCCP_ROLE_SERVER);
  CHECK(secs_left(w, ct) == 240);

  REQUIRE(w.forward(dccp(false, RESPONSE, 500, 100)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_RESPOND);
  CHECK(ct->proto.dccp.handshake_seq == 500);
  CHECK(secs_left(w, ct) == 480);

  REQUIRE(w.forward(dccp(true, ACK, 102, 500)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_PARTOPEN);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK_FALSE(log.saw(IPCT_ASSURED));  // v5.10 sets the bit silently
  CHECK(log.saw(IPCT_PROTOINFO));
  CHECK(secs_left(w, ct) == 480);

  REQUIRE(w.forward(dccp(false, DATA, 501)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_OPEN);
  CHECK(std::strcmp(dccp_state_name(*ct), "OPEN") == 0);
  CHECK(secs_left(w, ct) == 43200);
  REQUIRE(w.forward(dccp(true, DATAACK, 103, 501)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_OPEN);
  CHECK_FALSE(ctcore::dccp_can_early_drop(ct));

  REQUIRE(w.forward(dccp(false, CLOSEREQ, 502)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_CLOSEREQ);
  CHECK(secs_left(w, ct) == 64);
  CHECK(ctcore::dccp_can_early_drop(ct));

  REQUIRE(w.forward(dccp(true, CLOSE, 104)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_CLOSING);
  CHECK(secs_left(w, ct) == 64);

  const Packet reset = dccp(false, RESET, 503);
  REQUIRE(w.forward(reset) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_TIMEWAIT);
  CHECK(std::strcmp(dccp_state_name(*ct), "TIMEWAIT") == 0);
  CHECK(secs_left(w, ct) == 240);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(w.invariants() == "");

  w.advance_seconds(241);
  CHECK(find(w, reset) == nullptr);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_dccp_packet: only the Ack of the Response's sequence assures") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(dccp(true, REQUEST, 100), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESPONSE, 500, 100)) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(true, ACK, 101, 499)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_PARTOPEN);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  // From PARTOPEN a correct Ack no longer counts: the rule needs RESPOND.
  REQUIRE(w.forward(dccp(true, ACK, 102, 500)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_PARTOPEN);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  // Nor does a DataAck, even with the right number.
  Packet req = dccp(true, REQUEST, 1);
  req.sport = 1001;
  Packet resp = dccp(false, RESPONSE, 700, 1);
  resp.dport = 1001;
  Packet dataack = dccp(true, DATAACK, 2, 700);
  dataack.sport = 1001;
  nf_conn* ct2 = nullptr;
  REQUIRE(w.forward(req, nullptr, 0, &ct2) == NF_ACCEPT);
  REQUIRE(w.forward(resp) == NF_ACCEPT);
  REQUIRE(w.forward(dataack) == NF_ACCEPT);
  CHECK(ct2->proto.dccp.state == CT_DCCP_PARTOPEN);
  CHECK_FALSE(ct2->test_bit(IPS_ASSURED_BIT));
}

TEST_CASE("nf_conntrack_dccp_packet: Resets in TIMEWAIT (v5.10 table quirk)") {
  // The client's Reset in TIMEWAIT is ignored (timer untouched); the
  // server's row has one entry too many in v5.10, so its Reset in TIMEWAIT
  // stays TIMEWAIT and refreshes the timer.
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(dccp(true, REQUEST, 1), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESPONSE, 10, 1)) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESET, 11)) == NF_ACCEPT);
  REQUIRE(ct->proto.dccp.state == CT_DCCP_TIMEWAIT);
  w.advance_seconds(100);
  REQUIRE(w.forward(dccp(true, RESET, 2)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_TIMEWAIT);
  CHECK(secs_left(w, ct) == 140);
  REQUIRE(w.forward(dccp(false, RESET, 12)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_TIMEWAIT);
  CHECK(secs_left(w, ct) == 240);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
}

TEST_CASE("dccp_new: only a Request creates a conn, whatever nf_conntrack_dccp_loose says") {
  for (uint32_t loose : {0u, 1u}) {
    CAPTURE(loose);
    World w;
    w.init.sysctl.dccp_loose = loose;
    for (uint8_t type : {RESPONSE, DATA, ACK, DATAACK, CLOSEREQ, CLOSE, RESET, SYNC}) {
      CAPTURE(static_cast<int>(type));
      nf_conn* ct = reinterpret_cast<nf_conn*>(1);
      CHECK(w.forward(dccp(true, type), nullptr, 0, &ct) == NF_ACCEPT);
      CHECK(ct == nullptr);
    }
    CHECK(w.ct.stat(w.init, 0).invalid == 8);
    CHECK(w.forward(dccp(true, REQUEST)) == NF_ACCEPT);
    CHECK(w.init.count == 1);
  }
}

TEST_CASE("nf_conntrack_dccp_packet: invalid and ignored packets") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(dccp(true, REQUEST, 100), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESPONSE, 500, 100)) == NF_ACCEPT);
  const uint32_t t = ct->timeout;
  w.advance_seconds(1);

  // A client may never send CloseReq: invalid, nothing changes.
  REQUIRE(w.forward(dccp(true, CLOSEREQ)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(ct->proto.dccp.state == CT_DCCP_RESPOND);
  CHECK(ct->timeout == t);

  // A reserved packet type is invalid before the table is consulted.
  REQUIRE(w.forward(dccp(true, 10)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 2);

  // Sync is ignored: accepted, not counted, neither state nor timer moves.
  REQUIRE(w.forward(dccp(true, SYNC)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 2);
  CHECK(ct->proto.dccp.state == CT_DCCP_RESPOND);
  CHECK(ct->timeout == t);
  CHECK(ct->proto.dccp.last_pkt == SYNC);

  // A bad checksum at PRE_ROUTING is invalid.
  Packet bad = dccp(true, ACK, 101, 500);
  bad.bad_checksum = true;
  REQUIRE(w.forward(bad) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 3);
  CHECK(ct->proto.dccp.state == CT_DCCP_RESPOND);
}

TEST_CASE("nf_conntrack_dccp_packet: a Reset as the only answer kills the conn") {
  World w;
  const Packet req = dccp(true, REQUEST, 100);
  REQUIRE(w.forward(req) == NF_ACCEPT);
  REQUIRE(find(w, req) != nullptr);
  nf_conn* got = nullptr;
  CHECK(w.forward(dccp(false, RESET, 1), nullptr, 0, &got) == NF_ACCEPT);
  CHECK(find(w, req) == nullptr);
  CHECK(w.init.count == 0);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(w.invariants() == "");
}

TEST_CASE("nf_conntrack_dccp_packet: a server Request after TIMEWAIT swaps the roles") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(dccp(true, REQUEST, 1), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESPONSE, 10, 1)) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(true, ACK, 2, 10)) == NF_ACCEPT);
  REQUIRE(w.forward(dccp(false, RESET, 11)) == NF_ACCEPT);
  REQUIRE(ct->proto.dccp.state == CT_DCCP_TIMEWAIT);
  REQUIRE(w.forward(dccp(false, REQUEST, 20)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_REQUEST);
  CHECK(ct->proto.dccp.role[IP_CT_DIR_REPLY] == CT_DCCP_ROLE_CLIENT);
  CHECK(ct->proto.dccp.role[IP_CT_DIR_ORIGINAL] == CT_DCCP_ROLE_SERVER);
  // The original side now answers as the server.
  REQUIRE(w.forward(dccp(true, RESPONSE, 30, 20)) == NF_ACCEPT);
  CHECK(ct->proto.dccp.state == CT_DCCP_RESPOND);
  CHECK(ct->proto.dccp.handshake_seq == 30);
}

TEST_CASE("nf_conntrack_sysctl: DCCP timeouts and loose under their v5.10 names") {
  const uint32_t hz = 100;
  nf_conntrack_sysctl s = nf_conntrack_sysctl::defaults(hz);
  const std::pair<const char*, uint64_t> rows[] = {
      {"nf_conntrack_dccp_timeout_request", 240},  {"nf_conntrack_dccp_timeout_respond", 480},
      {"nf_conntrack_dccp_timeout_partopen", 480}, {"nf_conntrack_dccp_timeout_open", 43200},
      {"nf_conntrack_dccp_timeout_closereq", 64},  {"nf_conntrack_dccp_timeout_closing", 64},
      {"nf_conntrack_dccp_timeout_timewait", 240}, {"nf_conntrack_dccp_loose", 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.first);
    const SysctlInfo* info = nf_conntrack_sysctl_find(r.first);
    REQUIRE(info != nullptr);
    CHECK(nf_conntrack_sysctl_read(s, *info, hz) == r.second);
  }
  CHECK_FALSE(nf_conntrack_sysctl_find("nf_conntrack_dccp_loose")->jiffies);
  // GRE's pair exists in v5.10 too.
  CHECK(nf_conntrack_sysctl_read(s, *nf_conntrack_sysctl_find("nf_conntrack_gre_timeout"), hz) == 30);
  CHECK(nf_conntrack_sysctl_read(s, *nf_conntrack_sysctl_find("nf_conntrack_gre_timeout_stream"), hz) == 180);
}
