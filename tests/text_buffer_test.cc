// TextBuffer (sim/engine/text_buffer.h) and the trace's JSON string scan:
// the hand-written number formatting and the word-at-a-time escape test
// must agree with the plain definitions on every kind of input.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "sim/engine/rng.h"
#include "sim/engine/text_buffer.h"
#include "sim/output/trace_writer.h"

namespace {

std::string formatted(uint64_t v) {
  ctsim::TextBuffer b;
  b.append_uint(v);
  return b.str();
}

bool naive_needs_escape(const std::string& s) {
  for (char c : s)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

}  // namespace

TEST_CASE("integers are written as std::to_string writes them") {
  CHECK(formatted(0) == "0");
  CHECK(formatted(UINT64_MAX) == "18446744073709551615");
  uint64_t p = 1;
  for (int e = 0; e < 20; ++e, p *= 10) {
    for (uint64_t v : {p - 1, p, p + 1, 2 * p - 1, 9 * p, p + p / 2}) CHECK(formatted(v) == std::to_string(v));
  }
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t v = uint64_t{1} << bit;
    CHECK(formatted(v) == std::to_string(v));
    CHECK(formatted(v - 1) == std::to_string(v - 1));
  }
  // Around every change of length and every scale's edge (write_u32's
  // fixed-point pairs: an error there shows as a wrong digit next to a
  // run of 9s or 0s), and a stride over the whole 32-bit range.
  for (uint64_t q = 10; q <= 10000000000000000000ull; q *= 10) {
    for (uint64_t v = q > 300 ? q - 300 : 0; v != q + 300; ++v) REQUIRE(formatted(v) == std::to_string(v));
    if (q > UINT64_MAX / 10) break;
  }
  for (uint64_t v = 0; v <= UINT32_MAX; v += 4099) REQUIRE(formatted(v) == std::to_string(v));
  ctsim::Rng rng(3, 0);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng.next() >> rng.below(64);
    REQUIRE(formatted(v) == std::to_string(v));
  }
  ctsim::TextBuffer b;
  b.append_int(-42);
  b.push_back(' ');
  b.append_int(INT64_MIN);
  CHECK(b.str() == "-42 -9223372036854775808");
}

TEST_CASE("appends of every length land whole, across growth") {
  ctsim::TextBuffer b;
  std::string want;
  for (size_t n = 0; n < 300; ++n) {
    const std::string piece(n, static_cast<char>('a' + n % 26));
    b.append(piece);
    want += piece;
  }
  CHECK(b.str() == want);
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("the JSON escape scan finds every character that needs escaping, at every position") {
  for (size_t len = 0; len < 40; ++len) {
    const std::string base(len, 'x');
    CHECK_FALSE(ctsim::needs_json_escape(base));
    for (size_t pos = 0; pos < len; ++pos) {
      for (int c = 0; c < 256; ++c) {
        std::string s = base;
        s[pos] = static_cast<char>(c);
        REQUIRE(ctsim::needs_json_escape(s) == naive_needs_escape(s));
      }
    }
  }
  CHECK(ctsim::json_string("a\"b\\c\n\x01\xc3\xa9") == "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
}

TEST_CASE("tail() makes room for a record's fixed pieces, across growth") {
  ctsim::TextBuffer b;
  std::string want;
  for (size_t n = 1; n < 600; n += 7) {
    char* p = b.tail(n);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + (n + i) % 26);
    want.append(p, n - 1);
    b.set_end(p + n - 1);  // one byte of the room left unused: not part of the text
  }
  CHECK(b.str() == want);
}
