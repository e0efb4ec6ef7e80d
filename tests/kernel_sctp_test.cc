// The SCTP tracker's kernel-profile rows P1-P6 (docs/KERNELS.md, "The SCTP
// tracker"). Each case runs one packet sequence under the profile before
// the change and the one after it (or with the single switch flipped), so
// that it fails on the other behaviour; tests/nf_conntrack_proto_sctp_test.cc
// keeps pinning v5.10's.
#include <doctest/doctest.h>

#include <cstring>

#include "core/nf_conntrack_kernel_profile.h"
#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_sysctl.h"
#include "sim/scenario/scenario.h"
#include "tests/core_harness.h"
#include "tests/kernel_profile_util.h"
#include "tests/core_test_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kA = ipv4(198, 18, 50, 1), kB = ipv4(198, 18, 50, 2);
constexpr uint32_t kTagA = 0x11111111;  // A's initiate tag: what B must send
constexpr uint32_t kTagB = 0x22222222;  // B's initiate tag: what A must send

constexpr uint8_t DATA = 0, INIT = 1, INIT_ACK = 2, HEARTBEAT = 4, HEARTBEAT_ACK = 5, ABORT = 6, SHUTDOWN = 7,
                  SHUTDOWN_ACK = 8, COOKIE_ECHO = 10, COOKIE_ACK = 11, SHUTDOWN_COMPLETE = 14;

// A World under profile `p` with a listener from the start (under
// nf_conntrack_events=2 conns get the event extension only then).
struct SWorld : World {
  EventLog log;
  explicit SWorld(const kernel_profile& p) : World(config_of(p)) {
    init.event_cb = &log;
    ct.nf_ctnetlink_set_listener(init, true);
  }

  // An SCTP packet from A (or B) with `first` leading and `others` behind it.
  static Packet sctp(bool from_a, uint32_t vtag, uint8_t first, std::initializer_list<uint8_t> others = {},
                     uint32_t init_tag = 0) {
    return sctp_packet(kA, kB, from_a, vtag, first, others, init_tag);
  }

  unsigned a(uint32_t vtag, uint8_t first, uint32_t init_tag = 0) { return forward(sctp(true, vtag, first, {}, init_tag)); }
  unsigned b(uint32_t vtag, uint8_t first, uint32_t init_tag = 0) { return forward(sctp(false, vtag, first, {}, init_tag)); }

  // The conn of the A-B association (null if none).
  nf_conn* conn() { return find(*this, sctp(true, 0, DATA)); }
  uint8_t state() {
    nf_conn* c = conn();
    REQUIRE(c != nullptr);
    return c->proto.sctp.state;
  }
  uint32_t left() { return nf_ct_expires(conn(), ct.now32()); }
  uint32_t invalid() { return ct.stat(init, 0).invalid; }

  // INIT, INIT_ACK, COOKIE_ECHO, COOKIE_ACK.
  void handshake() {
    REQUIRE(a(0, INIT, kTagA) == NF_ACCEPT);
    REQUIRE(b(kTagA, INIT_ACK, kTagB) == NF_ACCEPT);
    REQUIRE(a(kTagB, COOKIE_ECHO) == NF_ACCEPT);
    REQUIRE(b(kTagA, COOKIE_ACK) == NF_ACCEPT);
  }
};

}  // namespace

TEST_CASE("P1: an INIT makes a CLOSED conn whose NEW event carries the state; the INIT_ACK opens it") {
  auto run = [](const kernel_profile& p, uint8_t after_init, bool new_has_protoinfo, uint8_t after_init_ack,
                uint32_t init_timeout_s) {
    SWorld w(p);
    nf_conn* ct = nullptr;
    ip_conntrack_info info = IP_CT_NUMBER;
    REQUIRE(w.forward(SWorld::sctp(true, 0, INIT, {}, kTagA), nullptr, 0, &ct, &info) == NF_ACCEPT);
    CHECK(info == IP_CT_NEW);
    CHECK(w.state() == after_init);
    CHECK(w.left() == init_timeout_s * w.ct.hz());
    REQUIRE(!w.log.masks.empty());
    CHECK((w.log.masks.back() & (1u << IPCT_NEW)) != 0);
    CHECK(w.log.last_has(IPCT_PROTOINFO) == new_has_protoinfo);
    REQUIRE(w.b(kTagA, INIT_ACK, kTagB) == NF_ACCEPT);
    CHECK(w.state() == after_init_ack);
    CHECK(w.left() == 3 * w.ct.hz());
    REQUIRE(w.a(kTagB, COOKIE_ECHO) == NF_ACCEPT);
    CHECK(w.state() == SCTP_CONNTRACK_COOKIE_ECHOED);
    CHECK(w.invalid() == 0);
  };
  // Before 5.6 (the switch off): COOKIE_WAIT at once, no PROTOINFO on NEW,
  // the INIT_ACK moves nothing.
  run(with("5.10", [](kernel_profile& p) { p.sctp_init_closed = false; }), SCTP_CONNTRACK_COOKIE_WAIT, false,
      SCTP_CONNTRACK_COOKIE_WAIT, 3);
  // P1, in v5.10 already: CLOSED (10 s) with the state in the NEW event;
  // COOKIE_WAIT at the INIT_ACK.
  run(named("5.10"), SCTP_CONNTRACK_CLOSED, true, SCTP_CONNTRACK_COOKIE_WAIT, 10);
  run(named("5.15"), SCTP_CONNTRACK_CLOSED, true, SCTP_CONNTRACK_COOKIE_WAIT, 10);
  run(named("6.18"), SCTP_CONNTRACK_CLOSED, true, SCTP_CONNTRACK_COOKIE_WAIT, 10);
}

TEST_CASE("P2: a retransmitted INIT does not renew a CLOSED conn") {
  auto run = [](const kernel_profile& p) {
    SWorld w(p);
    REQUIRE(w.a(0, INIT, kTagA) == NF_ACCEPT);
    const uint32_t first = w.conn()->timeout;
    w.advance_seconds(4);
    REQUIRE(w.a(0, INIT, kTagA) == NF_ACCEPT);  // the client's retransmission
    CHECK(w.state() == SCTP_CONNTRACK_CLOSED);
    CHECK(w.invalid() == 0);
    return w.conn()->timeout - first;
  };
  const kernel_profile before = named("5.15");  // P1 without P2
  CHECK_FALSE(before.sctp_closed_init_no_renew);
  CHECK(run(before) == 4 * 250u);  // renewed: 10 s from the retransmission
  CHECK(run(named("6.1")) == 0u);
  CHECK(run(named("6.18")) == 0u);
}

TEST_CASE("P3: ESTABLISHED lasts 210 s, a secondary path's HEARTBEAT_ACK establishes and assures") {
  SUBCASE("the primary path") {
    auto run = [](const kernel_profile& p) {
      SWorld w(p);
      w.handshake();
      CHECK(w.state() == SCTP_CONNTRACK_ESTABLISHED);
      CHECK(w.conn()->test_bit(IPS_ASSURED_BIT));
      CHECK(w.log.last_has(IPCT_ASSURED));
      CHECK(w.invalid() == 0);
      return w.left() / w.ct.hz();
    };
    CHECK(run(named("5.10")) == 432000u);
    CHECK(run(named("6.1")) == 432000u);
    CHECK(run(named("6.1-late")) == 210u);
    CHECK(run(named("6.18")) == 210u);
  }
  SUBCASE("a secondary path opened by a HEARTBEAT") {
    auto run = [](const kernel_profile& p, uint8_t state, bool assured) {
      SWorld w(p);
      REQUIRE(w.a(kTagB, HEARTBEAT) == NF_ACCEPT);
      CHECK(w.state() == SCTP_CONNTRACK_HEARTBEAT_SENT);
      REQUIRE(w.b(kTagA, HEARTBEAT_ACK) == NF_ACCEPT);
      CHECK(w.state() == state);
      CHECK(w.left() == 210 * w.ct.hz());
      CHECK(w.conn()->test_bit(IPS_ASSURED_BIT) == assured);
      CHECK(w.log.last_has(IPCT_ASSURED) == assured);
      // A SHUTDOWN on this path now closes it like the primary one.
      REQUIRE(w.a(kTagB, SHUTDOWN) == NF_ACCEPT);
      CHECK(w.state() == SCTP_CONNTRACK_SHUTDOWN_SENT);
    };
    run(named("6.1"), SCTP_CONNTRACK_HEARTBEAT_ACKED, false);
    run(named("6.18"), SCTP_CONNTRACK_ESTABLISHED, true);
  }
  SUBCASE("a COOKIE_ACK bundled with DATA assures") {
    // A COOKIE_ACK bundled with DATA: v5.10's rule (looking at the state
    // before the last chunk) never assures; P3 assures on the move itself.
    auto run = [](const kernel_profile& p) {
      SWorld w(p);
      REQUIRE(w.a(0, INIT, kTagA) == NF_ACCEPT);
      REQUIRE(w.b(kTagA, INIT_ACK, kTagB) == NF_ACCEPT);
      REQUIRE(w.a(kTagB, COOKIE_ECHO) == NF_ACCEPT);
      REQUIRE(w.forward(SWorld::sctp(false, kTagA, COOKIE_ACK, {DATA})) == NF_ACCEPT);
      CHECK(w.state() == SCTP_CONNTRACK_ESTABLISHED);
      return w.conn()->test_bit(IPS_ASSURED_BIT);
    };
    CHECK_FALSE(run(named("6.1")));
    CHECK(run(named("6.18")));
  }
  SUBCASE("the sysctl defaults") {
    const uint32_t hz = 250;
    const nf_conntrack_sysctl old = nf_conntrack_sysctl::defaults(hz, named("6.1"));
    const nf_conntrack_sysctl merged = nf_conntrack_sysctl::defaults(hz, named("6.18"));
    CHECK(old.sctp_timeouts[SCTP_CONNTRACK_ESTABLISHED] == 432000u * hz);
    CHECK(old.sctp_timeouts[SCTP_CONNTRACK_HEARTBEAT_ACKED] == 210u * hz);
    CHECK(merged.sctp_timeouts[SCTP_CONNTRACK_ESTABLISHED] == 210u * hz);
    CHECK(merged.sctp_timeouts[SCTP_CONNTRACK_HEARTBEAT_ACKED] == 0u);
  }
}

TEST_CASE("P3: nf_conntrack_sctp_timeout_heartbeat_acked exists only in kernels without P3") {
  for (const std::string& text : sysctl_scenarios("nf_conntrack_sctp_timeout_heartbeat_acked", 60)) {
    CAPTURE(text);
    CHECK(load_under(text, "6.1").ok());
    const ctsim::Status merged = load_under(text, "6.18");
    REQUIRE_FALSE(merged.ok());
    CHECK(merged.message().find("does not exist in this kernel profile (row P3 removed it in v6.2") !=
          std::string::npos);
  }
}

TEST_CASE("P4: ABORT and SHUTDOWN_COMPLETE must carry the sender's own vtag") {
  auto run = [](const kernel_profile& p, uint8_t chunk) {
    SWorld w(p);
    w.handshake();
    if (chunk == SHUTDOWN_COMPLETE) {
      REQUIRE(w.a(kTagB, SHUTDOWN) == NF_ACCEPT);
      REQUIRE(w.b(kTagA, SHUTDOWN_ACK) == NF_ACCEPT);
    }
    // A sends with B's tag (the one B must use), i.e. as if the T bit were set.
    REQUIRE(w.a(kTagA, chunk) == NF_ACCEPT);
    const bool accepted = w.invalid() == 0;
    if (accepted) CHECK(w.state() == SCTP_CONNTRACK_CLOSED);
    // With its own tag it is fine everywhere.
    REQUIRE(w.a(kTagB, chunk) == NF_ACCEPT);
    CHECK(w.state() == SCTP_CONNTRACK_CLOSED);
    return accepted;
  };
  CHECK(run(named("6.1"), ABORT));
  CHECK(run(named("6.1"), SHUTDOWN_COMPLETE));
  CHECK_FALSE(run(named("6.1-late"), ABORT));
  CHECK_FALSE(run(named("6.1-late"), SHUTDOWN_COMPLETE));
  CHECK_FALSE(run(named("6.18"), ABORT));
}

TEST_CASE("P5: SHUTDOWN_SENT and SHUTDOWN_RECD last 3 s; an INIT during a shutdown closes") {
  auto run = [](const kernel_profile& p) {
    SWorld w(p);
    w.handshake();
    REQUIRE(w.a(kTagB, SHUTDOWN) == NF_ACCEPT);
    CHECK(w.state() == SCTP_CONNTRACK_SHUTDOWN_SENT);
    const uint32_t shutdown_left = w.left();
    // The SHUTDOWN_ACK came back on another path; A starts anew on this one.
    REQUIRE(w.a(0, INIT, 0x33333333) == NF_ACCEPT);
    CHECK(w.invalid() == 0);
    return std::pair{shutdown_left, w.state()};
  };
  const auto [old_left, old_state] = run(named("6.1"));
  CHECK(old_left == 300u * 250 / 1000);  // 75 jiffies: /proc shows 0
  CHECK(old_state == SCTP_CONNTRACK_SHUTDOWN_SENT);
  const auto [new_left, new_state] = run(named("6.18"));
  CHECK(new_left == 3u * 250);
  CHECK(new_state == SCTP_CONNTRACK_CLOSED);
  const nf_conntrack_sysctl s = nf_conntrack_sysctl::defaults(250, named("6.18"));
  CHECK(s.sctp_timeouts[SCTP_CONNTRACK_SHUTDOWN_RECD] == 3u * 250);
}

TEST_CASE("P6: INIT collisions") {
  SUBCASE("scenario A: a late INIT_ACK of the lost race is invalid, the tags stay") {
    // A and B both send INIT; each answers the other's; then B's INIT_ACK
    // to A's INIT arrives late with a tag that contradicts B's own INIT.
    auto run = [](const kernel_profile& p) {
      SWorld w(p);
      REQUIRE(w.a(0, INIT, kTagA) == NF_ACCEPT);
      REQUIRE(w.b(0, INIT, kTagB) == NF_ACCEPT);
      REQUIRE(w.a(kTagB, INIT_ACK, kTagA) == NF_ACCEPT);
      REQUIRE(w.b(kTagA, INIT_ACK, 0x44444444) == NF_ACCEPT);
      return std::pair{w.invalid(), w.conn()->proto.sctp.vtag[IP_CT_DIR_ORIGINAL]};
    };
    const auto [old_invalid, old_tag] = run(named("6.1"));
    CHECK(old_invalid == 0);
    CHECK(old_tag == 0x44444444u);  // what A must send, overwritten
    const auto [new_invalid, new_tag] = run(named("6.18"));
    CHECK(new_invalid == 1);
    CHECK(new_tag == kTagB);
  }
  SUBCASE("the responder's cookie finishes first: COOKIE_ECHO and COOKIE_ACK from either side") {
    auto run = [](const kernel_profile& p) {
      SWorld w(p);
      // Both INITs cross; B answers A's (COOKIE_WAIT), A answers B's, and
      // B's cookie is the one that completes.
      REQUIRE(w.a(0, INIT, kTagA) == NF_ACCEPT);
      REQUIRE(w.b(0, INIT, kTagB) == NF_ACCEPT);
      REQUIRE(w.b(kTagA, INIT_ACK, kTagB) == NF_ACCEPT);
      REQUIRE(w.a(kTagB, INIT_ACK, kTagA) == NF_ACCEPT);
      CHECK(w.state() == SCTP_CONNTRACK_COOKIE_WAIT);
      REQUIRE(w.b(kTagA, COOKIE_ECHO) == NF_ACCEPT);
      const uint8_t echoed = w.state();
      REQUIRE(w.a(kTagB, COOKIE_ACK) == NF_ACCEPT);
      CHECK(w.invalid() == 0);
      return std::pair{echoed, w.state()};
    };
    const auto [old_echoed, old_final] = run(named("6.1"));
    CHECK(old_echoed == SCTP_CONNTRACK_COOKIE_WAIT);
    CHECK(old_final == SCTP_CONNTRACK_COOKIE_WAIT);
    const auto [new_echoed, new_final] = run(named("6.18"));
    CHECK(new_echoed == SCTP_CONNTRACK_COOKIE_ECHOED);
    CHECK(new_final == SCTP_CONNTRACK_ESTABLISHED);
  }
  SUBCASE("the COOKIE_ACK forgets the INITs") {
    SWorld w(named("6.18"));
    w.handshake();
    CHECK(w.conn()->proto.sctp.init[IP_CT_DIR_ORIGINAL] == 0);
    CHECK(w.conn()->proto.sctp.init[IP_CT_DIR_REPLY] == 0);
    CHECK(w.invalid() == 0);
  }
}

TEST_CASE("P1-P6: the profile table") {
  for (const char* name : {"5.10"}) {
    const kernel_profile& p = named(name);
    CHECK(p.sctp_init_closed);  // v5.6
    CHECK_FALSE(p.sctp_established_merged);
  }
  for (const char* name : {"5.15-late", "6.1-late", "6.6", "6.12", "6.18", "6.18-late"}) {
    CAPTURE(name);
    const kernel_profile& p = named(name);
    CHECK(p.sctp_init_closed);
    CHECK(p.sctp_closed_init_no_renew);
    CHECK(p.sctp_established_merged);
    CHECK(p.sctp_abort_own_vtag);
    CHECK(p.sctp_shutdown_3s);
    CHECK(p.sctp_init_collision);
  }
}
