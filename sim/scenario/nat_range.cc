#include "sim/scenario/nat_range.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "sim/scenario/endpoint_range.h"
#include "sim/scenario/packet_notation.h"

namespace ctsim {

namespace {

// One address (no prefix, no port).
Parsed<EndpointRange> one_address(const std::string& text) {
  auto e = parse_endpoint_range(text);
  if (!e) return e;
  if (e->prefix_len != (e->l3num == ctcore::NFPROTO_IPV4 ? 32 : 128))
    return ParseError{fmt::format("\"{}\": NAT maps to an address or an address range (A-B), not a prefix", text), 0};
  if (e->has_port) return ParseError{fmt::format("\"{}\": expected one address here", text), 0};
  return e;
}

// Host-order comparison of two addresses of one family.
bool addr_le(const ctcore::nf_inet_addr& a, const ctcore::nf_inet_addr& b) {
  for (int i = 0; i < 4; ++i) {
    const uint32_t x = __builtin_bswap32(a.all[i]), y = __builtin_bswap32(b.all[i]);
    if (x != y) return x < y;
  }
  return true;
}

}  // namespace

Parsed<ctcore::nf_nat_range2> parse_nat_range(const std::string& text, bool ports_only) {
  ctcore::nf_nat_range2 r;
  // Split into the address part and the port part.
  std::string addrs, ports;
  bool has_ports = false;
  if (!text.empty() && text[0] == ':') {
    ports = text.substr(1);
    has_ports = true;
  } else if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return ParseError{fmt::format("\"{}\": missing ']'", text), 0};
    addrs = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return ParseError{fmt::format("\"{}\": expected ':port' after ']'", text), close + 1};
      ports = text.substr(close + 2);
      has_ports = true;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const size_t c = text.find(':');
    addrs = text.substr(0, c);
    ports = text.substr(c + 1);
    has_ports = true;
  } else {
    addrs = text;  // IPv4 without a port, or IPv6 without brackets (no port)
  }
  if (ports_only && !addrs.empty())
    return ParseError{fmt::format("\"{}\": masquerade takes the outgoing address; give only ports (\":1024-65535\")",
                                  text),
                      0};
  if (!ports_only && addrs.empty()) return ParseError{fmt::format("\"{}\": expected an address to map to", text), 0};
  if (!addrs.empty()) {
    const size_t dash = addrs.find('-');
    auto lo = one_address(addrs.substr(0, dash));
    if (!lo) return lo.error();
    r.l3num = lo->l3num;
    r.min_addr = r.max_addr = lo->addr;
    if (dash != std::string::npos) {
      auto hi = one_address(addrs.substr(dash + 1));
      if (!hi) return ParseError{hi.error().what, dash + 1};
      if (hi->l3num != lo->l3num)
        return ParseError{fmt::format("\"{}\": both ends of an address range must be of one family", addrs), 0};
      if (!addr_le(lo->addr, hi->addr))
        return ParseError{fmt::format("\"{}\": the range's first address is above its last", addrs), 0};
      r.max_addr = hi->addr;
    }
    r.flags |= ctcore::NF_NAT_RANGE_MAP_IPS;
  }
  if (has_ports) {
    // Reuse the endpoint parser's port syntax and checks.
    auto e = parse_endpoint_range(fmt::format("0.0.0.0:{}", ports));
    if (!e || !e->has_port)
      return ParseError{fmt::format("\"{}\": expected a port or port range (1-65535) after ':'", text), 0};
    if (e->port_lo == 0) return ParseError{fmt::format("\"{}\": ports start at 1", text), 0};
    r.min_proto = e->port_lo;
    r.max_proto = e->port_hi;
    r.flags |= ctcore::NF_NAT_RANGE_PROTO_SPECIFIED;
  }
  return r;
}

std::string format_nat_range(const ctcore::nf_nat_range2& r) {
  std::string out;
  const bool v6 = r.l3num == ctcore::NFPROTO_IPV6;
  if (r.flags & ctcore::NF_NAT_RANGE_MAP_IPS) {
    const std::string lo = format_address(r.l3num, r.min_addr);
    const std::string addrs = r.min_addr == r.max_addr ? lo : fmt::format("{}-{}", lo, format_address(r.l3num, r.max_addr));
    out = v6 && (r.flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED) ? fmt::format("[{}]", addrs) : addrs;
  }
  if (r.flags & ctcore::NF_NAT_RANGE_PROTO_SPECIFIED) {
    out += fmt::format(":{}", r.min_proto);
    if (r.max_proto != r.min_proto) out += fmt::format("-{}", r.max_proto);
  }
  if (out.empty()) out = "any";
  for (const NatFlagName& f : kNatFlagNames)
    if (r.flags & f.flag) out += fmt::format(" {}", f.word);
  return out;
}

std::optional<uint32_t> nat_flag_from_word(std::string_view word) {
  for (const NatFlagName& f : kNatFlagNames)
    if (word == f.word) return f.flag;
  return std::nullopt;
}

}  // namespace ctsim
