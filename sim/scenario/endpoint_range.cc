#include "sim/scenario/endpoint_range.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "sim/scenario/packet_notation.h"

namespace ctsim {

Parsed<EndpointRange> parse_endpoint_range(const std::string& text) {
  EndpointRange r;
  EndpointRange* out = &r;
  size_t port_at = 0;  // where the port starts, for the error's column
  std::string addr = text, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) {
      return ParseError{fmt::format("\"{}\": missing ']'", text), 0};
    }
    addr = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return ParseError{fmt::format("\"{}\": expected ':port' after ']'", text), 0};
      }
      port = text.substr(close + 2);
      port_at = close + 2;
      out->has_port = true;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t c = text.find(':');
    addr = text.substr(0, c);
    port = text.substr(c + 1);
    port_at = c + 1;
    out->has_port = true;
  }
  size_t slash = addr.find('/');
  if (text[0] != '[' && slash != std::string::npos && addr.find(':', slash) != std::string::npos) {
    return ParseError{
        fmt::format("\"{}\": an IPv6 prefix with a port goes in brackets, e.g. \"[2001:db8::/32]:443\"", text), 0};
  }
  std::string host = addr.substr(0, slash);
  if (!parse_address(host, &out->addr, &out->l3num)) {
    return ParseError{fmt::format("\"{}\" is not an IPv4 or IPv6 address", host), 0};
  }
  const unsigned max = out->l3num == ctcore::NFPROTO_IPV4 ? 32 : 128;
  out->prefix_len = static_cast<uint8_t>(max);
  if (slash != std::string::npos) {
    const std::string len = addr.substr(slash + 1);
    char* end = nullptr;
    unsigned long v = std::strtoul(len.c_str(), &end, 10);
    if (len.empty() || !std::isdigit(static_cast<unsigned char>(len[0])) || *end != '\0' || v > max) {
      return ParseError{fmt::format("prefix length \"{}\" must be 0..{}", len, max), 0};
    }
    out->prefix_len = static_cast<uint8_t>(v);
  }
  if (out->has_port) {
    size_t dash = port.find('-');
    auto num = [&](const std::string& x, uint16_t* v) {
      char* end = nullptr;
      unsigned long n = std::strtoul(x.c_str(), &end, 10);
      if (x.empty() || !std::isdigit(static_cast<unsigned char>(x[0])) || *end != '\0' || n > 65535) return false;
      *v = static_cast<uint16_t>(n);
      return true;
    };
    bool ok = dash == std::string::npos
                  ? num(port, &out->port_lo)
                  : (num(port.substr(0, dash), &out->port_lo) && num(port.substr(dash + 1), &out->port_hi));
    if (dash == std::string::npos) out->port_hi = out->port_lo;
    if (!ok || out->port_lo > out->port_hi) {
      return ParseError{fmt::format("\"{}\" is not a port or port range within 0..65535 (e.g. 80 or 1024-65535)", port),
                        port_at};
    }
  }
  return r;
}

}  // namespace ctsim
