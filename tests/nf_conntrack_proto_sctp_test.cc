// SCTP tracking (v5.10): an association walked from INIT to
// SHUTDOWN_COMPLETE with the state, timeout and events of every step; the
// secondary-path HEARTBEAT conn; vtag checks; the first-packet rules; the
// error path; the sysctls.
#include <doctest/doctest.h>

#include <cstring>

#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_sysctl.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace ctcore {
bool sctp_can_early_drop(const nf_conn* ct);
}

namespace {

const nf_inet_addr kA = ipv4(192, 168, 1, 2), kB = ipv4(10, 0, 0, 2);
constexpr uint32_t kTagA = 0x11111111;  // A's initiate tag: what B must send
constexpr uint32_t kTagB = 0x22222222;  // B's initiate tag: what A must send

// An SCTP packet; `first` leads, `others` are further chunk types. For INIT
// and INIT_ACK the initiate tag travels in Packet::seq (see the tracker).
Packet sctp(bool from_a, uint32_t vtag, uint8_t first, std::initializer_list<uint8_t> others = {},
            uint32_t init_tag = 0) {
  return sctp_packet(kA, kB, from_a, vtag, first, others, init_tag);
}

uint32_t left(World& w, const nf_conn* ct) { return nf_ct_expires(ct, w.ct.now32()); }

constexpr uint8_t DATA = 0, INIT = 1, INIT_ACK = 2, SACK = 3, HEARTBEAT = 4, HEARTBEAT_ACK = 5, ABORT = 6, SHUTDOWN = 7,
                  SHUTDOWN_ACK = 8, COOKIE_ECHO = 10, COOKIE_ACK = 11, SHUTDOWN_COMPLETE = 14;

}  // namespace

TEST_CASE("nf_conntrack_sctp_packet: an association from INIT to SHUTDOWN_COMPLETE") {
  World w;
  EventLog log;
  w.init.event_cb = &log;
  const uint32_t hz = w.ct.hz();
  nf_conn* ct = nullptr;
  ip_conntrack_info info = IP_CT_NUMBER;

  REQUIRE(w.forward(sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct, &info) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(info == IP_CT_NEW);
  // v5.10 (row P1, from v5.6): the INIT makes a CLOSED conn, 10 s; the
  // INIT_ACK opens it.
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_CLOSED);
  CHECK(std::strcmp(sctp_state_name(*ct), "CLOSED") == 0);
  CHECK(ct->proto.sctp.vtag[IP_CT_DIR_REPLY] == kTagA);
  CHECK(left(w, ct) == 10 * hz);

  REQUIRE(w.forward(sctp(false, kTagA, INIT_ACK, {}, kTagB)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_COOKIE_WAIT);
  CHECK(ct->proto.sctp.vtag[IP_CT_DIR_ORIGINAL] == kTagB);
  CHECK(left(w, ct) == 3 * hz);
  CHECK(log.last_has(IPCT_PROTOINFO));

  REQUIRE(w.forward(sctp(true, kTagB, COOKIE_ECHO)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_COOKIE_ECHOED);
  CHECK(log.last_has(IPCT_PROTOINFO));
  CHECK(left(w, ct) == 3 * hz);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));

  REQUIRE(w.forward(sctp(false, kTagA, COOKIE_ACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_ESTABLISHED);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(log.last_has(IPCT_ASSURED));
  CHECK(log.last_has(IPCT_PROTOINFO));
  CHECK(left(w, ct) == 432000u * hz);

  REQUIRE(w.forward(sctp(true, kTagB, DATA)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, SACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_ESTABLISHED);
  CHECK(w.ct.stat(w.init, 0).invalid == 0);

  REQUIRE(w.forward(sctp(true, kTagB, SHUTDOWN)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_SHUTDOWN_SENT);
  CHECK(left(w, ct) == 300 * hz / 1000);
  CHECK(ctcore::sctp_can_early_drop(ct));

  REQUIRE(w.forward(sctp(false, kTagA, SHUTDOWN_ACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_SHUTDOWN_ACK_SENT);
  CHECK(left(w, ct) == 3 * hz);

  const Packet done = sctp(true, kTagB, SHUTDOWN_COMPLETE);
  REQUIRE(w.forward(done) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_CLOSED);
  CHECK(std::strcmp(sctp_state_name(*ct), "CLOSED") == 0);
  CHECK(left(w, ct) == 10 * hz);
  CHECK_FALSE(ctcore::sctp_can_early_drop(ct));
  CHECK(w.invariants() == "");

  w.advance_seconds(11);
  CHECK(find(w, done) == nullptr);
  CHECK(w.init.count == 0);
}

TEST_CASE("nf_conntrack_sctp_packet: a wrong vtag is invalid and changes nothing") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, INIT_ACK, {}, kTagB)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(true, kTagB, COOKIE_ECHO)) == NF_ACCEPT);
  const uint32_t t = ct->timeout;
  w.advance_seconds(1);
  // COOKIE_ACK carrying A's own tag instead of the one B was given.
  REQUIRE(w.forward(sctp(false, kTagB, COOKIE_ACK)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_COOKIE_ECHOED);
  CHECK(ct->timeout == t);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  // A COOKIE_ECHO must carry the tag from INIT_ACK (8.5.1 D).
  REQUIRE(w.forward(sctp(true, 0x1234, COOKIE_ECHO)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 2);
  // An ABORT with either side's tag is fine (8.5.1 B): it closes.
  REQUIRE(w.forward(sctp(false, kTagB, ABORT)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_CLOSED);
  CHECK(w.ct.stat(w.init, 0).invalid == 2);
}

TEST_CASE("nf_conntrack_sctp_packet: a shutdown started by the responder") {
  World w;
  const uint32_t hz = w.ct.hz();
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, INIT_ACK, {}, kTagB)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(true, kTagB, COOKIE_ECHO)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, COOKIE_ACK)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, SHUTDOWN)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_SHUTDOWN_RECD);
  CHECK(std::strcmp(sctp_state_name(*ct), "SHUTDOWN_RECD") == 0);
  CHECK(left(w, ct) == 300 * hz / 1000);
  REQUIRE(w.forward(sctp(true, kTagB, SHUTDOWN_ACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_SHUTDOWN_ACK_SENT);
  REQUIRE(w.forward(sctp(false, kTagA, SHUTDOWN_COMPLETE)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_CLOSED);
  CHECK(left(w, ct) == 10 * hz);
  CHECK(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
}

TEST_CASE("sctp_new: which first packets may create a conn") {
  World w;
  struct Case {
    uint8_t first;
    std::initializer_list<uint8_t> others;
    uint32_t vtag;
    bool creates;
    uint8_t state;
  };
  const Case cases[] = {
      {INIT, {}, 0, true, SCTP_CONNTRACK_CLOSED},  // row P1
      {INIT, {}, 5, false, 0},  // INIT must carry vtag 0
      // Out of the blue, these pass sctp_new but then face the vtag check
      // against vtag[ORIGINAL], still 0: only a zero tag gets through.
      {INIT_ACK, {}, 0, true, SCTP_CONNTRACK_CLOSED},
      {INIT_ACK, {}, 5, false, 0},
      {SHUTDOWN, {}, 0, true, SCTP_CONNTRACK_CLOSED},
      {SHUTDOWN, {}, 5, false, 0},
      {COOKIE_ECHO, {}, 0, true, SCTP_CONNTRACK_CLOSED},
      {COOKIE_ECHO, {}, 5, false, 0},
      // SHUTDOWN_ACK and the heartbeat chunks are exempt from that check.
      {SHUTDOWN_ACK, {}, 5, true, SCTP_CONNTRACK_SHUTDOWN_ACK_SENT},
      {HEARTBEAT, {}, 5, true, SCTP_CONNTRACK_HEARTBEAT_SENT},
      {HEARTBEAT_ACK, {}, 5, true, SCTP_CONNTRACK_CLOSED},
      {DATA, {}, 5, false, 0},  // DATA never opens a conn
      {SACK, {}, 5, false, 0},
      {HEARTBEAT, {DATA}, 5, false, 0},  // nor does a bundle holding DATA
      {ABORT, {}, 5, false, 0},          // OOTB ABORT: discard (8.4)
      {SHUTDOWN_COMPLETE, {}, 5, false, 0},
      {COOKIE_ACK, {}, 5, false, 0},
      {DATA, {COOKIE_ECHO}, 5, false, 0},  // COOKIE_ECHO must come first
      {INIT, {DATA}, 0, false, 0},         // INIT must be alone
  };
  uint16_t port = 100;
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.first));
    CAPTURE(port);
    Packet p = sctp(true, c.vtag, c.first, c.others, kTagA);
    p.sport = port++;
    nf_conn* ct = nullptr;
    CHECK(w.forward(p, nullptr, 0, &ct) == NF_ACCEPT);
    CHECK((ct != nullptr) == c.creates);
    if (ct != nullptr && c.creates) CHECK(ct->proto.sctp.state == c.state);
  }
  CHECK(w.init.count == 7);
  CHECK(w.ct.stat(w.init, 0).invalid == 12);
}

TEST_CASE(
    "nf_conntrack_sctp_packet: bundled chunks chain; ASSURED looks at "
    "the state before the last chunk") {
  // v5.10 walks the chunks in order, each from the state the previous one
  // left, and tests the ASSURED rule (COOKIE_ECHOED -> ESTABLISHED, reply
  // direction) against the state before the LAST chunk. A COOKIE_ACK with
  // DATA behind it therefore establishes the association without ASSURED.
  World w;
  EventLog log;
  w.init.event_cb = &log;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, INIT_ACK, {}, kTagB)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(true, kTagB, COOKIE_ECHO, {DATA})) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_COOKIE_ECHOED);
  REQUIRE(w.forward(sctp(false, kTagA, COOKIE_ACK, {DATA})) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_ESTABLISHED);
  CHECK(log.last_has(IPCT_PROTOINFO));
  CHECK_FALSE(log.last_has(IPCT_ASSURED));
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  CHECK(nf_ct_expires(ct, w.ct.now32()) == 432000u * w.ct.hz());
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
}

TEST_CASE("nf_conntrack_sctp_packet: a HEARTBEAT-opened secondary path") {
  World w;
  const uint32_t hz = w.ct.hz();
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(sctp(true, kTagB, HEARTBEAT), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_HEARTBEAT_SENT);
  CHECK(left(w, ct) == 30 * hz);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));
  // The reply side may only join the heartbeat exchange.
  REQUIRE(w.forward(sctp(false, kTagA, DATA)) == NF_ACCEPT);  // vtag[REPLY] unknown (0)
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  REQUIRE(w.forward(sctp(false, kTagA, HEARTBEAT_ACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_HEARTBEAT_ACKED);
  CHECK(ct->proto.sctp.vtag[IP_CT_DIR_REPLY] == kTagA);  // learnt from the ack
  CHECK(std::strcmp(sctp_state_name(*ct), "HEARTBEAT_ACKED") == 0);
  CHECK(left(w, ct) == 210 * hz);
  CHECK_FALSE(ct->test_bit(IPS_ASSURED_BIT));  // only COOKIE_ACK assures
  REQUIRE(w.forward(sctp(true, kTagB, DATA)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.state == SCTP_CONNTRACK_HEARTBEAT_ACKED);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
}

TEST_CASE("nf_conntrack_sctp_packet: a HEARTBEAT after 4-tuple reuse resyncs the vtags") {
  World w;
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, INIT_ACK, {}, kTagB)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(true, kTagB, COOKIE_ECHO)) == NF_ACCEPT);
  REQUIRE(w.forward(sctp(false, kTagA, COOKIE_ACK)) == NF_ACCEPT);
  const uint32_t t = ct->timeout;
  w.advance_seconds(1);
  // New association on the same ports: fresh tags 0x33/0x44.
  REQUIRE(w.forward(sctp(true, 0x33, HEARTBEAT)) == NF_ACCEPT);  // let through, untimed
  CHECK(w.ct.stat(w.init, 0).invalid == 0);
  CHECK(ct->timeout == t);
  CHECK(ct->proto.sctp.flags == SCTP_FLAG_HEARTBEAT_VTAG_FAILED);
  REQUIRE(w.forward(sctp(false, 0x44, HEARTBEAT_ACK)) == NF_ACCEPT);
  CHECK(ct->proto.sctp.vtag[IP_CT_DIR_REPLY] == 0x44);
  CHECK(ct->proto.sctp.vtag[IP_CT_DIR_ORIGINAL] == 0);
  CHECK(ct->proto.sctp.flags == 0);
  CHECK(ct->timeout != t);  // this one is accounted normally
  // A second mismatching HEARTBEAT_ACK without a failed HEARTBEAT: invalid.
  REQUIRE(w.forward(sctp(false, 0x55, HEARTBEAT_ACK)) == NF_ACCEPT);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
}

TEST_CASE("sctp_error: bad CRC at PRE_ROUTING with checksum=1, and short packets") {
  World w;
  Packet bad = sctp(true, 0, INIT, {}, kTagA);
  bad.bad_checksum = true;
  CHECK(w.forward(bad) == NF_ACCEPT);
  CHECK(w.init.count == 0);
  CHECK(w.ct.stat(w.init, 0).invalid == 1);
  w.init.sysctl.checksum = 0;
  CHECK(w.forward(bad) == NF_ACCEPT);
  CHECK(w.init.count == 1);
  Packet shortp = sctp(true, 0, INIT, {}, kTagA);
  shortp.sport = 9;
  shortp.truncated = true;
  CHECK(w.forward(shortp) == NF_ACCEPT);
  CHECK(w.init.count == 1);
}

TEST_CASE("nf_conntrack_sysctl: SCTP timeouts under their v5.10 names and defaults") {
  const uint32_t hz = 250;
  nf_conntrack_sysctl s = nf_conntrack_sysctl::defaults(hz);
  const std::pair<const char*, uint64_t> rows[] = {
      {"nf_conntrack_sctp_timeout_closed", 10},         {"nf_conntrack_sctp_timeout_cookie_wait", 3},
      {"nf_conntrack_sctp_timeout_cookie_echoed", 3},   {"nf_conntrack_sctp_timeout_established", 432000},
      {"nf_conntrack_sctp_timeout_shutdown_sent", 0},  // 300 ms reads as 0 s
      {"nf_conntrack_sctp_timeout_shutdown_recd", 0},   {"nf_conntrack_sctp_timeout_shutdown_ack_sent", 3},
      {"nf_conntrack_sctp_timeout_heartbeat_sent", 30}, {"nf_conntrack_sctp_timeout_heartbeat_acked", 210},
  };
  for (const auto& r : rows) {
    CAPTURE(r.first);
    const SysctlInfo* info = nf_conntrack_sysctl_find(r.first);
    REQUIRE(info != nullptr);
    CHECK(info->jiffies);
    CHECK(nf_conntrack_sysctl_read(s, *info, hz) == r.second);
  }
  CHECK(s.sctp_timeouts[SCTP_CONNTRACK_SHUTDOWN_SENT] == 75);  // jiffies at HZ=250
  nf_conntrack_sysctl_write(s, *nf_conntrack_sysctl_find("nf_conntrack_sctp_timeout_established"), 600, hz);
  CHECK(s.sctp_timeouts[SCTP_CONNTRACK_ESTABLISHED] == 600 * hz);
}
