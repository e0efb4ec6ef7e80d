// Kernel-profile row D1 (docs/KERNELS.md): the 6.18 kernels have no DCCP
// tracker, so the generic one tracks protocol 33. Each case runs the same
// packets under 6.12 (the DCCP tracker, as v5.10's) and under 6.18, so it
// fails on the other behaviour. tests/nf_conntrack_proto_dccp_test.cc keeps
// pinning v5.10's tracker; tests/kernel/dccp-generic-*.json are the same
// facts checked against the live 6.18.44 kernel.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/nf_conntrack_kernel_profile.h"
#include "core/nf_conntrack_l4proto.h"
#include "core/nf_nat_core.h"
#include "sim/output/conntrack_tool_format.h"
#include "tests/core_harness.h"
#include "tests/core_test_util.h"
#include "tests/kernel_profile_util.h"

using namespace ctest;

namespace {

const nf_inet_addr kC = ipv4(198, 18, 60, 1), kS = ipv4(198, 18, 60, 2);
constexpr uint8_t REQUEST = 0, RESPONSE = 1, ACK = 3;

Packet dccp(bool from_client, uint8_t type, uint16_t cport = 40000, uint16_t sport = 5001) {
  return dccp_packet(kC, kS, from_client, type, cport, sport, 100, 100);
}

struct DWorld : World {
  EventLog log;
  explicit DWorld(const kernel_profile& p) : World(config_of(p)) {
    init.event_cb = &log;
    ct.nf_ctnetlink_set_listener(init, true);
  }
  uint32_t conns() const { return init.count; }
};

}  // namespace

TEST_CASE("D1: the 6.18 profiles have no DCCP tracker; every earlier one has v5.10's") {
  for (const char* name : {"5.10", "5.15", "6.1", "6.6", "6.12", "6.12-late"}) {
    CAPTURE(name);
    CHECK(named(name).dccp_tracker);
    CHECK(nf_ct_tracker_of(IPPROTO_DCCP_, named(name)) == IPPROTO_DCCP_);
  }
  for (const char* name : {"6.18", "6.18-late"}) {
    CAPTURE(name);
    CHECK_FALSE(named(name).dccp_tracker);
    CHECK(nf_ct_tracker_of(IPPROTO_DCCP_, named(name)) == 0);
    CHECK(std::strcmp(nf_ct_l4proto_find(IPPROTO_DCCP_, named(name)).packet_fn, "generic_packet") == 0);
  }
  // Only DCCP: the other protocols keep their trackers.
  for (uint8_t p : {IPPROTO_TCP_, IPPROTO_UDP_, IPPROTO_UDPLITE_, IPPROTO_SCTP_, IPPROTO_GRE_, IPPROTO_ICMP_})
    CHECK(nf_ct_tracker_of(p, named("6.18-late")) == p);
}

TEST_CASE("D1: the generic tracker's DCCP tuple has no ports: two flows between two hosts are one conn") {
  nf_conntrack_tuple with_ports, without;
  REQUIRE(nf_ct_get_tuple(dccp(true, REQUEST), &with_ports, named("6.12")));
  REQUIRE(nf_ct_get_tuple(dccp(true, REQUEST), &without, named("6.18")));
  CHECK(with_ports.sport() == 40000);
  CHECK(with_ports.dport() == 5001);
  CHECK(without.src.u_all == 0);
  CHECK(without.dst.u_all == 0);
  CHECK(without.dst.protonum == IPPROTO_DCCP_);
  // A header too short for the ports still gives the generic tracker a tuple.
  Packet cut = dccp(true, REQUEST);
  cut.truncated = true;
  CHECK_FALSE(nf_ct_get_tuple(cut, &with_ports, named("6.12")));
  CHECK(nf_ct_get_tuple(cut, &without, named("6.18")));

  for (const char* name : {"6.12", "6.18-late"}) {
    CAPTURE(name);
    const bool generic = std::string(name) == "6.18-late";
    DWorld w(named(name));
    nf_conn* first = nullptr;
    REQUIRE(w.forward(dccp(true, REQUEST), nullptr, 0, &first) == NF_ACCEPT);
    REQUIRE(first != nullptr);
    // The tracker's timeout: REQUEST 240 s, or the generic 600 s.
    CHECK(secs_left(w, first) == (generic ? 600u : 240u));
    REQUIRE(w.forward(dccp(false, RESPONSE)) == NF_ACCEPT);
    REQUIRE(w.forward(dccp(true, ACK)) == NF_ACCEPT);
    // The DCCP tracker makes it PARTOPEN and ASSURED; the generic one only
    // refreshes it: no state, never ASSURED.
    CHECK(first->test_bit(IPS_ASSURED_BIT) == !generic);
    CHECK(first->proto.dccp.state == (generic ? CT_DCCP_NONE : CT_DCCP_PARTOPEN));
    // Another flow between the same hosts: a conn of its own, or the same.
    nf_conn* second = nullptr;
    ip_conntrack_info ctinfo{};
    REQUIRE(w.forward(dccp(true, REQUEST, 40001, 5002), nullptr, 0, &second, &ctinfo) == NF_ACCEPT);
    CHECK(w.conns() == (generic ? 1u : 2u));
    CHECK((second == first) == generic);
    CHECK(ctinfo == (generic ? IP_CT_ESTABLISHED : IP_CT_NEW));
    // A short header: invalid for the tracker, tracked by the generic one.
    Packet cut2 = dccp(true, REQUEST, 40002, 5003);
    cut2.truncated = true;
    const uint32_t invalid_before = w.ct.stat(w.init, 0).invalid;
    REQUIRE(w.forward(cut2) == NF_ACCEPT);
    CHECK(w.ct.stat(w.init, 0).invalid == invalid_before + (generic ? 0u : 1u));
  }
}

TEST_CASE("D1: conntrack -D takes no ports for the generic tracker; the tools print 0, /proc none") {
  nf_conntrack_tuple given;
  REQUIRE(nf_ct_get_tuple(dccp(true, REQUEST), &given, named("6.12")));
  const nf_conntrack_tuple kept = ctnetlink_parse_tuple(given, named("6.12"));
  const nf_conntrack_tuple dropped = ctnetlink_parse_tuple(given, named("6.18"));
  CHECK(kept.sport() == 40000);
  CHECK(dropped.src.u_all == 0);
  CHECK(dropped.dst.u_all == 0);

  DWorld w(named("6.18-late"));
  nf_conn* ct = nullptr;
  REQUIRE(w.forward(dccp(true, REQUEST), nullptr, 0, &ct) == NF_ACCEPT);
  REQUIRE(ct != nullptr);
  const kernel_profile& k = named("6.18-late");
  // As `conntrack -L` and /proc/net/nf_conntrack printed them on 6.18.44
  // (a DCCP packet sent in a private namespace).
  CHECK(ctsim::format_list_line(*ct, 599, k) ==
        "dccp     33 599 src=198.18.60.1 dst=198.18.60.2 sport=0 dport=0 [UNREPLIED] src=198.18.60.2 "
        "dst=198.18.60.1 sport=0 dport=0 mark=0 use=1");
  CHECK(ctsim::format_proc_line(*ct, 599, 2, k) ==
        "ipv4     2 unknown  33 599 src=198.18.60.1 dst=198.18.60.2 [UNREPLIED] src=198.18.60.2 dst=198.18.60.1 "
        "mark=0 zone=0 use=2");
  CHECK(ctsim::format_event_line(ctsim::EventType::kNew, (1u << IPCT_NEW) | (1u << IPCT_PROTOINFO), *ct, 600, k) ==
        "    [NEW] dccp     33 600 src=198.18.60.1 dst=198.18.60.2 sport=0 dport=0 [UNREPLIED] src=198.18.60.2 "
        "dst=198.18.60.1 sport=0 dport=0");
}

TEST_CASE("D1: NAT leaves the generic tracker's DCCP ports alone, in the tuple and in the packet") {
  for (const char* name : {"6.12", "6.18-late"}) {
    CAPTURE(name);
    const bool generic = std::string(name) == "6.18-late";
    World w(config_of(named(name)));
    Packet p = dccp(true, REQUEST, 300, 5001);  // a privileged port: SNAT moves it to 600-1023
    REQUIRE(w.ct.nf_conntrack_in(w.init, 0, p, NF_INET_PRE_ROUTING) == NF_ACCEPT);
    nf_conn* ct = p.ct;
    REQUIRE(ct != nullptr);
    nf_nat_range2 r;
    r.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    r.min_addr = r.max_addr = ipv4(198, 18, 61, 1);
    r.min_proto = 40000;
    r.max_proto = 40010;
    nf_nat_alloc_null_binding(w.ct, ct, NF_NAT_MANIP_DST);
    nf_nat_setup_info(w.ct, ct, r, NF_NAT_MANIP_SRC);
    const nf_conntrack_tuple& reply = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
    CHECK(reply.dst.u3 == ipv4(198, 18, 61, 1));
    if (generic) {
      CHECK(reply.dport() == 0);
    } else {
      CHECK(reply.dport() >= 40000);
      CHECK(reply.dport() <= 40010);
    }
    nf_nat_packet(ct, IP_CT_DIR_ORIGINAL, NF_NAT_MANIP_SRC, p, named(name));
    CHECK(p.saddr == ipv4(198, 18, 61, 1));
    CHECK((p.sport == 300) == generic);
    REQUIRE(w.ct.nf_conntrack_confirm(0, p) == NF_ACCEPT);
    w.ct.nf_reset_ct(p);
  }
}

TEST_CASE("D1: the nf_conntrack_dccp_* sysctls do not exist under 6.18") {
  for (const std::string& text : sysctl_scenarios("nf_conntrack_dccp_timeout_open", 100)) {
    CHECK(load_under(text, "6.12").ok());
    const ctsim::Status st = load_under(text, "6.18-late");
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("sysctl \"nf_conntrack_dccp_timeout_open\" does not exist in this kernel profile (row "
                            "D1: the 6.18 kernels have no DCCP tracker") != std::string::npos);
  }
  CHECK_FALSE(load_under(sysctl_scenarios("nf_conntrack_dccp_loose", 0)[0], "6.18").ok());
}
