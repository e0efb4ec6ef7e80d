// The packet notation's vocabulary: tokens, protocol words, ICMP type
// names, SCTP chunk and DCCP type names, addresses and TCP flag letters,
// shared by the parser (packet_notation_parse.cc) and the formatter
// (packet_notation_format.cc).
#include <arpa/inet.h>
#include <fmt/format.h>

#include "sim/scenario/packet_notation.h"
#include "sim/scenario/packet_notation_internal.h"

namespace ctsim {

using ctcore::nf_inet_addr;

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
        if (s[j] == '[')
          ++depth;
        else if (s[j] == ']' && --depth == 0) {
          close = j;
          break;
        } else if (s[j] == ' ' || s[j] == '\t')
          space = true;
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

namespace notation {

nf_inet_addr from_bytes(const uint8_t* b, size_t n) {
  nf_inet_addr a;
  for (size_t w = 0; w < n / 4; ++w) {
    a.all[w] = static_cast<uint32_t>(b[4 * w]) | (static_cast<uint32_t>(b[4 * w + 1]) << 8) |
               (static_cast<uint32_t>(b[4 * w + 2]) << 16) | (static_cast<uint32_t>(b[4 * w + 3]) << 24);
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

const ProtoWord kProtoWords[9] = {
    {"tcp", ctcore::IPPROTO_TCP_, 0},
    {"udp", ctcore::IPPROTO_UDP_, 0},
    {"udplite", ctcore::IPPROTO_UDPLITE_, 0},
    {"icmp", ctcore::IPPROTO_ICMP_, ctcore::NFPROTO_IPV4},
    {"icmp6", ctcore::IPPROTO_ICMPV6_, ctcore::NFPROTO_IPV6},
    {"icmpv6", ctcore::IPPROTO_ICMPV6_, ctcore::NFPROTO_IPV6},
    {"gre", ctcore::IPPROTO_GRE_, 0},
    {"sctp", ctcore::IPPROTO_SCTP_, 0},
    {"dccp", ctcore::IPPROTO_DCCP_, 0},
};

bool has_ports(uint8_t p) {
  return p == ctcore::IPPROTO_TCP_ || p == ctcore::IPPROTO_UDP_ || p == ctcore::IPPROTO_UDPLITE_ ||
         p == ctcore::IPPROTO_SCTP_ || p == ctcore::IPPROTO_DCCP_;
}

const IcmpName kIcmp4Names[18] = {
    {"echo-reply", 0, 0},         {"net-unreachable", 3, 0},       {"host-unreachable", 3, 1},
    {"proto-unreachable", 3, 2},  {"port-unreachable", 3, 3},      {"frag-needed", 3, 4},
    {"admin-prohibited", 3, 13},  {"source-quench", 4, 0},         {"redirect", 5, 0},
    {"echo-request", 8, 0},       {"time-exceeded", 11, 0},        {"parameter-problem", 12, 0},
    {"timestamp-request", 13, 0}, {"timestamp-reply", 14, 0},      {"info-request", 15, 0},
    {"info-reply", 16, 0},        {"address-mask-request", 17, 0}, {"address-mask-reply", 18, 0},
};
const IcmpName kIcmp6Names[20] = {
    {"no-route", 1, 0},
    {"admin-prohibited", 1, 1},
    {"addr-unreachable", 1, 3},
    {"port-unreachable", 1, 4},
    {"packet-too-big", 2, 0},
    {"time-exceeded", 3, 0},
    {"parameter-problem", 4, 0},
    {"echo-request", 128, 0},
    {"echo-reply", 129, 0},
    {"mld-query", 130, 0},
    {"mld-report", 131, 0},
    {"mld-done", 132, 0},
    {"router-solicitation", 133, 0},
    {"router-advertisement", 134, 0},
    {"neighbor-solicitation", 135, 0},
    {"neighbor-advertisement", 136, 0},
    {"redirect", 137, 0},
    {"ni-query", 139, 0},
    {"ni-reply", 140, 0},
    {"mld2-report", 143, 0},
};

const SctpChunkName kSctpChunks[13] = {
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

const char* const kDccpTypes[10] = {"REQUEST",  "RESPONSE", "DATA",  "ACK",  "DATAACK",
                                    "CLOSEREQ", "CLOSE",    "RESET", "SYNC", "SYNCACK"};

}  // namespace notation

using namespace notation;

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

}  // namespace ctsim
