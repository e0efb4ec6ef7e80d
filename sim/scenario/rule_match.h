// The small nft-like match language of scenario rules.
//
//   tcp dport 23                      protocol, then port selectors
//   udp sport 1024-65535 dport 53     ranges are inclusive
//   ip saddr 10.0.0.0/8 daddr 192.168.1.2
//   ip6 saddr 2001:db8::/32
//   icmp | icmp6 | gre | sctp | dccp | udplite | proto 50
//   ct state new,established          new, established, related, invalid, untracked
//   tcp flags S                       the packet's flags equal these (letters as in the notation)
//   tcp flags S/SA                    of S and A, only S is set (nft's "flags & (syn|ack) == syn")
// All selectors of a rule must hold (AND). An empty match matches everything.
//
// Threading: value types; match() is pure.
#ifndef CTSIM_SIM_SCENARIO_RULE_MATCH_H_
#define CTSIM_SIM_SCENARIO_RULE_MATCH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/nf_conntrack_tuple.h"
#include "core/packet.h"
#include "sim/engine/parse_result.h"

namespace ctsim {

// ct state bits (nft's names).
constexpr uint8_t kCtStateInvalid = 1, kCtStateEstablished = 2, kCtStateRelated = 4, kCtStateNew = 8,
                  kCtStateUntracked = 16;

struct Prefix {
  bool set = false;
  uint16_t l3num = 0;
  ctcore::nf_inet_addr addr;
  uint8_t len = 0;
};

struct RuleMatch {
  int protonum = -1;   // -1: any
  uint16_t l3num = 0;  // 0: any
  Prefix saddr, daddr;
  bool has_sport = false, has_dport = false;
  uint16_t sport_lo = 0, sport_hi = 0, dport_lo = 0, dport_hi = 0;
  uint8_t ct_states = 0;  // 0: any
  bool has_flags = false;
  uint8_t tcp_flags = 0;  // (flags & tcp_flags_mask) == tcp_flags
  uint8_t tcp_flags_mask = 0xff;

  // REQUIRES: the packet went through conntrack (its ct/ctinfo/untracked
  // say what "ct state" sees).
  bool matches(const ctcore::Packet& p) const;
};

// Parses the match text; an error's column is where in `text` it lies.
Parsed<RuleMatch> parse_rule_match(std::string_view text);

}  // namespace ctsim

#endif  // CTSIM_SIM_SCENARIO_RULE_MATCH_H_
