#include "sim/output/conntrack_tool_format.h"

#include <fmt/format.h>

#include "core/nf_conntrack_l4proto.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

using ctcore::nf_conn;
using ctcore::nf_conntrack_tuple;

const char* const kEnobufsMessage =
    "WARNING: We have hit ENOBUFS! We are losing events.\n"
    "This message means that the current netlink socket buffer size is too small.\n"
    "Please, check --buffer-size in conntrack(8) manpage.";

static_assert(kEventGroupNames[static_cast<size_t>(EventType::kNew)].group == kGroupNew &&
              kEventGroupNames[static_cast<size_t>(EventType::kUpdate)].group == kGroupUpdate &&
              kEventGroupNames[static_cast<size_t>(EventType::kDestroy)].group == kGroupDestroy);

const char* event_type_name(EventType t) { return kEventGroupNames[static_cast<size_t>(t)].name; }

bool event_type_for_mask(unsigned events, EventType* out) {
  using namespace ctcore;
  if (events & (1u << IPCT_DESTROY)) {
    *out = EventType::kDestroy;
  } else if (events & ((1u << IPCT_NEW) | (1u << IPCT_RELATED))) {
    *out = EventType::kNew;
  } else if (events != 0) {
    *out = EventType::kUpdate;
  } else {
    return false;
  }
  return true;
}

namespace {

// libnetfilter_conntrack names a protocol by its number, from its own
// table (the names of the kernel's trackers; "unknown" for any other): a
// DCCP conn is "dccp" even where the generic tracker tracks it (D1, checked
// on 6.18.44).
const char* l4_name(uint8_t p) { return ctcore::nf_ct_l4proto_find(p).name; }

// `proto`: the protocol whose fields are printed (the tuple's for the tools,
// its tracker's for /proc).
void append_tuple(std::string& s, const nf_conntrack_tuple& t, uint8_t proto) {
  const uint16_t l3 = t.src.l3num;
  s += fmt::format("src={} dst={} ", format_address(l3, t.src.u3), format_address(l3, t.dst.u3));
  switch (proto) {
    case ctcore::IPPROTO_TCP_:
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
    case ctcore::IPPROTO_SCTP_:
    case ctcore::IPPROTO_DCCP_: s += fmt::format("sport={} dport={} ", t.sport(), t.dport()); break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_:
      s += fmt::format("type={} code={} id={} ", t.icmp_type(), t.icmp_code(), t.icmp_id());
      break;
    case ctcore::IPPROTO_GRE_:
      s += fmt::format("srckey=0x{:x} dstkey=0x{:x} ", ctcore::raw_be16(t.src.u_all), ctcore::raw_be16(t.dst.u_all));
      break;
    default: break;
  }
}

// The part shared by -E and -L: protocol, [timeout], [state], tuples, flags.
std::string body(const nf_conn& ct, bool with_timeout, uint32_t timeout_secs, bool with_state,
                 const ctcore::kernel_profile& profile) {
  std::string s = fmt::format("{:<8} {} ", l4_name(ct.protonum()), ct.protonum());
  if (with_timeout) s += fmt::format("{} ", timeout_secs);
  if (with_state) {
    const auto& l4 = ctcore::nf_ct_l4proto_find(ct.protonum(), profile);
    if (l4.state_name != nullptr) {
      if (const char* st = l4.state_name(ct)) s += fmt::format("{} ", st);
    }
  }
  append_tuple(s, ct.tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple, ct.protonum());
  if (!ct.test_bit(ctcore::IPS_SEEN_REPLY_BIT)) s += "[UNREPLIED] ";
  append_tuple(s, ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple, ct.protonum());
  if (ct.test_bit(ctcore::IPS_ASSURED_BIT)) s += "[ASSURED] ";
  return s;
}

void chop_space(std::string& s) {
  if (!s.empty() && s.back() == ' ') s.pop_back();
}

}  // namespace

std::string format_event_line(EventType type, unsigned events, const nf_conn& ct, uint32_t timeout_secs,
                              const ctcore::kernel_profile& profile, bool with_id) {
  const bool destroy_timeout_protoinfo = profile.destroy_timeout_protoinfo;
  const bool destroy = type == EventType::kDestroy;
  // v5.10's DESTROY has neither CTA_TIMEOUT nor CTA_PROTOINFO; 5.11+
  // (row L4) adds both, the timeout only when not 0 (ctnetlink_dump_timeout
  // with skip_zero) and the protoinfo as the state alone.
  const bool timeout = destroy ? destroy_timeout_protoinfo && timeout_secs != 0 : true;
  const bool protoinfo = destroy ? destroy_timeout_protoinfo : (events & (1u << ctcore::IPCT_PROTOINFO)) != 0;
  std::string tag = fmt::format("[{}]", event_type_name(type));
  std::string s = fmt::format("{:>9} ", tag);
  s += body(ct, timeout, timeout_secs, protoinfo, profile);
  if (with_id) s += fmt::format("id={} ", ct.id);
  chop_space(s);
  return s;
}

std::string format_list_line(const nf_conn& ct, uint32_t timeout_secs, const ctcore::kernel_profile& profile) {
  std::string s = body(ct, true, timeout_secs, true, profile);
  s += fmt::format("mark=0 use={} ", ct.use);
  chop_space(s);
  return s;
}

std::string format_proc_line(const nf_conn& ct, uint32_t timeout_secs, uint32_t use,
                             const ctcore::kernel_profile& profile) {
  const uint16_t l3 = ct.l3num();
  const uint8_t p = ct.protonum();
  // The kernel's own l4 names, its tracker's: ICMPv6 has none there and
  // prints "unknown", as does the generic tracker (DCCP under D1).
  const auto& proto = ctcore::nf_ct_l4proto_find(p, profile);
  const char* l4 = p == ctcore::IPPROTO_ICMPV6_ ? "unknown" : proto.name;
  std::string s =
      fmt::format("{:<8} {} {:<8} {} {} ", l3 == ctcore::NFPROTO_IPV6 ? "ipv6" : "ipv4", l3, l4, p, timeout_secs);
  if (proto.state_name != nullptr) {
    if (const char* st = proto.state_name(ct)) s += fmt::format("{} ", st);
  }
  const uint8_t fields = ctcore::nf_ct_tracker_of(p, profile);
  append_tuple(s, ct.tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple, fields);
  if (!ct.test_bit(ctcore::IPS_SEEN_REPLY_BIT)) s += "[UNREPLIED] ";
  append_tuple(s, ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple, fields);
  if (ct.test_bit(ctcore::IPS_HW_OFFLOAD_BIT))
    s += "[HW_OFFLOAD] ";
  else if (ct.test_bit(ctcore::IPS_OFFLOAD_BIT))
    s += "[OFFLOAD] ";
  else if (ct.test_bit(ctcore::IPS_ASSURED_BIT))
    s += "[ASSURED] ";
  s += fmt::format("mark=0 zone=0 use={}", use);
  return s;
}

std::string format_stat_line(uint16_t cpu, const ctcore::ip_conntrack_stat& st, bool chaintoolong) {
  std::string s = fmt::format(
      "cpu={:<4}\tfound={} invalid={} insert={} insert_failed={} drop={} early_drop={} "
      "error={} search_restart={} clash_resolve={} ",
      cpu, st.found, st.invalid, st.insert, st.insert_failed, st.drop, st.early_drop, st.error, st.search_restart,
      st.clash_resolve);
  if (chaintoolong) s += fmt::format("chaintoolong={} ", st.chaintoolong);
  return s;
}

std::string format_proc_stat_header(bool chaintoolong) {
  return fmt::format(
      "entries  clashres found new invalid ignore delete {} insert insert_failed drop "
      "early_drop icmp_error  expect_new expect_create expect_delete search_restart",
      chaintoolong ? "chainlength" : "delete_list");
}

std::string format_proc_stat_line(uint32_t entries, const ctcore::ip_conntrack_stat& st, bool chaintoolong) {
  return fmt::format(
      "{:08x}  {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x}  "
      "{:08x} {:08x} {:08x} {:08x}",
      entries, st.clash_resolve, st.found, 0, st.invalid, 0, 0, chaintoolong ? st.chaintoolong : 0, st.insert,
      st.insert_failed, st.drop, st.early_drop, st.error, st.expect_new, st.expect_create, st.expect_delete,
      st.search_restart);
}

}  // namespace ctsim
