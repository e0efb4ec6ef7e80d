// Parsing the packet notation: "PROTO SRC > DST", then the protocol's own
// words (packet_notation_proto.cc), then options. Every error names the
// column it was found at and what was expected there.
#include <fmt/format.h>

#include "sim/scenario/packet_notation.h"
#include "sim/scenario/packet_notation_internal.h"

namespace ctsim {

using ctcore::nf_conntrack_tuple;
using ctcore::nf_inet_addr;
using ctcore::Packet;

namespace notation {

namespace {

// "A" or "A:port" or "[v6]:port" or "v6".
bool parse_endpoint(Cursor& c, const NotationToken& tok, bool want_port, nf_inet_addr* addr, uint16_t* l3num,
                    uint16_t* port) {
  std::string_view s = tok.text;
  std::string_view host = s, port_text;
  bool has_port = false;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      return c.fail(tok.pos, fmt::format("\"{}\": missing ']' after an IPv6 address", s));
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return c.fail(tok.pos + close + 1, fmt::format("\"{}\": expected ':port' after ']'", s));
      port_text = s.substr(close + 2);
      has_port = true;
    }
  } else if (s.find(':') == s.rfind(':') && s.find(':') != std::string_view::npos) {
    // exactly one colon: IPv4 with a port
    size_t colon = s.find(':');
    host = s.substr(0, colon);
    port_text = s.substr(colon + 1);
    has_port = true;
  }
  if (!parse_address(host, addr, l3num))
    return c.fail(tok.pos, fmt::format("\"{}\" is not an IPv4 or IPv6 address", host));
  if (want_port) {
    if (!has_port) return c.fail(tok.pos, fmt::format("\"{}\": expected address:port", s));
    uint64_t v = 0;
    if (!parse_uint(port_text, UINT64_MAX, &v))
      return c.fail(tok.pos, fmt::format("\"{}\": port \"{}\" is not a number", s, port_text));
    if (v > 65535) return c.fail(tok.pos, fmt::format("port {} is out of range 0..65535", v));
    *port = static_cast<uint16_t>(v);
  } else if (has_port) {
    return c.fail(tok.pos, fmt::format("\"{}\": this protocol has no ports", s));
  }
  return true;
}

// The part common to packets and tuples: protocol, endpoints and the
// protocol's tuple words. Leaves the cursor at the first option.
bool parse_head(Cursor& c, Packet* p) {
  const std::vector<NotationToken>& toks = c.toks;
  if (toks.empty()) return c.fail(0, "empty packet (expected e.g. \"tcp A:p > B:q flags S\")");
  size_t k = 0;
  std::string_view proto = toks[k].text;
  uint16_t want_l3 = 0;
  bool found = false;
  if (proto == "proto") {
    if (toks.size() < 2 || !parse_uint(toks[1].text, 255, &p->protonum))
      return c.fail(toks.size() > 1 ? toks[1].pos : toks[0].pos,
                    "\"proto\" must be followed by a protocol number 0..255");
    k = 2;
    found = true;
    for (const ProtoWord& w : kProtoWords)
      if (w.protonum == p->protonum) want_l3 = w.l3num;
  } else {
    for (const ProtoWord& w : kProtoWords) {
      if (proto == w.name) {
        p->protonum = w.protonum;
        want_l3 = w.l3num;
        found = true;
        k = 1;
      }
    }
  }
  if (!found)
    return c.fail(toks[0].pos, fmt::format("unknown protocol \"{}\" (expected tcp, udp, udplite, icmp, icmp6, "
                                           "gre, sctp, dccp or \"proto N\")",
                                           proto));
  if (toks.size() < k + 3 || toks[k + 1].text != ">")
    return c.fail(toks.size() > k ? toks[k].pos : 0, "expected \"SOURCE > DESTINATION\" after the protocol");
  const bool ports = has_ports(p->protonum);
  uint16_t l3a = 0, l3b = 0;
  if (!parse_endpoint(c, toks[k], ports, &p->saddr, &l3a, &p->sport)) return false;
  if (!parse_endpoint(c, toks[k + 2], ports, &p->daddr, &l3b, &p->dport)) return false;
  if (l3a != l3b) return c.fail(toks[k + 2].pos, "source and destination are of different address families");
  if (want_l3 != 0 && want_l3 != l3a)
    return c.fail(toks[0].pos, want_l3 == ctcore::NFPROTO_IPV4 ? "icmp needs IPv4 addresses (use icmp6 for IPv6)"
                                                               : "icmp6 needs IPv6 addresses (use icmp for IPv4)");
  p->l3num = l3a;
  c.i = k + 3;
  const ProtocolHandler* h = protocol_handler(p->protonum);
  return h == nullptr || h->head == nullptr || h->head(c, p);
}

// A tuple, or a quoted packet: the head, what the protocol adds to it, and
// nothing else. `extra` words the complaint about anything further.
bool parse_tuple_text(std::string_view text, Packet* p, ParseError* err, const char* extra) {
  const std::vector<NotationToken> toks = tokenize_notation(text);
  Cursor c(toks, err);
  if (!parse_head(c, p)) return false;
  const ProtocolHandler* h = protocol_handler(p->protonum);
  if (h != nullptr && h->tuple_tail != nullptr && !h->tuple_tail(c, p)) return false;
  if (!c.at_end()) return c.fail(c.tok().pos, fmt::format("unexpected \"{}\"{}", c.tok().text, extra));
  return true;
}

bool parse_packet_into(std::string_view text, PacketSpec* out, ParseError* err) {
  Packet& p = out->pkt;
  const std::vector<NotationToken> toks = tokenize_notation(text);
  Cursor c(toks, err);
  if (!parse_head(c, &p)) return false;
  const ProtocolHandler* h = protocol_handler(p.protonum);
  while (!c.at_end()) {
    // The options every protocol has.
    const std::string_view w = c.tok().text;
    if (w == "badsum") {
      p.bad_checksum = true;
      c.take_word();
    } else if (w == "truncated") {
      p.truncated = true;
      c.take_word();
    } else if (w == "len") {
      if (!c.option_number(65535, &p.len)) return false;
    } else {
      const Option o = h != nullptr && h->option != nullptr ? h->option(c, out) : Option::kNotMine;
      if (o == Option::kError) return false;
      if (o == Option::kNotMine)
        return c.fail(c.tok().pos, fmt::format("unexpected \"{}\" in a {} packet", w, protocol_word(p.protonum)));
    }
  }
  return h == nullptr || h->finish == nullptr || h->finish(c, *out, text.size());
}

}  // namespace

bool parse_quoted(std::string_view text, Packet* p, ParseError* err) {
  return parse_tuple_text(text, p, err,
                          " (a quoted packet gives only addresses, ports, an ICMP type and id, or a GRE key)");
}

}  // namespace notation

Parsed<PacketSpec> parse_packet(std::string_view text) {
  PacketSpec spec;
  ParseError err;
  if (!notation::parse_packet_into(text, &spec, &err)) return err;
  return spec;
}

Parsed<nf_conntrack_tuple> parse_tuple(std::string_view text) {
  Packet p;
  ParseError err;
  if (!notation::parse_tuple_text(text, &p, &err, ": a tuple is the packet notation without flags or options"))
    return err;
  // As the 5.10 kernel's trackers read it (ports for DCCP too): a kernel
  // without one takes what it needs when the tuple is used (the core's
  // ctnetlink_parse_tuple).
  nf_conntrack_tuple t;
  if (!ctcore::nf_ct_get_tuple(p, &t, ctcore::kernel_profile{})) return ParseError{"conntrack takes no tuple from this packet", 0};
  return t;
}

}  // namespace ctsim
