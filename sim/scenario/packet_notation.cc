#include "sim/scenario/packet_notation.h"

#include <arpa/inet.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace ctsim {

using ctcore::InnerHeader;
using ctcore::nf_conntrack_tuple;
using ctcore::nf_inet_addr;
using ctcore::Packet;

std::vector<NotationToken> tokenize_notation(std::string_view s) {
  std::vector<NotationToken> out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    size_t start = i;
    if (s[i] == '[') {
      // The matching bracket (the quoted packet may hold [v6]:port ones).
      size_t close = std::string_view::npos, depth = 0;
      bool space = false;
      for (size_t j = i; j < s.size(); ++j) {
        if (s[j] == '[') ++depth;
        else if (s[j] == ']' && --depth == 0) {
          close = j;
          break;
        } else if (s[j] == ' ' || s[j] == '\t') space = true;
      }
      if (close != std::string_view::npos && space) {
        out.push_back({s.substr(start, close + 1 - start), start});
        i = close + 1;
        continue;
      }
    }
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    out.push_back({s.substr(start, i - start), start});
  }
  return out;
}

namespace {

using Token = NotationToken;
std::vector<Token> tokenize(std::string_view s) { return tokenize_notation(s); }

bool fail(ParseError* err, size_t pos, std::string msg) {
  err->what = std::move(msg);
  err->column = pos;
  return false;
}

template <typename T>
bool parse_uint(std::string_view s, uint64_t max, T* out) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v > max) return false;
  *out = static_cast<T>(v);
  return true;
}

nf_inet_addr from_bytes(const uint8_t* b, size_t n) {
  nf_inet_addr a;
  for (size_t w = 0; w < n / 4; ++w) {
    a.all[w] = static_cast<uint32_t>(b[4 * w]) | (static_cast<uint32_t>(b[4 * w + 1]) << 8) |
               (static_cast<uint32_t>(b[4 * w + 2]) << 16) |
               (static_cast<uint32_t>(b[4 * w + 3]) << 24);
  }
  return a;
}

void to_bytes(const nf_inet_addr& a, uint8_t* b, size_t n) {
  for (size_t w = 0; w < n / 4; ++w) {
    b[4 * w] = static_cast<uint8_t>(a.all[w]);
    b[4 * w + 1] = static_cast<uint8_t>(a.all[w] >> 8);
    b[4 * w + 2] = static_cast<uint8_t>(a.all[w] >> 16);
    b[4 * w + 3] = static_cast<uint8_t>(a.all[w] >> 24);
  }
}

struct ProtoWord {
  const char* name;
  uint8_t protonum;
  uint16_t l3num;  // 0: either
};
const ProtoWord kProtoWords[] = {
    {"tcp", ctcore::IPPROTO_TCP_, 0},       {"udp", ctcore::IPPROTO_UDP_, 0},
    {"udplite", ctcore::IPPROTO_UDPLITE_, 0}, {"icmp", ctcore::IPPROTO_ICMP_, ctcore::NFPROTO_IPV4},
    {"icmp6", ctcore::IPPROTO_ICMPV6_, ctcore::NFPROTO_IPV6},
    {"icmpv6", ctcore::IPPROTO_ICMPV6_, ctcore::NFPROTO_IPV6},
    {"gre", ctcore::IPPROTO_GRE_, 0},       {"sctp", ctcore::IPPROTO_SCTP_, 0},
    {"dccp", ctcore::IPPROTO_DCCP_, 0},
};

bool has_ports(uint8_t p) {
  return p == ctcore::IPPROTO_TCP_ || p == ctcore::IPPROTO_UDP_ || p == ctcore::IPPROTO_UDPLITE_ ||
         p == ctcore::IPPROTO_SCTP_ || p == ctcore::IPPROTO_DCCP_;
}

struct IcmpName {
  const char* name;
  uint8_t type;
  int code;  // -1: any (named by type alone)
};
const IcmpName kIcmp4Names[] = {
    {"echo-reply", 0, 0},           {"net-unreachable", 3, 0},     {"host-unreachable", 3, 1},
    {"proto-unreachable", 3, 2},    {"port-unreachable", 3, 3},    {"frag-needed", 3, 4},
    {"admin-prohibited", 3, 13},    {"source-quench", 4, 0},       {"redirect", 5, 0},
    {"echo-request", 8, 0},         {"time-exceeded", 11, 0},      {"parameter-problem", 12, 0},
    {"timestamp-request", 13, 0},   {"timestamp-reply", 14, 0},    {"info-request", 15, 0},
    {"info-reply", 16, 0},          {"address-mask-request", 17, 0}, {"address-mask-reply", 18, 0},
};
const IcmpName kIcmp6Names[] = {
    {"no-route", 1, 0},          {"admin-prohibited", 1, 1},     {"addr-unreachable", 1, 3},
    {"port-unreachable", 1, 4},  {"packet-too-big", 2, 0},       {"time-exceeded", 3, 0},
    {"parameter-problem", 4, 0}, {"echo-request", 128, 0},       {"echo-reply", 129, 0},
    {"mld-query", 130, 0},       {"mld-report", 131, 0},         {"mld-done", 132, 0},
    {"router-solicitation", 133, 0}, {"router-advertisement", 134, 0},
    {"neighbor-solicitation", 135, 0}, {"neighbor-advertisement", 136, 0},
    {"redirect", 137, 0},        {"ni-query", 139, 0},           {"ni-reply", 140, 0},
    {"mld2-report", 143, 0},
};

struct SctpChunkName {
  const char* name;
  uint32_t bit;
  uint8_t type;
};
const SctpChunkName kSctpChunks[] = {
    {"DATA", ctcore::SCTP_CHUNK_DATA, 0},
    {"INIT", ctcore::SCTP_CHUNK_INIT, 1},
    {"INIT_ACK", ctcore::SCTP_CHUNK_INIT_ACK, 2},
    {"SACK", ctcore::SCTP_CHUNK_SACK, 3},
    {"HEARTBEAT", ctcore::SCTP_CHUNK_HEARTBEAT, 4},
    {"HEARTBEAT_ACK", ctcore::SCTP_CHUNK_HEARTBEAT_ACK, 5},
    {"ABORT", ctcore::SCTP_CHUNK_ABORT, 6},
    {"SHUTDOWN", ctcore::SCTP_CHUNK_SHUTDOWN, 7},
    {"SHUTDOWN_ACK", ctcore::SCTP_CHUNK_SHUTDOWN_ACK, 8},
    {"ERROR", ctcore::SCTP_CHUNK_ERROR, 9},
    {"COOKIE_ECHO", ctcore::SCTP_CHUNK_COOKIE_ECHO, 10},
    {"COOKIE_ACK", ctcore::SCTP_CHUNK_COOKIE_ACK, 11},
    {"SHUTDOWN_COMPLETE", ctcore::SCTP_CHUNK_SHUTDOWN_COMPLETE, 14},
};

const char* const kDccpTypes[] = {"REQUEST", "RESPONSE", "DATA",  "ACK",  "DATAACK",
                                  "CLOSEREQ", "CLOSE",   "RESET", "SYNC", "SYNCACK"};

// "A" or "A:port" or "[v6]:port" or "v6".
bool parse_endpoint(const Token& tok, bool want_port, nf_inet_addr* addr, uint16_t* l3num,
                    uint16_t* port, ParseError* err) {
  std::string_view s = tok.text;
  std::string_view host = s, port_text;
  bool has_port = false;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos)
      return fail(err, tok.pos, fmt::format("\"{}\": missing ']' after an IPv6 address", s));
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':')
        return fail(err, tok.pos + close + 1, fmt::format("\"{}\": expected ':port' after ']'", s));
      port_text = s.substr(close + 2);
      has_port = true;
    }
  } else if (s.find(':') == s.rfind(':') && s.find(':') != std::string_view::npos) {
    // exactly one colon: IPv4 with a port
    size_t c = s.find(':');
    host = s.substr(0, c);
    port_text = s.substr(c + 1);
    has_port = true;
  }
  if (!parse_address(host, addr, l3num))
    return fail(err, tok.pos, fmt::format("\"{}\" is not an IPv4 or IPv6 address", host));
  if (want_port) {
    if (!has_port)
      return fail(err, tok.pos, fmt::format("\"{}\": expected address:port", s));
    uint64_t v = 0;
    if (!parse_uint(port_text, UINT64_MAX, &v))
      return fail(err, tok.pos, fmt::format("\"{}\": port \"{}\" is not a number", s, port_text));
    if (v > 65535)
      return fail(err, tok.pos, fmt::format("port {} is out of range 0..65535", v));
    *port = static_cast<uint16_t>(v);
  } else if (has_port) {
    return fail(err, tok.pos, fmt::format("\"{}\": this protocol has no ports", s));
  }
  return true;
}

// The part common to packets and tuples: protocol, endpoints, ICMP type,
// GRE key. `i` is left at the first option token.
bool parse_head(const std::vector<Token>& toks, size_t* i, Packet* p, bool tuple_only,
                ParseError* err) {
  if (toks.empty()) return fail(err, 0, "empty packet (expected e.g. \"tcp A:p > B:q flags S\")");
  size_t k = 0;
  std::string_view proto = toks[k].text;
  uint16_t want_l3 = 0;
  bool found = false;
  if (proto == "proto") {
    if (toks.size() < 2 || !parse_uint(toks[1].text, 255, &p->protonum))
      return fail(err, toks.size() > 1 ? toks[1].pos : toks[0].pos,
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
    return fail(err, toks[0].pos,
                fmt::format("unknown protocol \"{}\" (expected tcp, udp, udplite, icmp, icmp6, "
                            "gre, sctp, dccp or \"proto N\")",
                            proto));
  if (toks.size() < k + 3 || toks[k + 1].text != ">")
    return fail(err, toks.size() > k ? toks[k].pos : 0,
                "expected \"SOURCE > DESTINATION\" after the protocol");
  const bool ports = has_ports(p->protonum);
  uint16_t l3a = 0, l3b = 0;
  if (!parse_endpoint(toks[k], ports, &p->saddr, &l3a, &p->sport, err)) return false;
  if (!parse_endpoint(toks[k + 2], ports, &p->daddr, &l3b, &p->dport, err)) return false;
  if (l3a != l3b)
    return fail(err, toks[k + 2].pos, "source and destination are of different address families");
  if (want_l3 != 0 && want_l3 != l3a)
    return fail(err, toks[0].pos,
                want_l3 == ctcore::NFPROTO_IPV4 ? "icmp needs IPv4 addresses (use icmp6 for IPv6)"
                                                : "icmp6 needs IPv6 addresses (use icmp for IPv4)");
  p->l3num = l3a;
  k += 3;

  if (p->protonum == ctcore::IPPROTO_ICMP_ || p->protonum == ctcore::IPPROTO_ICMPV6_) {
    const bool v6 = p->protonum == ctcore::IPPROTO_ICMPV6_;
    if (k >= toks.size())
      return fail(err, toks.back().pos + toks.back().text.size(),
                  "expected an ICMP type (e.g. echo-request, or \"type N code M\")");
    std::string_view t = toks[k].text;
    if (t == "type") {
      if (k + 1 >= toks.size() || !parse_uint(toks[k + 1].text, 255, &p->icmp_type))
        return fail(err, toks[k].pos, "\"type\" must be followed by a number 0..255");
      k += 2;
      if (k < toks.size() && toks[k].text == "code") {
        if (k + 1 >= toks.size() || !parse_uint(toks[k + 1].text, 255, &p->icmp_code))
          return fail(err, toks[k].pos, "\"code\" must be followed by a number 0..255");
        k += 2;
      }
    } else {
      bool named = false;
      for (const IcmpName& n : v6 ? std::vector<IcmpName>(std::begin(kIcmp6Names), std::end(kIcmp6Names))
                                  : std::vector<IcmpName>(std::begin(kIcmp4Names), std::end(kIcmp4Names))) {
        if (t == n.name) {
          p->icmp_type = n.type;
          p->icmp_code = static_cast<uint8_t>(n.code);
          named = true;
        }
      }
      if (!named)
        return fail(err, toks[k].pos,
                    fmt::format("unknown {} type \"{}\" (expected a name such as echo-request, "
                                "echo-reply, port-unreachable, time-exceeded, or \"type N code M\")",
                                v6 ? "icmp6" : "icmp", t));
      ++k;
    }
  } else if (p->protonum == ctcore::IPPROTO_GRE_) {
    if (k < toks.size() && toks[k].text == "key") {
      if (k + 1 >= toks.size() || !parse_uint(toks[k + 1].text, 65535, &p->gre_key))
        return fail(err, toks[k].pos, "\"key\" must be followed by a number 0..65535");
      k += 2;
    }
  }
  (void)tuple_only;
  *i = k;
  return true;
}

}  // namespace

bool tcp_flag_bit(char letter, uint8_t* bit) {
  switch (letter) {
    case 'S': *bit = ctcore::TCPHDR_SYN; return true;
    case 'A': *bit = ctcore::TCPHDR_ACK; return true;
    case 'F': *bit = ctcore::TCPHDR_FIN; return true;
    case 'R': *bit = ctcore::TCPHDR_RST; return true;
    case 'P': *bit = ctcore::TCPHDR_PSH; return true;
    case 'U': *bit = ctcore::TCPHDR_URG; return true;
    case 'E': *bit = ctcore::TCPHDR_ECE; return true;
    case 'C': *bit = ctcore::TCPHDR_CWR; return true;
    default: return false;
  }
}

namespace {

bool parse_flags(const Token& tok, uint8_t* flags, ParseError* err) {
  *flags = 0;
  if (tok.text == "none") return true;
  for (size_t j = 0; j < tok.text.size(); ++j) {
    uint8_t bit = 0;
    if (!tcp_flag_bit(tok.text[j], &bit)) {
    return fail(err, tok.pos + j,
                fmt::format("unknown TCP flag '{}' (expected letters S A F R P U E C, or none)",
                            tok.text[j]));
    }
    if (*flags & bit) return fail(err, tok.pos + j, fmt::format("TCP flag '{}' given twice", tok.text[j]));
    *flags |= bit;
  }
  if (tok.text.empty()) return fail(err, tok.pos, "expected TCP flags");
  return true;
}

}  // namespace

bool parse_address(std::string_view text, nf_inet_addr* out, uint16_t* l3num) {
  std::string s(text);
  uint8_t buf[16] = {};
  if (s.find(':') == std::string::npos) {
    // Strict dotted quad: inet_pton rejects leading zeros and short forms.
    if (inet_pton(AF_INET, s.c_str(), buf) != 1) return false;
    *out = from_bytes(buf, 4);
    *l3num = ctcore::NFPROTO_IPV4;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return false;
  *out = from_bytes(buf, 16);
  *l3num = ctcore::NFPROTO_IPV6;
  return true;
}

std::string format_address(uint16_t l3num, const nf_inet_addr& a) {
  uint8_t buf[16];
  char out[INET6_ADDRSTRLEN];
  if (l3num == ctcore::NFPROTO_IPV6) {
    to_bytes(a, buf, 16);
    inet_ntop(AF_INET6, buf, out, sizeof out);
  } else {
    to_bytes(a, buf, 4);
    inet_ntop(AF_INET, buf, out, sizeof out);
  }
  return out;
}

std::string protocol_word(uint8_t protonum) {
  switch (protonum) {
    case ctcore::IPPROTO_TCP_: return "tcp";
    case ctcore::IPPROTO_UDP_: return "udp";
    case ctcore::IPPROTO_UDPLITE_: return "udplite";
    case ctcore::IPPROTO_ICMP_: return "icmp";
    case ctcore::IPPROTO_ICMPV6_: return "icmp6";
    case ctcore::IPPROTO_GRE_: return "gre";
    case ctcore::IPPROTO_SCTP_: return "sctp";
    case ctcore::IPPROTO_DCCP_: return "dccp";
    default: return fmt::format("proto {}", protonum);
  }
}

const char* icmp_type_name(uint8_t type, uint8_t code, bool v6) {
  if (v6) {
    for (const IcmpName& n : kIcmp6Names)
      if (n.type == type && n.code == code) return n.name;
  } else {
    for (const IcmpName& n : kIcmp4Names)
      if (n.type == type && n.code == code) return n.name;
  }
  return nullptr;
}

namespace {

// Appends an address: IPv4 by hand (this runs for every traced packet),
// IPv6 through inet_ntop (its zero compression is the standard text form).
void append_address(std::string& s, uint16_t l3num, const nf_inet_addr& a) {
  if (l3num == ctcore::NFPROTO_IPV6) {
    s += format_address(l3num, a);
    return;
  }
  for (int i = 0; i < 4; ++i) {
    if (i) s += '.';
    const fmt::format_int b(static_cast<uint8_t>(a.all[0] >> (8 * i)));
    s.append(b.data(), b.size());
  }
}

void append_endpoint(std::string& s, uint16_t l3num, const nf_inet_addr& a, bool ports, uint16_t port) {
  const bool v6 = l3num == ctcore::NFPROTO_IPV6;
  if (ports && v6) s += '[';
  append_address(s, l3num, a);
  if (!ports) return;
  if (v6) s += ']';
  s += ':';
  const fmt::format_int p(port);
  s.append(p.data(), p.size());
}

std::string endpoint(uint16_t l3num, const nf_inet_addr& a, bool ports, uint16_t port) {
  std::string s;
  append_endpoint(s, l3num, a, ports, port);
  return s;
}

// Appends "PROTO SRC > DST", the head of every tuple and packet.
void append_head(std::string& s, uint8_t protonum, uint16_t l3num, const nf_inet_addr& src,
                 uint16_t sport, const nf_inet_addr& dst, uint16_t dport, bool ports) {
  s += protocol_word(protonum);
  s += ' ';
  append_endpoint(s, l3num, src, ports, sport);
  s += " > ";
  append_endpoint(s, l3num, dst, ports, dport);
}

std::string icmp_words(uint8_t type, uint8_t code, bool v6) {
  if (const char* n = icmp_type_name(type, code, v6)) return n;
  return fmt::format("type {} code {}", type, code);
}

}  // namespace

std::string format_tuple(const nf_conntrack_tuple& t) {
  std::string s;
  append_tuple_notation(s, t);
  return s;
}

void append_tuple_notation(std::string& s, const nf_conntrack_tuple& t) {
  const uint8_t p = t.dst.protonum;
  const bool ports = has_ports(p);
  append_head(s, p, t.src.l3num, t.src.u3, t.sport(), t.dst.u3, t.dport(), ports);
  if (p == ctcore::IPPROTO_ICMP_ || p == ctcore::IPPROTO_ICMPV6_) {
    fmt::format_to(std::back_inserter(s), FMT_COMPILE(" {} id {}"), icmp_words(t.icmp_type(), t.icmp_code(), p == ctcore::IPPROTO_ICMPV6_),
                     t.icmp_id());
  } else if (p == ctcore::IPPROTO_GRE_) {
    fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), ctcore::raw_be16(t.src.u_all));
  }
}

std::string format_tcp_flags(uint8_t f) {
  if (f == 0) return "none";
  std::string s;
  const std::pair<uint8_t, char> kOrder[] = {
      {ctcore::TCPHDR_SYN, 'S'}, {ctcore::TCPHDR_FIN, 'F'}, {ctcore::TCPHDR_RST, 'R'},
      {ctcore::TCPHDR_PSH, 'P'}, {ctcore::TCPHDR_ACK, 'A'}, {ctcore::TCPHDR_URG, 'U'},
      {ctcore::TCPHDR_ECE, 'E'}, {ctcore::TCPHDR_CWR, 'C'}};
  for (auto [bit, c] : kOrder)
    if (f & bit) s += c;
  return s;
}

std::string format_packet(const Packet& p) {
  std::string s;
  append_packet_notation(s, p);
  return s;
}

void append_packet_notation(std::string& s, const Packet& p) {
  const bool ports = has_ports(p.protonum);
  append_head(s, p.protonum, p.l3num, p.saddr, p.sport, p.daddr, p.dport, ports);
  switch (p.protonum) {
    case ctcore::IPPROTO_TCP_:
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" flags {} seq {}"), format_tcp_flags(p.tcp_flags), p.seq);
      if ((p.tcp_flags & ctcore::TCPHDR_ACK) || p.ack_seq != 0) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" ack {}"), p.ack_seq);
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" win {}"), p.window);
      if (p.len) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
      if (p.wscale >= 0) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" wscale {}"), p.wscale);
      if (p.sackok) s += " sackok";
      if (p.mss) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" mss {}"), p.mss);
      break;
    case ctcore::IPPROTO_UDP_:
    case ctcore::IPPROTO_UDPLITE_:
      if (p.len) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
      break;
    case ctcore::IPPROTO_ICMP_:
    case ctcore::IPPROTO_ICMPV6_: {
      const bool v6 = p.protonum == ctcore::IPPROTO_ICMPV6_;
      s += ' ';
      s += icmp_words(p.icmp_type, p.icmp_code, v6);
      if (!p.has_inner || p.icmp_id != 0) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" id {}"), p.icmp_id);
      if (p.icmp_seq) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" seq {}"), p.icmp_seq);
      if (p.has_inner) {
        const InnerHeader& in = p.inner;
        const bool iports = has_ports(in.protonum);
        fmt::format_to(std::back_inserter(s), FMT_COMPILE(" [{} {} > {}"), protocol_word(in.protonum),
                         endpoint(in.l3num, in.saddr, iports, in.sport),
                         endpoint(in.l3num, in.daddr, iports, in.dport));
        if (in.protonum == ctcore::IPPROTO_ICMP_ || in.protonum == ctcore::IPPROTO_ICMPV6_)
          fmt::format_to(std::back_inserter(s), FMT_COMPILE(" {} id {}"), icmp_words(in.icmp_type, in.icmp_code, in.protonum == ctcore::IPPROTO_ICMPV6_), in.sport);
        else if (in.protonum == ctcore::IPPROTO_GRE_)
          fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), in.gre_key);
        s += "]";
      }
      break;
    }
    case ctcore::IPPROTO_GRE_:
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" key {}"), p.gre_key);
      break;
    case ctcore::IPPROTO_SCTP_: {
      // The first chunk first, then the others in ascending type order (the
      // order the tracker walks them in).
      std::string chunks;
      for (const SctpChunkName& c : kSctpChunks)
        if ((p.sctp_chunks & c.bit) && c.type == p.sctp_first_chunk) chunks = c.name;
      for (const SctpChunkName& c : kSctpChunks) {
        if ((p.sctp_chunks & c.bit) && c.type != p.sctp_first_chunk) {
          if (!chunks.empty()) chunks += ',';
          chunks += c.name;
        }
      }
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" chunks {} vtag {}"), chunks.empty() ? "none" : chunks, p.sctp_vtag);
      if (p.sctp_chunks & (ctcore::SCTP_CHUNK_INIT | ctcore::SCTP_CHUNK_INIT_ACK))
        fmt::format_to(std::back_inserter(s), FMT_COMPILE(" init_tag {}"), p.sctp_init_tag);
      break;
    }
    case ctcore::IPPROTO_DCCP_:
      fmt::format_to(std::back_inserter(s), FMT_COMPILE(" type {}"), p.dccp_type < 10 ? kDccpTypes[p.dccp_type] : "INVALID");
      if (p.dccp_seq) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" seq {}"), p.dccp_seq);
      if (p.dccp_ack) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" ack {}"), p.dccp_ack);
      break;
    default:
      break;
  }
  const bool len_written = p.protonum == ctcore::IPPROTO_TCP_ || p.protonum == ctcore::IPPROTO_UDP_ ||
                           p.protonum == ctcore::IPPROTO_UDPLITE_;
  if (p.len && !len_written) fmt::format_to(std::back_inserter(s), FMT_COMPILE(" len {}"), p.len);
  if (p.bad_checksum) s += " badsum";
  if (p.truncated) s += " truncated";
}

namespace {

// The packet an ICMP error quotes: what the tracker reads of it (addresses,
// protocol, ports, ICMP type and id, GRE key), i.e. the tuple notation.
bool parse_quoted(std::string_view text, Packet* p, ParseError* err) {
  std::vector<Token> toks = tokenize(text);
  size_t i = 0;
  if (!parse_head(toks, &i, p, true, err)) return false;
  if ((p->protonum == ctcore::IPPROTO_ICMP_ || p->protonum == ctcore::IPPROTO_ICMPV6_) &&
      i < toks.size() && toks[i].text == "id") {
    if (i + 1 >= toks.size() || !parse_uint(toks[i + 1].text, 65535, &p->icmp_id))
      return fail(err, toks[i].pos, "\"id\" must be followed by a number 0..65535");
    i += 2;
  }
  if (i < toks.size())
    return fail(err, toks[i].pos,
                fmt::format("unexpected \"{}\" (a quoted packet gives only addresses, ports, "
                            "an ICMP type and id, or a GRE key)",
                            toks[i].text));
  return true;
}

}  // namespace

namespace {

bool parse_packet_into(std::string_view text, PacketSpec* out, ParseError* err) {
  *out = PacketSpec{};
  Packet& p = out->pkt;
  std::vector<Token> toks = tokenize(text);
  size_t i = 0;
  if (!parse_head(toks, &i, &p, false, err)) return false;
  bool have_init_tag = false;
  size_t init_tag_pos = 0;
  bool have_flags = false;
  const bool tcp = p.protonum == ctcore::IPPROTO_TCP_;
  auto need_num = [&](size_t at, uint64_t max, auto* dst) -> bool {
    if (at + 1 >= toks.size())
      return fail(err, toks[at].pos, fmt::format("\"{}\" must be followed by a number", toks[at].text));
    uint64_t v = 0;
    if (!parse_uint(toks[at + 1].text, UINT64_MAX, &v))
      return fail(err, toks[at + 1].pos,
                  fmt::format("\"{}\" after \"{}\" is not a number", toks[at + 1].text, toks[at].text));
    if (v > max)
      return fail(err, toks[at + 1].pos,
                  fmt::format("{} {} is out of range 0..{}", toks[at].text, v, max));
    *dst = static_cast<std::remove_pointer_t<decltype(dst)>>(v);
    return true;
  };
  while (i < toks.size()) {
    const Token& t = toks[i];
    std::string_view w = t.text;
    if (w == "badsum") {
      p.bad_checksum = true;
      ++i;
    } else if (w == "truncated") {
      p.truncated = true;
      ++i;
    } else if (w == "len") {
      if (!need_num(i, 65535, &p.len)) return false;
      i += 2;
    } else if (tcp && w == "flags") {
      if (i + 1 >= toks.size()) return fail(err, t.pos, "\"flags\" must be followed by TCP flags");
      if (!parse_flags(toks[i + 1], &p.tcp_flags, err)) return false;
      have_flags = true;
      i += 2;
    } else if (tcp && w == "seq") {
      if (!need_num(i, UINT32_MAX, &p.seq)) return false;
      out->has_seq = true;
      i += 2;
    } else if (tcp && w == "ack") {
      if (!need_num(i, UINT32_MAX, &p.ack_seq)) return false;
      out->has_ack = true;
      i += 2;
    } else if (tcp && w == "win") {
      if (!need_num(i, 65535, &p.window)) return false;
      out->has_win = true;
      i += 2;
    } else if (tcp && w == "wscale") {
      uint8_t v = 0;
      if (!need_num(i, 14, &v)) return false;
      p.wscale = static_cast<int8_t>(v);
      i += 2;
    } else if (tcp && w == "mss") {
      if (!need_num(i, 65535, &p.mss)) return false;
      i += 2;
    } else if (tcp && w == "sackok") {
      p.sackok = true;
      ++i;
    } else if ((p.protonum == ctcore::IPPROTO_ICMP_ || p.protonum == ctcore::IPPROTO_ICMPV6_) &&
               w == "id") {
      if (!need_num(i, 65535, &p.icmp_id)) return false;
      i += 2;
    } else if ((p.protonum == ctcore::IPPROTO_ICMP_ || p.protonum == ctcore::IPPROTO_ICMPV6_) &&
               w == "seq") {
      if (!need_num(i, 65535, &p.icmp_seq)) return false;
      i += 2;
    } else if ((p.protonum == ctcore::IPPROTO_ICMP_ || p.protonum == ctcore::IPPROTO_ICMPV6_) &&
               w.size() >= 2 && w.front() == '[' && w.back() == ']') {
      if (p.has_inner) return fail(err, t.pos, "an ICMP error quotes one packet, not two");
      Packet inner;
      ParseError ierr;
      if (!parse_quoted(w.substr(1, w.size() - 2), &inner, &ierr))
        return fail(err, t.pos + 1 + ierr.column, "quoted packet: " + ierr.what);
      InnerHeader& in = p.inner;
      in.l3num = inner.l3num;
      in.saddr = inner.saddr;
      in.daddr = inner.daddr;
      in.protonum = inner.protonum;
      in.sport = inner.sport;
      in.dport = inner.dport;
      in.icmp_type = inner.icmp_type;
      in.icmp_code = inner.icmp_code;
      if (in.protonum == ctcore::IPPROTO_ICMP_ || in.protonum == ctcore::IPPROTO_ICMPV6_)
        in.sport = inner.icmp_id;
      in.gre_key = inner.gre_key;
      if (in.l3num != p.l3num)
        return fail(err, t.pos, "the quoted packet's address family differs from the ICMP packet's");
      p.has_inner = true;
      ++i;
    } else if (p.protonum == ctcore::IPPROTO_SCTP_ && w == "vtag") {
      if (!need_num(i, UINT32_MAX, &p.sctp_vtag)) return false;
      i += 2;
    } else if (p.protonum == ctcore::IPPROTO_SCTP_ && w == "init_tag") {
      if (!need_num(i, UINT32_MAX, &p.sctp_init_tag)) return false;
      have_init_tag = true;
      init_tag_pos = t.pos;
      i += 2;
    } else if (p.protonum == ctcore::IPPROTO_SCTP_ && w == "chunks") {
      if (i + 1 >= toks.size()) return fail(err, t.pos, "\"chunks\" must be followed by chunk types");
      if (p.sctp_chunks != 0) return fail(err, t.pos, "\"chunks\" is given twice");
      std::string_view list = toks[i + 1].text;
      size_t off = 0;
      bool first = true;
      while (off <= list.size()) {
        size_t comma = list.find(',', off);
        std::string_view name = list.substr(off, comma == std::string_view::npos ? std::string_view::npos : comma - off);
        bool known = false;
        for (const SctpChunkName& c : kSctpChunks) {
          if (name == c.name) {
            if (p.sctp_chunks & c.bit)
              return fail(err, toks[i + 1].pos + off,
                          fmt::format("SCTP chunk {} is given twice (ctsim models each type once per packet)", name));
            p.sctp_chunks |= c.bit;
            if (first) p.sctp_first_chunk = c.type;
            known = true;
          }
        }
        if (!known)
          return fail(err, toks[i + 1].pos + off,
                      fmt::format("unknown SCTP chunk \"{}\" (expected DATA, INIT, INIT_ACK, SACK, "
                                  "HEARTBEAT, HEARTBEAT_ACK, ABORT, SHUTDOWN, SHUTDOWN_ACK, ERROR, "
                                  "COOKIE_ECHO, COOKIE_ACK or SHUTDOWN_COMPLETE)",
                                  name));
        first = false;
        if (comma == std::string_view::npos) break;
        off = comma + 1;
      }
      i += 2;
    } else if (p.protonum == ctcore::IPPROTO_DCCP_ && w == "type") {
      if (i + 1 >= toks.size()) return fail(err, t.pos, "\"type\" must be followed by a DCCP packet type");
      bool known = false;
      for (uint8_t k = 0; k < 10; ++k) {
        if (toks[i + 1].text == kDccpTypes[k]) {
          p.dccp_type = k;
          known = true;
        }
      }
      if (!known)
        return fail(err, toks[i + 1].pos,
                    fmt::format("unknown DCCP type \"{}\" (expected REQUEST, RESPONSE, DATA, ACK, "
                                "DATAACK, CLOSEREQ, CLOSE, RESET, SYNC or SYNCACK)",
                                toks[i + 1].text));
      i += 2;
    } else if (p.protonum == ctcore::IPPROTO_DCCP_ && (w == "seq" || w == "ack")) {
      if (!need_num(i, (1ull << 48) - 1, w == "seq" ? &p.dccp_seq : &p.dccp_ack)) return false;
      i += 2;
    } else {
      return fail(err, t.pos, fmt::format("unexpected \"{}\" in a {} packet", w, protocol_word(p.protonum)));
    }
  }
  if (tcp && !have_flags) return fail(err, text.size(), "a tcp packet needs \"flags\" (e.g. flags S)");
  if (p.protonum == ctcore::IPPROTO_SCTP_ && p.sctp_chunks == 0)
    return fail(err, text.size(), "an sctp packet needs \"chunks\" (e.g. chunks INIT)");
  if (have_init_tag && !(p.sctp_chunks & (ctcore::SCTP_CHUNK_INIT | ctcore::SCTP_CHUNK_INIT_ACK)))
    return fail(err, init_tag_pos, "\"init_tag\" needs an INIT or INIT_ACK chunk");
  return true;
}

bool parse_tuple_into(std::string_view text, nf_conntrack_tuple* out, ParseError* err) {
  PacketSpec spec;
  std::vector<Token> toks = tokenize(text);
  size_t i = 0;
  if (!parse_head(toks, &i, &spec.pkt, true, err)) return false;
  if ((spec.pkt.protonum == ctcore::IPPROTO_ICMP_ || spec.pkt.protonum == ctcore::IPPROTO_ICMPV6_) &&
      i < toks.size() && toks[i].text == "id") {
    if (i + 1 >= toks.size() || !parse_uint(toks[i + 1].text, 65535, &spec.pkt.icmp_id))
      return fail(err, toks[i].pos, "\"id\" must be followed by a number 0..65535");
    i += 2;
  }
  if (i < toks.size())
    return fail(err, toks[i].pos,
                fmt::format("unexpected \"{}\": a tuple is the packet notation without flags or options",
                            toks[i].text));
  if (!ctcore::nf_ct_get_tuple(spec.pkt, out)) return fail(err, 0, "conntrack takes no tuple from this packet");
  return true;
}

}  // namespace

Parsed<PacketSpec> parse_packet(std::string_view text) {
  PacketSpec spec;
  ParseError err;
  if (!parse_packet_into(text, &spec, &err)) return err;
  return spec;
}

Parsed<nf_conntrack_tuple> parse_tuple(std::string_view text) {
  nf_conntrack_tuple t;
  ParseError err;
  if (!parse_tuple_into(text, &t, &err)) return err;
  return t;
}

}  // namespace ctsim
