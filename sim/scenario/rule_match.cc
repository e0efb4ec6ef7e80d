#include "sim/scenario/rule_match.h"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "sim/scenario/packet_notation.h"

namespace ctsim {

using ctcore::Packet;

namespace {

using Tok = NotationToken;

bool parse_port_range(std::string_view s, uint16_t* lo, uint16_t* hi) {
  size_t dash = s.find('-');
  auto one = [](std::string_view x, uint16_t* v) {
    uint32_t n = 0;
    auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), n);
    if (x.empty() || ec != std::errc{} || p != x.data() + x.size() || n > 65535) return false;
    *v = static_cast<uint16_t>(n);
    return true;
  };
  if (dash == std::string_view::npos) {
    if (!one(s, lo)) return false;
    *hi = *lo;
    return true;
  }
  return one(s.substr(0, dash), lo) && one(s.substr(dash + 1), hi) && *lo <= *hi;
}

bool parse_prefix(std::string_view s, Prefix* p) {
  size_t slash = s.find('/');
  std::string_view a = s.substr(0, slash);
  if (!parse_address(a, &p->addr, &p->l3num)) return false;
  const uint32_t max = p->l3num == ctcore::NFPROTO_IPV4 ? 32 : 128;
  uint32_t len = max;
  if (slash != std::string_view::npos) {
    std::string_view l = s.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(l.data(), l.data() + l.size(), len);
    if (l.empty() || ec != std::errc{} || ptr != l.data() + l.size() || len > max) return false;
  }
  p->len = static_cast<uint8_t>(len);
  p->set = true;
  return true;
}

// True iff the first `len` bits (network order) of a and b agree.
bool prefix_equal(const ctcore::nf_inet_addr& a, const ctcore::nf_inet_addr& b, uint8_t len) {
  for (int byte = 0; byte < 16 && len > 0; ++byte) {
    const uint8_t x = static_cast<uint8_t>(a.all[byte / 4] >> (8 * (byte % 4)));
    const uint8_t y = static_cast<uint8_t>(b.all[byte / 4] >> (8 * (byte % 4)));
    const uint8_t bits = len >= 8 ? 8 : len;
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
    if ((x & mask) != (y & mask)) return false;
    len = static_cast<uint8_t>(len - bits);
  }
  return true;
}

bool prefix_matches(const Prefix& p, uint16_t l3num, const ctcore::nf_inet_addr& a) {
  return !p.set || (p.l3num == l3num && prefix_equal(p.addr, a, p.len));
}

}  // namespace

bool RuleMatch::matches(const Packet& p) const {
  if (protonum >= 0 && p.protonum != protonum) return false;
  if (l3num != 0 && p.l3num != l3num) return false;
  if (!prefix_matches(saddr, p.l3num, p.saddr) || !prefix_matches(daddr, p.l3num, p.daddr)) return false;
  if (has_sport && (p.sport < sport_lo || p.sport > sport_hi)) return false;
  if (has_dport && (p.dport < dport_lo || p.dport > dport_hi)) return false;
  if (has_flags && (p.tcp_flags & tcp_flags_mask) != tcp_flags) return false;
  if (ct_states != 0) {
    uint8_t st;
    if (p.untracked)
      st = kCtStateUntracked;
    else if (p.ct == nullptr)
      st = kCtStateInvalid;
    else if (p.ctinfo == ctcore::IP_CT_NEW)
      st = kCtStateNew;
    else if (p.ctinfo == ctcore::IP_CT_RELATED || p.ctinfo == ctcore::IP_CT_RELATED_REPLY)
      st = kCtStateRelated;
    else
      st = kCtStateEstablished;
    if ((ct_states & st) == 0) return false;
  }
  return true;
}

namespace {

// The parser proper: fills *out, or stops at the first problem with *error.
bool parse_rule_match_into(std::string_view text, RuleMatch* out, ParseError* error) {
  std::vector<Tok> toks = tokenize_notation(text);
  auto fail = [&](size_t pos, std::string msg) {
    *error = ParseError{std::move(msg), pos};
    return false;
  };
  for (size_t i = 0; i < toks.size();) {
    std::string_view w = toks[i].text;
    const size_t pos = toks[i].pos;
    auto arg = [&](const char* what) -> const Tok* {
      if (i + 1 >= toks.size()) {
        fail(pos, fmt::format("\"{}\" must be followed by {}", w, what));
        return nullptr;
      }
      return &toks[i + 1];
    };
    struct P {
      const char* n;
      int proto;
      uint16_t l3;
    };
    static const P kProtos[] = {{"tcp", 6, 0},
                                {"udp", 17, 0},
                                {"udplite", 136, 0},
                                {"icmp", 1, ctcore::NFPROTO_IPV4},
                                {"icmp6", 58, ctcore::NFPROTO_IPV6},
                                {"gre", 47, 0},
                                {"sctp", 132, 0},
                                {"dccp", 33, 0}};
    bool was_proto = false;
    for (const P& p : kProtos) {
      if (w == p.n) {
        if (out->protonum >= 0) return fail(pos, "the protocol is given twice");
        out->protonum = p.proto;
        if (p.l3 && out->l3num != 0 && out->l3num != p.l3)
          return fail(pos, fmt::format("\"{}\" contradicts the address family given before", w));
        if (p.l3) out->l3num = p.l3;
        was_proto = true;
      }
    }
    if (was_proto) {
      ++i;
      continue;
    }
    if (w == "ip" || w == "ip6") {
      const uint16_t l3 = w == "ip" ? ctcore::NFPROTO_IPV4 : ctcore::NFPROTO_IPV6;
      if (out->l3num != 0 && out->l3num != l3)
        return fail(pos, fmt::format("\"{}\" contradicts the address family given before", w));
      out->l3num = w == "ip" ? ctcore::NFPROTO_IPV4 : ctcore::NFPROTO_IPV6;
      ++i;
    } else if (w == "proto") {
      const Tok* a = arg("a protocol number");
      if (!a) return false;
      uint32_t n = 0;
      auto [ptr, ec] = std::from_chars(a->text.data(), a->text.data() + a->text.size(), n);
      if (ec != std::errc{} || ptr != a->text.data() + a->text.size() || n > 255)
        return fail(a->pos, fmt::format("\"{}\" is not a protocol number 0..255", a->text));
      out->protonum = static_cast<int>(n);
      i += 2;
    } else if (w == "saddr" || w == "daddr") {
      const Tok* a = arg("an address or prefix");
      if (!a) return false;
      Prefix& p = w == "saddr" ? out->saddr : out->daddr;
      if (!parse_prefix(a->text, &p))
        return fail(a->pos, fmt::format("\"{}\" is not an address or prefix (e.g. 10.0.0.0/8)", a->text));
      i += 2;
    } else if (w == "sport" || w == "dport") {
      const Tok* a = arg("a port or port range");
      if (!a) return false;
      uint16_t lo = 0, hi = 0;
      if (!parse_port_range(a->text, &lo, &hi))
        return fail(a->pos, fmt::format("\"{}\" is not a port or range 0..65535 (e.g. 1024-65535)", a->text));
      if (w == "sport") {
        out->has_sport = true;
        out->sport_lo = lo;
        out->sport_hi = hi;
      } else {
        out->has_dport = true;
        out->dport_lo = lo;
        out->dport_hi = hi;
      }
      i += 2;
    } else if (w == "ct") {
      if (i + 1 >= toks.size() || toks[i + 1].text != "state") return fail(pos, "\"ct\" must be followed by \"state\"");
      if (i + 2 >= toks.size()) return fail(toks[i + 1].pos, "\"ct state\" needs a state list");
      std::string_view list = toks[i + 2].text;
      size_t off = 0;
      while (off <= list.size()) {
        size_t comma = list.find(',', off);
        std::string_view s = list.substr(off, comma == std::string_view::npos ? std::string_view::npos : comma - off);
        if (s == "new")
          out->ct_states |= kCtStateNew;
        else if (s == "established")
          out->ct_states |= kCtStateEstablished;
        else if (s == "related")
          out->ct_states |= kCtStateRelated;
        else if (s == "invalid")
          out->ct_states |= kCtStateInvalid;
        else if (s == "untracked")
          out->ct_states |= kCtStateUntracked;
        else
          return fail(
              toks[i + 2].pos + off,
              fmt::format("unknown ct state \"{}\" (expected new, established, related, invalid or untracked)", s));
        if (comma == std::string_view::npos) break;
        off = comma + 1;
      }
      i += 3;
    } else if (w == "flags") {
      const Tok* a = arg("TCP flags");
      if (!a) return false;
      // "SA" (exactly these) or "S/SA" (of S and A, only S).
      auto letters = [&](std::string_view x, size_t at, uint8_t* f) {
        *f = 0;
        if (x == "none") return true;
        if (x.empty()) return fail(at, "expected TCP flag letters (S A F R P U E C) or none");
        for (size_t k = 0; k < x.size(); ++k) {
          uint8_t bit = 0;
          if (!tcp_flag_bit(x[k], &bit)) {
            return fail(at + k, fmt::format("unknown TCP flag '{}' (expected S A F R P U E C, or none)", x[k]));
          }
          *f |= bit;
        }
        return true;
      };
      const size_t slash = a->text.find('/');
      uint8_t f = 0, mask = 0xff;
      if (!letters(a->text.substr(0, slash), a->pos, &f)) return false;
      if (slash != std::string_view::npos) {
        if (!letters(a->text.substr(slash + 1), a->pos + slash + 1, &mask)) return false;
        if ((f & mask) != f)
          return fail(a->pos, fmt::format("\"{}\": the flags before '/' must be among those after it", a->text));
      }
      out->has_flags = true;
      out->tcp_flags = f;
      out->tcp_flags_mask = mask;
      i += 2;
    } else {
      return fail(pos, fmt::format("unknown selector \"{}\" (expected a protocol, ip, ip6, saddr, daddr, "
                                   "sport, dport, \"ct state\" or flags)",
                                   w));
    }
  }
  if ((out->has_sport || out->has_dport) && out->protonum != 6 && out->protonum != 17 && out->protonum != 136 &&
      out->protonum != 132 && out->protonum != 33)
    return fail(0, "sport/dport need a protocol with ports first (tcp, udp, udplite, sctp, dccp)");
  if (out->has_flags && out->protonum != 6) return fail(0, "flags need \"tcp\" first");
  for (const Prefix* p : {&out->saddr, &out->daddr}) {
    if (p->set && out->l3num != 0 && p->l3num != out->l3num)
      return fail(
          0, fmt::format("{} is an {} address but the rule matches {} packets", p == &out->saddr ? "saddr" : "daddr",
                         p->l3num == ctcore::NFPROTO_IPV4 ? "IPv4" : "IPv6",
                         out->l3num == ctcore::NFPROTO_IPV4 ? "IPv4" : "IPv6"));
  }
  if (out->saddr.set && out->daddr.set && out->saddr.l3num != out->daddr.l3num)
    return fail(0, "saddr and daddr are of different address families");
  return true;
}

}  // namespace

Parsed<RuleMatch> parse_rule_match(std::string_view text) {
  RuleMatch m;
  ParseError error;
  if (!parse_rule_match_into(text, &m, &error)) return error;
  return m;
}

}  // namespace ctsim
