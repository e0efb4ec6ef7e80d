// A growable character buffer that text formats are written straight into:
// the trace, the packet notation, the conntrack-tool lines. Every append is
// inline (one capacity test, then a copy), and integers are formatted by
// hand, without locale or format strings, so a record costs what its bytes
// cost.
//
// Invariants: data() .. data() + size() is the text appended since the
// last clear(); capacity only grows.
//
// Threading: value type; one owner.
#ifndef CTSIM_SIM_ENGINE_TEXT_BUFFER_H_
#define CTSIM_SIM_ENGINE_TEXT_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ctsim {

class TextBuffer {
 public:
  using value_type = char;  // for std::back_inserter (fmt::format_to on rare paths)

  TextBuffer() = default;
  explicit TextBuffer(size_t capacity) { reserve(capacity); }
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  const char* data() const { return data_.get(); }
  size_t size() const { return static_cast<size_t>(end_ - data_.get()); }
  bool empty() const { return end_ == data_.get(); }
  std::string_view view() const { return {data_.get(), size()}; }
  std::string str() const { return std::string(view()); }
  void clear() { end_ = data_.get(); }
  // Drops the text past the first `n` bytes. REQUIRES: n <= size().
  void truncate(size_t n) { end_ = data_.get() + n; }
  // Exchanges the contents (text and storage) with `other`; no copy.
  void swap(TextBuffer& other) noexcept {
    data_.swap(other.data_);
    std::swap(end_, other.end_);
    std::swap(cap_, other.cap_);
  }
  void reserve(size_t capacity) {
    if (capacity > static_cast<size_t>(cap_ - data_.get())) grow(capacity - size());
  }

  // The appends are forced inline: they are a few instructions each, and
  // the trace makes dozens of them per record.
  [[gnu::always_inline]] void push_back(char c) {
    if (end_ == cap_) grow(1);
    *end_++ = c;
  }
  [[gnu::always_inline]] void append(std::string_view s) { append(s.data(), s.size()); }
  [[gnu::always_inline]] void append(const char* p, size_t n) {
    if (static_cast<size_t>(cap_ - end_) < n) grow(n);
    copy(end_, p, n);
    end_ += n;
  }
  // Room for `n` more bytes: returns where they go. The caller writes at
  // most `n` bytes from there and then calls set_end() just past the last
  // one: several fixed-size pieces of a record, one capacity test.
  [[gnu::always_inline]] char* tail(size_t n) {
    if (static_cast<size_t>(cap_ - end_) < n) grow(n);
    return end_;
  }
  // REQUIRES: `p` within what the last tail() made room for.
  [[gnu::always_inline]] void set_end(char* p) { end_ = p; }
  // The first `size` bytes of a memo of fixed size N: all N copied (one
  // fixed-size move the compiler inlines), the end set after `size`.
  // REQUIRES: size <= N.
  template <size_t N>
  [[gnu::always_inline]] void append_memo(const char (&memo)[N], size_t size) {
    char* p = tail(N);
    std::memcpy(p, memo, N);
    end_ = p + size;
  }
  // A string literal: its length is known at compile time.
  template <size_t N>
  [[gnu::always_inline]] void literal(const char (&s)[N]) {
    append(s, N - 1);
  }
  TextBuffer& operator+=(std::string_view s) {
    append(s);
    return *this;
  }
  TextBuffer& operator+=(char c) {
    push_back(c);
    return *this;
  }

  // Decimal, as printf's %llu / %lld would write it. One digit (counts,
  // CPUs, flags) is written inline; longer numbers out of line.
  [[gnu::always_inline]] void append_uint(uint64_t v) {
    if (v < 10) {
      push_back(static_cast<char>('0' + v));
      return;
    }
    end_ = put_uint_long(tail(kUintRoom), v);
  }
  // The same at `p`, outside any buffer (a memo being filled, a record
  // written through a local cursor): returns the end. Stores whole 8-byte
  // words: REQUIRES kUintRoom bytes of room at `p` (up to 6 bytes past the
  // last digit are overwritten).
  static constexpr size_t kUintRoom = 24;
  [[gnu::always_inline]] static char* put_uint(char* p, uint64_t v) {
    if (v < 10) {
      *p = static_cast<char>('0' + v);
      return p + 1;
    }
    return put_uint_long(p, v);
  }
  // REQUIRES kUintRoom + 1 bytes of room.
  [[gnu::always_inline]] static char* put_int(char* p, int64_t v) {
    if (v >= 0) return put_uint(p, static_cast<uint64_t>(v));
    *p = '-';
    return put_uint(p + 1, 0 - static_cast<uint64_t>(v));
  }
  [[gnu::noinline]] static char* put_uint_long(char* p, uint64_t v) {
    // At most 20 digits.
    if (v <= UINT32_MAX) return write_u32(p, static_cast<uint32_t>(v));
    // Above 32 bits (64-bit counters, times past 4 s in ns): the last
    // eight digits, and the eight before them if the rest still does not
    // fit in 32 bits; the leading part first, so that each later store
    // lands on the previous one's spare bytes.
    const uint64_t hi = v / 100000000;
    const uint32_t lo = static_cast<uint32_t>(v - hi * 100000000);
    if (hi > UINT32_MAX) {
      const uint32_t top = static_cast<uint32_t>(hi / 100000000);
      p = write_u32(p, top);
      p = store_digits(p, eight_digits(static_cast<uint32_t>(hi - uint64_t{top} * 100000000)));
    } else {
      p = write_u32(p, static_cast<uint32_t>(hi));
    }
    return store_digits(p, eight_digits(lo));
  }
  [[gnu::always_inline]] void append_int(int64_t v) {
    if (v < 0) {
      push_back('-');
      append_uint(0 - static_cast<uint64_t>(v));
    } else {
      append_uint(static_cast<uint64_t>(v));
    }
  }

  // memcpy, with the short copies most appends are (names, keys, numbers)
  // done as two overlapping fixed-size moves, inline, instead of a call.
  // Reads and writes stay within [src, src + n) and [dst, dst + n).
  [[gnu::always_inline]] static void copy(char* dst, const char* src, size_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
      uint32_t a, b;
      std::memcpy(&a, src, 4);
      std::memcpy(&b, src + n - 4, 4);
      std::memcpy(dst, &a, 4);
      std::memcpy(dst + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
      dst[0] = src[0];
      dst[n / 2] = src[n / 2];
      dst[n - 1] = src[n - 1];
    } else if (n > 16) {
      std::memcpy(dst, src, n);
    }
  }


 private:
  static constexpr char kDigitPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";

  // The eight decimal digits of `x` < 10^8, leading zeros included, as
  // byte values 0-9 in memory order (the first digit in the lowest byte):
  // all eight at once in the lanes of one 64-bit word (SWAR). The two
  // halves of four digits in 32-bit lanes, each split by 100 in 16-bit
  // lanes, each of those by 10 in bytes. The multiplications by 10486 /
  // 2^20 and 103 / 2^10 are exact divisions by 100 and 10 below 43,690
  // and 179, and no lane's product reaches the next lane.
  static uint64_t eight_digits(uint32_t x) {
    const uint64_t high4 = x / 10000, low4 = x - high4 * 10000;
    const uint64_t fours = high4 | low4 << 32;
    const uint64_t hundreds = ((fours * 10486) >> 20) & 0x0000007F0000007Full;
    const uint64_t pairs = (fours - 100 * hundreds) << 16 | hundreds;
    const uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000Full;
    return tens | (pairs - 10 * tens) << 8;
  }
  // Stores the eight digits of `digits` (eight_digits()) as text at `p`.
  static char* store_digits(char* p, uint64_t digits) {
    digits += 0x3030303030303030ull;
    std::memcpy(p, &digits, 8);
    return p + 8;
  }
  // Writes `x` > 0 at `p` without leading zeros; returns its end. Stores
  // whole 8-byte words: up to 8 bytes past `p` are written even for a
  // shorter number (REQUIRES: room for 10 bytes).
  static char* write_u32(char* p, uint32_t x) {
    if (x >= 100000000) {
      const uint32_t high = x / 100000000;  // at most 42
      x -= high * 100000000;
      if (high >= 10) {
        std::memcpy(p, kDigitPairs + high * 2, 2);
        p += 2;
      } else {
        *p++ = static_cast<char>('0' + high);
      }
      return store_digits(p, eight_digits(x));
    }
    // The leading zeros are the low zero bytes of the digits' word: shifted
    // out, and the rest stored as one word.
    const uint64_t digits = eight_digits(x);
    const unsigned zeros = static_cast<unsigned>(__builtin_ctzll(digits)) / 8;  // digits != 0 as x > 0
    const uint64_t text = (digits + 0x3030303030303030ull) >> (8 * zeros);
    std::memcpy(p, &text, 8);
    return p + 8 - zeros;
  }

  // Makes room for `more` bytes past the end (at least doubling).
  [[gnu::noinline]] void grow(size_t more) {
    const size_t used = size(), cap = static_cast<size_t>(cap_ - data_.get());
    size_t want = cap < 256 ? 256 : cap * 2;
    while (want < used + more) want *= 2;
    std::unique_ptr<char[]> bigger(new char[want]);
    if (used != 0) std::memcpy(bigger.get(), data_.get(), used);
    data_ = std::move(bigger);
    end_ = data_.get() + used;
    cap_ = data_.get() + want;
  }

  std::unique_ptr<char[]> data_;
  char* end_ = nullptr;
  char* cap_ = nullptr;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_TEXT_BUFFER_H_
