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
  // CPUs, flags) is written inline; longer numbers out of line, two digits
  // a step from the end, each pair one 2-byte move.
  [[gnu::always_inline]] void append_uint(uint64_t v) {
    if (v < 10) {
      push_back(static_cast<char>('0' + v));
      return;
    }
    append_uint_long(v);
  }
  [[gnu::noinline]] void append_uint_long(uint64_t v) {
    const unsigned n = decimal_digits(v);
    if (static_cast<size_t>(cap_ - end_) < n) grow(n);
    char* p = end_ + n;
    end_ = p;
    while (v > UINT32_MAX) {
      const unsigned pair = static_cast<unsigned>(v % 100) * 2;
      v /= 100;
      p -= 2;
      std::memcpy(p, kDigitPairs + pair, 2);
    }
    // The rest (all of it for the usual hashes, sequence numbers, ids) in
    // 32-bit arithmetic: a shorter multiply per pair.
    uint32_t x = static_cast<uint32_t>(v);
    while (x >= 100) {
      const uint32_t q = x / 100;
      const uint32_t pair = (x - q * 100) * 2;
      x = q;
      p -= 2;
      std::memcpy(p, kDigitPairs + pair, 2);
    }
    if (x < 10) {
      p[-1] = static_cast<char>('0' + x);
    } else {
      std::memcpy(p - 2, kDigitPairs + x * 2, 2);
    }
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

  static unsigned decimal_digits(uint64_t v) {
    // floor(log10(v)) + 1 from the bit length (1233 / 4096 ~ log10(2)),
    // corrected by one comparison (Bit Twiddling Hacks' IntegerLog10).
    // v | 1 makes 0 one digit and changes no other comparison (the powers
    // of ten above 1 are even).
    static constexpr uint64_t kPow10[20] = {1ull,
                                            10ull,
                                            100ull,
                                            1000ull,
                                            10000ull,
                                            100000ull,
                                            1000000ull,
                                            10000000ull,
                                            100000000ull,
                                            1000000000ull,
                                            10000000000ull,
                                            100000000000ull,
                                            1000000000000ull,
                                            10000000000000ull,
                                            100000000000000ull,
                                            1000000000000000ull,
                                            10000000000000000ull,
                                            100000000000000000ull,
                                            1000000000000000000ull,
                                            10000000000000000000ull};
    const unsigned bits = 64 - static_cast<unsigned>(__builtin_clzll(v | 1));
    const unsigned t = (bits * 1233) >> 12;  // at most 19
    return t + 1 - ((v | 1) < kPow10[t] ? 1 : 0);
  }

 private:
  static constexpr char kDigitPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";

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
