#include "sim/scenario/siphash_key_hex.h"

#include <fmt/format.h>

#include <cstdint>

namespace ctsim {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Parsed<ctcore::siphash_key_t> parse_siphash_key_hex(std::string_view text) {
  constexpr size_t kDigits = 32;
  for (size_t i = 0; i < text.size() && i < kDigits; ++i) {
    if (hex_value(text[i]) < 0)
      return ParseError{fmt::format("\"{}\": '{}' is not a hex digit (expected 32 hex digits, the 16 bytes of the key)",
                                    text, text[i]),
                        i};
  }
  if (text.size() != kDigits)
    return ParseError{
        fmt::format("\"{}\": {} hex digits, expected 32 (the 16 bytes of the key in memory order)", text, text.size()),
        text.size() < kDigits ? 0 : kDigits};
  uint8_t bytes[16];
  for (size_t i = 0; i < 16; ++i)
    bytes[i] = static_cast<uint8_t>(hex_value(text[2 * i]) << 4 | hex_value(text[2 * i + 1]));
  return ctcore::siphash_key_from_bytes(bytes);
}

std::string format_siphash_key_hex(const ctcore::siphash_key_t& key) {
  std::string out;
  for (uint64_t word : key.key)
    for (int i = 0; i < 8; ++i) out += fmt::format("{:02x}", static_cast<unsigned>((word >> (8 * i)) & 0xff));
  return out;
}

}  // namespace ctsim
