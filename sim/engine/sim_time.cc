#include "sim/engine/sim_time.h"

#include <fmt/format.h>

#include <charconv>

namespace ctsim {

uint64_t TimeBase::jiffies_at(SimTime t) const {
  const unsigned __int128 ticks = static_cast<unsigned __int128>(t) * hz / kNsPerSec;
  return initial_jiffies + static_cast<uint64_t>(ticks);
}

SimTime TimeBase::time_of_jiffies(uint64_t j) const {
  if (j <= initial_jiffies) return 0;
  const unsigned __int128 k = j - initial_jiffies;
  const unsigned __int128 t = (k * kNsPerSec + hz - 1) / hz;  // ceil
  return static_cast<SimTime>(t);
}

namespace {

// A decimal number with up to 9 fractional digits, as (integer, nano part).
bool parse_decimal(std::string_view s, uint64_t* whole, uint64_t* frac_nano) {
  if (s.empty()) return false;
  size_t dot = s.find('.');
  std::string_view w = s.substr(0, dot);
  std::string_view f = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (w.empty() && f.empty()) return false;
  if (dot != std::string_view::npos && f.empty()) return false;
  *whole = 0;
  if (!w.empty()) {
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), *whole);
    if (ec != std::errc{} || p != w.data() + w.size()) return false;
  }
  if (f.size() > 9) return false;
  uint64_t frac = 0;
  for (char c : f) {
    if (c < '0' || c > '9') return false;
    frac = frac * 10 + static_cast<uint64_t>(c - '0');
  }
  for (size_t i = f.size(); i < 9; ++i) frac *= 10;
  *frac_nano = frac;
  return true;
}

}  // namespace

Parsed<SimTime> parse_duration(std::string_view text, uint32_t hz) {
  if (text.rfind("j:", 0) == 0) {
    std::string_view num = text.substr(2);
    uint64_t j = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), j);
    if (num.empty() || ec != std::errc{} || p != num.data() + num.size() || j > (1ull << 40)) {
      return ParseError{fmt::format("\"{}\" is not a jiffies count (expected j:N)", text), 0};
    }
    return static_cast<SimTime>(static_cast<unsigned __int128>(j) * kNsPerSec / hz);
  }
  struct Unit {
    const char* suffix;
    uint64_t ns;
  };
  static const Unit kUnits[] = {{"min", 60ull * kNsPerSec},
                                {"ns", 1},
                                {"us", 1000},
                                {"ms", 1000000},
                                {"s", kNsPerSec},
                                {"h", 3600ull * kNsPerSec},
                                {"d", 86400ull * kNsPerSec}};
  for (const Unit& u : kUnits) {
    std::string_view suf(u.suffix);
    if (text.size() > suf.size() && text.substr(text.size() - suf.size()) == suf) {
      std::string_view num = text.substr(0, text.size() - suf.size());
      uint64_t whole = 0, frac = 0;
      if (!parse_decimal(num, &whole, &frac)) break;
      const unsigned __int128 ns =
          static_cast<unsigned __int128>(whole) * u.ns + static_cast<unsigned __int128>(frac) * u.ns / kNsPerSec;
      if (ns > static_cast<unsigned __int128>(400ull * 86400 * kNsPerSec)) {
        return ParseError{fmt::format("\"{}\" is longer than the 400 days a run may span", text), 0};
      }
      return static_cast<SimTime>(ns);
    }
  }
  return ParseError{fmt::format("\"{}\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, "
                                "e.g. \"250ms\", or jiffies as \"j:N\")",
                                text),
                    0};
}

Parsed<uint64_t> parse_rate_nano(std::string_view text) {
  constexpr std::string_view kSuffix = "/s";
  uint64_t whole = 0, frac = 0;
  if (text.size() > kSuffix.size() && text.substr(text.size() - kSuffix.size()) == kSuffix &&
      parse_decimal(text.substr(0, text.size() - kSuffix.size()), &whole, &frac)) {
    const unsigned __int128 r = static_cast<unsigned __int128>(whole) * kNsPerSec + frac;
    if (r == 0 || r > static_cast<unsigned __int128>(1'000'000'000ull) * kNsPerSec) {
      return ParseError{fmt::format("rate \"{}\" must be above 0/s and at most 1e9/s", text), 0};
    }
    return static_cast<uint64_t>(r);
  }
  return ParseError{fmt::format("\"{}\" is not a rate (expected \"N/s\", e.g. \"100/s\")", text), 0};
}

std::string format_duration(SimTime t) { return fmt::format("{}.{:09}s", t / kNsPerSec, t % kNsPerSec); }

}  // namespace ctsim
