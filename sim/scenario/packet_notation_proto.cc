// The packet notation's per-protocol words, one handler per protocol:
// what follows "PROTO SRC > DST" in a tuple (ICMP type, GRE key), the
// options of a full packet, and what each protocol insists on.
#include <fmt/format.h>

#include "sim/scenario/packet_notation.h"
#include "sim/scenario/packet_notation_internal.h"

namespace ctsim::notation {

using ctcore::InnerHeader;
using ctcore::Packet;

namespace {

// Records the error and says so, for option handlers.
Option refuse(Cursor& c, size_t pos, std::string msg) {
  c.fail(pos, std::move(msg));
  return Option::kError;
}

// ---- tcp

bool parse_flags(Cursor& c, const NotationToken& tok, uint8_t* flags) {
  *flags = 0;
  if (tok.text == "none") return true;
  for (size_t j = 0; j < tok.text.size(); ++j) {
    uint8_t bit = 0;
    if (!tcp_flag_bit(tok.text[j], &bit)) {
      return c.fail(tok.pos + j,
                    fmt::format("unknown TCP flag '{}' (expected letters S A F R P U E C, or none)", tok.text[j]));
    }
    if (*flags & bit) return c.fail(tok.pos + j, fmt::format("TCP flag '{}' given twice", tok.text[j]));
    *flags |= bit;
  }
  if (tok.text.empty()) return c.fail(tok.pos, "expected TCP flags");
  return true;
}

Option tcp_option(Cursor& c, PacketSpec* out) {
  Packet& p = out->pkt;
  const NotationToken& t = c.tok();
  if (t.text == "flags") {
    if (c.i + 1 >= c.toks.size()) return refuse(c, t.pos, "\"flags\" must be followed by TCP flags");
    if (!parse_flags(c, c.toks[c.i + 1], &p.tcp_flags)) return Option::kError;
    c.take_pair();
  } else if (t.text == "seq") {
    if (!c.option_number(UINT32_MAX, &p.seq)) return Option::kError;
    out->has_seq = true;
  } else if (t.text == "ack") {
    if (!c.option_number(UINT32_MAX, &p.ack_seq)) return Option::kError;
    out->has_ack = true;
  } else if (t.text == "win") {
    if (!c.option_number(65535, &p.window)) return Option::kError;
    out->has_win = true;
  } else if (t.text == "wscale") {
    uint8_t v = 0;
    if (!c.option_number(14, &v)) return Option::kError;
    p.wscale = static_cast<int8_t>(v);
  } else if (t.text == "mss") {
    if (!c.option_number(65535, &p.mss)) return Option::kError;
  } else if (t.text == "sackok") {
    p.sackok = true;
    c.take_word();
  } else {
    return Option::kNotMine;
  }
  return Option::kTaken;
}

bool tcp_finish(Cursor& c, const PacketSpec&, size_t end) {
  return c.seen("flags") != nullptr || c.fail(end, "a tcp packet needs \"flags\" (e.g. flags S)");
}

// ---- icmp and icmp6

bool icmp_head(Cursor& c, Packet* p) {
  const std::vector<NotationToken>& toks = c.toks;
  const bool v6 = p->protonum == ctcore::IPPROTO_ICMPV6_;
  size_t k = c.i;
  if (k >= toks.size())
    return c.fail(toks.back().pos + toks.back().text.size(),
                  "expected an ICMP type (e.g. echo-request, or \"type N code M\")");
  std::string_view t = toks[k].text;
  if (t == "type") {
    if (k + 1 >= toks.size() || !parse_uint(toks[k + 1].text, 255, &p->icmp_type))
      return c.fail(toks[k].pos, "\"type\" must be followed by a number 0..255");
    k += 2;
    if (k < toks.size() && toks[k].text == "code") {
      if (k + 1 >= toks.size() || !parse_uint(toks[k + 1].text, 255, &p->icmp_code))
        return c.fail(toks[k].pos, "\"code\" must be followed by a number 0..255");
      k += 2;
    }
  } else {
    bool named = false;
    auto lookup = [&](const auto& names) {
      for (const IcmpName& n : names) {
        if (t == n.name) {
          p->icmp_type = n.type;
          p->icmp_code = static_cast<uint8_t>(n.code);
          named = true;
        }
      }
    };
    if (v6)
      lookup(kIcmp6Names);
    else
      lookup(kIcmp4Names);
    if (!named)
      return c.fail(toks[k].pos, fmt::format("unknown {} type \"{}\" (expected a name such as echo-request, "
                                             "echo-reply, port-unreachable, time-exceeded, or \"type N code M\")",
                                             v6 ? "icmp6" : "icmp", t));
    ++k;
  }
  c.i = k;
  return true;
}

bool icmp_tuple_tail(Cursor& c, Packet* p) {
  if (c.at_end() || c.tok().text != "id") return true;
  if (c.i + 1 >= c.toks.size() || !parse_uint(c.toks[c.i + 1].text, 65535, &p->icmp_id))
    return c.fail(c.tok().pos, "\"id\" must be followed by a number 0..65535");
  c.take_pair();
  return true;
}

// The packet an ICMP error quotes, in brackets: what the tracker reads of
// it (addresses, protocol, ports, ICMP type and id, GRE key).
Option icmp_quoted(Cursor& c, Packet& p) {
  const NotationToken& t = c.tok();
  if (p.has_inner) return refuse(c, t.pos, "an ICMP error quotes one packet, not two");
  Packet inner;
  ParseError ierr;
  if (!parse_quoted(t.text.substr(1, t.text.size() - 2), &inner, &ierr))
    return refuse(c, t.pos + 1 + ierr.column, "quoted packet: " + ierr.what);
  InnerHeader& in = p.inner;
  in.l3num = inner.l3num;
  in.saddr = inner.saddr;
  in.daddr = inner.daddr;
  in.protonum = inner.protonum;
  in.sport = inner.sport;
  in.dport = inner.dport;
  in.icmp_type = inner.icmp_type;
  in.icmp_code = inner.icmp_code;
  if (in.protonum == ctcore::IPPROTO_ICMP_ || in.protonum == ctcore::IPPROTO_ICMPV6_) in.sport = inner.icmp_id;
  in.gre_key = inner.gre_key;
  if (in.l3num != p.l3num) return refuse(c, t.pos, "the quoted packet's address family differs from the ICMP packet's");
  p.has_inner = true;
  c.take_word();
  return Option::kTaken;
}

Option icmp_option(Cursor& c, PacketSpec* out) {
  Packet& p = out->pkt;
  const std::string_view w = c.tok().text;
  if (w == "id") return c.option_number(65535, &p.icmp_id) ? Option::kTaken : Option::kError;
  if (w == "seq") return c.option_number(65535, &p.icmp_seq) ? Option::kTaken : Option::kError;
  if (w.size() >= 2 && w.front() == '[' && w.back() == ']') return icmp_quoted(c, p);
  return Option::kNotMine;
}

// ---- gre

bool gre_head(Cursor& c, Packet* p) {
  if (c.at_end() || c.tok().text != "key") return true;
  if (c.i + 1 >= c.toks.size() || !parse_uint(c.toks[c.i + 1].text, 65535, &p->gre_key))
    return c.fail(c.tok().pos, "\"key\" must be followed by a number 0..65535");
  c.i += 2;
  return true;
}

// ---- udplite

// `csum17`: the checksum made with UDP's pseudo-header protocol, the one
// conntrack's udplite_error() verifies with (core/packet.h).
Option udplite_option(Cursor& c, PacketSpec* out) {
  if (c.tok().text != "csum17") return Option::kNotMine;
  if (out->pkt.udplite_csum17) return refuse(c, c.tok().pos, "\"csum17\" is given twice");
  out->pkt.udplite_csum17 = true;
  c.take_word();
  return Option::kTaken;
}

bool udplite_finish(Cursor& c, const PacketSpec& out, size_t) {
  const NotationToken* csum17 = c.seen("csum17");
  if (csum17 != nullptr && out.pkt.bad_checksum)
    return c.fail(csum17->pos,
                  "\"csum17\" and \"badsum\" contradict (csum17 is a checksum that verifies with "
                  "protocol 17; badsum one that verifies with neither 17 nor 136)");
  return true;
}

// ---- sctp

bool sctp_chunks(Cursor& c, Packet& p) {
  const NotationToken& t = c.tok();
  if (c.i + 1 >= c.toks.size()) return c.fail(t.pos, "\"chunks\" must be followed by chunk types");
  if (p.sctp_chunks != 0) return c.fail(t.pos, "\"chunks\" is given twice");
  const NotationToken& list_tok = c.toks[c.i + 1];
  std::string_view list = list_tok.text;
  size_t off = 0;
  bool first = true;
  while (off <= list.size()) {
    size_t comma = list.find(',', off);
    std::string_view name = list.substr(off, comma == std::string_view::npos ? std::string_view::npos : comma - off);
    bool known = false;
    for (const SctpChunkName& ch : kSctpChunks) {
      if (name == ch.name) {
        if (p.sctp_chunks & ch.bit)
          return c.fail(list_tok.pos + off,
                        fmt::format("SCTP chunk {} is given twice (ctsim models each type once per packet)", name));
        p.sctp_chunks |= ch.bit;
        if (first) p.sctp_first_chunk = ch.type;
        known = true;
      }
    }
    if (!known)
      return c.fail(list_tok.pos + off, fmt::format("unknown SCTP chunk \"{}\" (expected DATA, INIT, INIT_ACK, SACK, "
                                                    "HEARTBEAT, HEARTBEAT_ACK, ABORT, SHUTDOWN, SHUTDOWN_ACK, ERROR, "
                                                    "COOKIE_ECHO, COOKIE_ACK or SHUTDOWN_COMPLETE)",
                                                    name));
    first = false;
    if (comma == std::string_view::npos) break;
    off = comma + 1;
  }
  c.take_pair();
  return true;
}

Option sctp_option(Cursor& c, PacketSpec* out) {
  Packet& p = out->pkt;
  const std::string_view w = c.tok().text;
  bool ok;
  if (w == "vtag")
    ok = c.option_number(UINT32_MAX, &p.sctp_vtag);
  else if (w == "init_tag")
    ok = c.option_number(UINT32_MAX, &p.sctp_init_tag);
  else if (w == "chunks")
    ok = sctp_chunks(c, p);
  else
    return Option::kNotMine;
  return ok ? Option::kTaken : Option::kError;
}

bool sctp_finish(Cursor& c, const PacketSpec& out, size_t end) {
  const Packet& p = out.pkt;
  if (p.sctp_chunks == 0) return c.fail(end, "an sctp packet needs \"chunks\" (e.g. chunks INIT)");
  const NotationToken* init_tag = c.seen("init_tag");
  if (init_tag != nullptr && !(p.sctp_chunks & (ctcore::SCTP_CHUNK_INIT | ctcore::SCTP_CHUNK_INIT_ACK)))
    return c.fail(init_tag->pos, "\"init_tag\" needs an INIT or INIT_ACK chunk");
  return true;
}

// ---- dccp

Option dccp_option(Cursor& c, PacketSpec* out) {
  Packet& p = out->pkt;
  const NotationToken& t = c.tok();
  if (t.text == "type") {
    if (c.i + 1 >= c.toks.size()) return refuse(c, t.pos, "\"type\" must be followed by a DCCP packet type");
    const NotationToken& type = c.toks[c.i + 1];
    bool known = false;
    for (uint8_t k = 0; k < 10; ++k) {
      if (type.text == kDccpTypes[k]) {
        p.dccp_type = k;
        known = true;
      }
    }
    if (!known)
      return refuse(c, type.pos,
                    fmt::format("unknown DCCP type \"{}\" (expected REQUEST, RESPONSE, DATA, ACK, "
                                "DATAACK, CLOSEREQ, CLOSE, RESET, SYNC or SYNCACK)",
                                type.text));
    c.take_pair();
    return Option::kTaken;
  }
  if (t.text == "seq" || t.text == "ack")
    return c.option_number((1ull << 48) - 1, t.text == "seq" ? &p.dccp_seq : &p.dccp_ack) ? Option::kTaken
                                                                                          : Option::kError;
  return Option::kNotMine;
}

constexpr ProtocolHandler kHandlers[] = {
    {ctcore::IPPROTO_TCP_, nullptr, nullptr, tcp_option, tcp_finish},
    {ctcore::IPPROTO_ICMP_, icmp_head, icmp_tuple_tail, icmp_option, nullptr},
    {ctcore::IPPROTO_ICMPV6_, icmp_head, icmp_tuple_tail, icmp_option, nullptr},
    {ctcore::IPPROTO_UDPLITE_, nullptr, nullptr, udplite_option, udplite_finish},
    {ctcore::IPPROTO_GRE_, gre_head, nullptr, nullptr, nullptr},
    {ctcore::IPPROTO_SCTP_, nullptr, nullptr, sctp_option, sctp_finish},
    {ctcore::IPPROTO_DCCP_, nullptr, nullptr, dccp_option, nullptr},
};

}  // namespace

const ProtocolHandler* protocol_handler(uint8_t protonum) {
  for (const ProtocolHandler& h : kHandlers)
    if (h.protonum == protonum) return &h;
  return nullptr;  // udp, proto N: no words of their own
}

}  // namespace ctsim::notation
