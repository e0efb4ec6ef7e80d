// Shared enums and counters of the conntrack core.
//
// Mirrors: include/uapi/linux/netfilter/nf_conntrack_common.h (ip_conntrack_info,
//          ip_conntrack_status, ip_conntrack_events),
//          include/linux/netfilter/nf_conntrack_common.h (ip_conntrack_stat),
//          include/uapi/linux/netfilter.h (verdicts).
// The numeric values are the kernel's (v5.10) and appear in traces and tests:
// DO NOT CHANGE THESE ENUM VALUES.
//
// Threading: constants only.
#ifndef CTSIM_CORE_NF_CONNTRACK_COMMON_H_
#define CTSIM_CORE_NF_CONNTRACK_COMMON_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace ctcore {

// Netfilter verdicts. A tracker returns a verdict, or its negation to say
// "invalid: count it and return this verdict" (kernel convention).
enum nf_verdict : int {
  NF_DROP = 0,
  NF_ACCEPT = 1,
  NF_STOLEN = 2,
  NF_QUEUE = 3,
  NF_REPEAT = 4,
};

enum ip_conntrack_dir : uint8_t {
  IP_CT_DIR_ORIGINAL = 0,
  IP_CT_DIR_REPLY = 1,
  IP_CT_DIR_MAX = 2,
};

// The connection state of one packet, stored beside the conn pointer in the
// skb (`skb->_nfct`).
enum ip_conntrack_info : uint8_t {
  IP_CT_ESTABLISHED = 0,
  IP_CT_RELATED = 1,
  IP_CT_NEW = 2,
  IP_CT_IS_REPLY = 3,
  IP_CT_ESTABLISHED_REPLY = IP_CT_ESTABLISHED + IP_CT_IS_REPLY,
  IP_CT_RELATED_REPLY = IP_CT_RELATED + IP_CT_IS_REPLY,
  IP_CT_NUMBER = 5,
  IP_CT_UNTRACKED = 7,
};

inline ip_conntrack_dir CTINFO2DIR(ip_conntrack_info ctinfo) {
  return ctinfo >= IP_CT_IS_REPLY ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
}

// Status bits of nf_conn (ct->status). The rule beside each is the kernel's
// contract for the bit.
enum ip_conntrack_status_bit : unsigned {
  IPS_EXPECTED_BIT = 0,    // a master's expectation; never changed
  IPS_SEEN_REPLY_BIT = 1,  // packets went both ways; set, never unset
  IPS_ASSURED_BIT = 2,     // never early-dropped on the packet path
  IPS_CONFIRMED_BIT = 3,   // is, or has been, in the hash table
  IPS_SRC_NAT_BIT = 4,
  IPS_DST_NAT_BIT = 5,
  IPS_SEQ_ADJUST_BIT = 6,
  IPS_SRC_NAT_DONE_BIT = 7,
  IPS_DST_NAT_DONE_BIT = 8,
  IPS_DYING_BIT = 9,           // being torn down; never unset
  IPS_FIXED_TIMEOUT_BIT = 10,  // the timeout is never refreshed
  IPS_TEMPLATE_BIT = 11,
  IPS_UNTRACKED_BIT = 12,  // obsolete; in-kernel alias NAT_CLASH
  IPS_NAT_CLASH_BIT = 12,  // reply-only entry left by clash resolution
  IPS_HELPER_BIT = 13,
  IPS_OFFLOAD_BIT = 14,
  IPS_HW_OFFLOAD_BIT = 15,
  IPS_MAX_BIT = 16,  // kernel __IPS_MAX_BIT
};

constexpr uint32_t IPS_EXPECTED = 1u << IPS_EXPECTED_BIT;
constexpr uint32_t IPS_SEEN_REPLY = 1u << IPS_SEEN_REPLY_BIT;
constexpr uint32_t IPS_ASSURED = 1u << IPS_ASSURED_BIT;
constexpr uint32_t IPS_CONFIRMED = 1u << IPS_CONFIRMED_BIT;
constexpr uint32_t IPS_SRC_NAT = 1u << IPS_SRC_NAT_BIT;
constexpr uint32_t IPS_DST_NAT = 1u << IPS_DST_NAT_BIT;
constexpr uint32_t IPS_NAT_MASK = IPS_SRC_NAT | IPS_DST_NAT;
constexpr uint32_t IPS_SEQ_ADJUST = 1u << IPS_SEQ_ADJUST_BIT;
constexpr uint32_t IPS_SRC_NAT_DONE = 1u << IPS_SRC_NAT_DONE_BIT;
constexpr uint32_t IPS_DST_NAT_DONE = 1u << IPS_DST_NAT_DONE_BIT;
constexpr uint32_t IPS_NAT_DONE_MASK = IPS_SRC_NAT_DONE | IPS_DST_NAT_DONE;
constexpr uint32_t IPS_DYING = 1u << IPS_DYING_BIT;
constexpr uint32_t IPS_FIXED_TIMEOUT = 1u << IPS_FIXED_TIMEOUT_BIT;
constexpr uint32_t IPS_TEMPLATE = 1u << IPS_TEMPLATE_BIT;
constexpr uint32_t IPS_UNTRACKED = 1u << IPS_UNTRACKED_BIT;
constexpr uint32_t IPS_NAT_CLASH = 1u << IPS_NAT_CLASH_BIT;
constexpr uint32_t IPS_HELPER = 1u << IPS_HELPER_BIT;
constexpr uint32_t IPS_OFFLOAD = 1u << IPS_OFFLOAD_BIT;
constexpr uint32_t IPS_HW_OFFLOAD = 1u << IPS_HW_OFFLOAD_BIT;

// Names of the status bits as traces print them ("IPS_" + name), indexed by
// bit number. Bit 12 prints as NAT_CLASH: that is its only in-kernel use.
extern const char* const kIpsBitNames[IPS_MAX_BIT];

// Event bits (ecache). DO NOT CHANGE THESE ENUM VALUES.
enum ip_conntrack_events : unsigned {
  IPCT_NEW = 0,
  IPCT_RELATED = 1,
  IPCT_DESTROY = 2,
  IPCT_REPLY = 3,
  IPCT_ASSURED = 4,
  IPCT_PROTOINFO = 5,
  IPCT_HELPER = 6,
  IPCT_MARK = 7,
  IPCT_SEQADJ = 8,
  IPCT_NATSEQADJ = IPCT_SEQADJ,
  IPCT_SECMARK = 9,
  IPCT_LABEL = 10,
  IPCT_SYNPROXY = 11,
  IPCT_MAX = 12,  // kernel __IPCT_MAX
};

// Names of the event bits as traces print them ("IPCT_" + name), indexed
// by bit number (IPCT_NATSEQADJ is an alias and prints as SEQADJ).
extern const char* const kIpctNames[IPCT_MAX];

// Per-CPU, per-namespace counters, v5.10's 12 fields in the kernel's order.
// kIpConntrackStatFields below lists them once, for everything that walks
// them (sums, trace records); a field added here goes there too.
struct ip_conntrack_stat {
  uint32_t found = 0;
  uint32_t invalid = 0;
  uint32_t insert = 0;
  uint32_t insert_failed = 0;
  uint32_t clash_resolve = 0;
  uint32_t drop = 0;
  uint32_t early_drop = 0;
  uint32_t error = 0;
  uint32_t expect_new = 0;
  uint32_t expect_create = 0;
  uint32_t expect_delete = 0;
  uint32_t search_restart = 0;
  // 5.15+ (row C2): insertions refused because a chain was too long (C1).
  // Stays 0 under v5.10, whose outputs leave it out (ip_conntrack_stat_shown).
  uint32_t chaintoolong = 0;

  inline ip_conntrack_stat& operator+=(const ip_conntrack_stat& o);
};

// The fields of ip_conntrack_stat by name, in the struct's (the kernel's)
// order: the one list traces and sums are derived from.
struct IpConntrackStatField {
  const char* name;
  uint32_t ip_conntrack_stat::*member;
};
inline constexpr IpConntrackStatField kIpConntrackStatFields[] = {
    {"found", &ip_conntrack_stat::found},
    {"invalid", &ip_conntrack_stat::invalid},
    {"insert", &ip_conntrack_stat::insert},
    {"insert_failed", &ip_conntrack_stat::insert_failed},
    {"clash_resolve", &ip_conntrack_stat::clash_resolve},
    {"drop", &ip_conntrack_stat::drop},
    {"early_drop", &ip_conntrack_stat::early_drop},
    {"error", &ip_conntrack_stat::error},
    {"expect_new", &ip_conntrack_stat::expect_new},
    {"expect_create", &ip_conntrack_stat::expect_create},
    {"expect_delete", &ip_conntrack_stat::expect_delete},
    {"search_restart", &ip_conntrack_stat::search_restart},
    {"chaintoolong", &ip_conntrack_stat::chaintoolong},
};
// Whether a kernel has field `f` (chaintoolong only exists from 5.15: the
// kernel_profile's stat_chaintoolong): outputs list only the fields the
// profile's kernel has, so v5.10's stay as they were.
inline bool ip_conntrack_stat_shown(const IpConntrackStatField& f, bool stat_chaintoolong) {
  return stat_chaintoolong || f.member != &ip_conntrack_stat::chaintoolong;
}
// A field missing from the list would silently drop out of sums and traces.
static_assert(sizeof(kIpConntrackStatFields) / sizeof(kIpConntrackStatFields[0]) * sizeof(uint32_t) ==
                  sizeof(ip_conntrack_stat),
              "kIpConntrackStatFields must list every ip_conntrack_stat field");

inline ip_conntrack_stat& ip_conntrack_stat::operator+=(const ip_conntrack_stat& o) {
  for (const IpConntrackStatField& f : kIpConntrackStatFields) this->*f.member += o.*f.member;
  return *this;
}

// Netfilter hook numbers (enum nf_inet_hooks). DO NOT CHANGE THESE VALUES.
enum nf_inet_hooks : uint8_t {
  NF_INET_PRE_ROUTING = 0,
  NF_INET_LOCAL_IN = 1,
  NF_INET_FORWARD = 2,
  NF_INET_LOCAL_OUT = 3,
  NF_INET_POST_ROUTING = 4,
  NF_INET_NUMHOOKS = 5,
};

// The hooks' names as scenarios and traces spell them (nft's), the one
// table every printer and parser uses. Indexed by hook number.
struct NfInetHookName {
  nf_inet_hooks hook;
  const char* word;
};
inline constexpr NfInetHookName kNfInetHookNames[NF_INET_NUMHOOKS] = {
    {NF_INET_PRE_ROUTING, "prerouting"}, {NF_INET_LOCAL_IN, "input"},           {NF_INET_FORWARD, "forward"},
    {NF_INET_LOCAL_OUT, "output"},       {NF_INET_POST_ROUTING, "postrouting"},
};
// "prerouting" ... "postrouting"; "?" for a number that is no hook.
const char* nf_inet_hook_name(unsigned hook);
// The hook a word names, or nullopt.
std::optional<nf_inet_hooks> nf_inet_hook_from_word(std::string_view word);

// Address families (l3num), host order as the tuple stores them.
constexpr uint16_t NFPROTO_IPV4 = 2;   // AF_INET
constexpr uint16_t NFPROTO_IPV6 = 10;  // AF_INET6

// IP protocol numbers the core knows by name.
constexpr uint8_t IPPROTO_ICMP_ = 1;
constexpr uint8_t IPPROTO_TCP_ = 6;
constexpr uint8_t IPPROTO_UDP_ = 17;
constexpr uint8_t IPPROTO_DCCP_ = 33;
constexpr uint8_t IPPROTO_GRE_ = 47;
constexpr uint8_t IPPROTO_ICMPV6_ = 58;
constexpr uint8_t IPPROTO_SCTP_ = 132;
constexpr uint8_t IPPROTO_UDPLITE_ = 136;

[[noreturn]] void ct_assert_fail(const char* expr, const char* file, int line, const char* msg);

}  // namespace ctcore

// Always-on check of a core invariant (the kernel's WARN_ON/BUG_ON). A broken
// invariant is a bug in ctsim, never a property of the input: abort loudly.
#define CT_ASSERT(cond, msg)                                                 \
  do {                                                                       \
    if (!(cond)) ::ctcore::ct_assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

#endif  // CTSIM_CORE_NF_CONNTRACK_COMMON_H_
