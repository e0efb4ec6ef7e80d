#include "sim/scenario/memory_size.h"

#include <fmt/format.h>

namespace ctsim {

Parsed<uint64_t> parse_memory_size(std::string_view text) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (kMemoryMax >> 10)) return ParseError{fmt::format("\"{}\" is more than 64TiB", text), 0};
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0)
    return ParseError{
        fmt::format("expected a memory size such as \"24GiB\" (digits, then KiB, MiB, GiB or TiB), found \"{}\"", text),
        0};
  const std::string_view unit = text.substr(i);
  int shift = 0;
  if (unit == "KiB") {
    shift = 10;
  } else if (unit == "MiB") {
    shift = 20;
  } else if (unit == "GiB") {
    shift = 30;
  } else if (unit == "TiB") {
    shift = 40;
  } else {
    return ParseError{fmt::format("expected the unit KiB, MiB, GiB or TiB after {}, found \"{}\"", n, unit), i};
  }
  if (n > (kMemoryMax >> shift)) return ParseError{fmt::format("\"{}\" is more than 64TiB", text), 0};
  const uint64_t bytes = n << shift;
  if (bytes < kMemoryMin) return ParseError{fmt::format("\"{}\" is less than 16MiB", text), 0};
  return bytes;
}

}  // namespace ctsim
