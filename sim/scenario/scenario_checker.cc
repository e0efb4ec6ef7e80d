#include "sim/scenario/scenario_checker.h"

// GCC 12's -Warray-bounds false positive under inlined nlohmann::json
// object lookups (see sim/scenario/scenario_load.h).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "sim/scenario/scenario_keys.h"

namespace ctsim {

using nlohmann::json;

namespace {

// Optimal string alignment distance: edits are insert, delete, substitute
// and swapping two neighbours ("tpc" is one edit from "tcp").
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const std::string& c : choices) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // One edit per three letters, at least one: close enough to be a typo.
  if (!best.empty() && best_d <= std::max<size_t>(1, word.size() / 3))
    return fmt::format(" (did you mean \"{}\"?)", best);
  return "";
}

// A JSON pointer's reference token for an object key (RFC 6901: "~" is
// "~0", "/" is "~1").
std::string pointer_token(const std::string& key) {
  std::string r;
  for (char ch : key) {
    if (ch == '~')
      r += "~0";
    else if (ch == '/')
      r += "~1";
    else
      r += ch;
  }
  return r;
}

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return fmt::format("the string \"{}\"", j.get<std::string>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return fmt::format("the number {}", j.dump());
    case json::value_t::number_float: return fmt::format("the number {}", j.dump());
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    default: return "a value";
  }
}

void Checker::only_keys(const json& obj, const std::string& ptr, const std::vector<std::string>& known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      error(ptr + "/" + pointer_token(it.key()),
            fmt::format("unknown key \"{}\"{}", it.key(), did_you_mean(it.key(), known)), true);
    }
  }
}

bool Checker::is_object(const json& j, const std::string& ptr) {
  if (j.is_object()) return true;
  error(ptr, fmt::format("expected an object, found {}", type_name(j)));
  return false;
}

bool Checker::is_array(const json& j, const std::string& ptr) {
  if (j.is_array()) return true;
  error(ptr, fmt::format("expected an array, found {}", type_name(j)));
  return false;
}

std::optional<std::string> Checker::string(const json& j, const std::string& ptr) {
  if (j.is_string()) return j.get<std::string>();
  error(ptr, fmt::format("expected a string, found {}", type_name(j)));
  return std::nullopt;
}

std::optional<bool> Checker::boolean(const json& j, const std::string& ptr) {
  if (j.is_boolean()) return j.get<bool>();
  error(ptr, fmt::format("expected true or false, found {}", type_name(j)));
  return std::nullopt;
}

std::optional<uint64_t> Checker::uint(const json& j, const std::string& ptr, uint64_t lo, uint64_t hi) {
  if (!j.is_number_integer()) {
    error(ptr, fmt::format("expected a whole number {}..{}, found {}", lo, hi, type_name(j)));
    return std::nullopt;
  }
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v >= lo && v <= hi) return v;
  } else {
    int64_t v = j.get<int64_t>();
    if (v >= 0 && static_cast<uint64_t>(v) >= lo && static_cast<uint64_t>(v) <= hi) return static_cast<uint64_t>(v);
  }
  error(ptr, fmt::format("{} is out of range {}..{}", j.dump(), lo, hi));
  return std::nullopt;
}

std::optional<SimTime> Checker::duration(const json& j, const std::string& ptr, uint32_t hz) {
  auto s = string(j, ptr);
  if (!s) return std::nullopt;
  auto t = parse_duration(*s, hz);
  if (!t) {
    error(ptr, t.error().what);
    return std::nullopt;
  }
  return *t;
}

std::optional<std::string> Checker::one_of(const json& j, const std::string& ptr,
                                           const std::vector<std::string>& choices) {
  auto s = string(j, ptr);
  if (!s) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) list += (i ? ", " : "") + choices[i];
  error(ptr, fmt::format("\"{}\" is not one of {}{}", *s, list, did_you_mean(*s, choices)));
  return std::nullopt;
}

namespace {

bool is_name_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
         ch == '-';
}

}  // namespace

std::optional<std::string> Checker::name(const json& j, const std::string& ptr) {
  auto s = string(j, ptr);
  if (!s) return s;
  std::string found;
  if (s->empty()) {
    found = "the empty string";
  } else if (s->size() > kMaxNameLength) {
    found = fmt::format("a name of {} characters", s->size());
  } else if (auto bad = std::find_if_not(s->begin(), s->end(), is_name_char); bad != s->end()) {
    // A byte outside printable ASCII is shown by value: the message stays
    // readable (and valid UTF-8) whatever the name held.
    const auto b = static_cast<unsigned char>(*bad);
    found = fmt::format("{}, whose byte {} is {}", type_name(j), bad - s->begin() + 1,
                        b < 0x20 || b >= 0x7f ? fmt::format("0x{:02x}", b) : fmt::format("'{}'", *bad));
  } else {
    return s;
  }
  error(ptr, fmt::format("{}; expected a name of 1 to {} letters, digits, '_', '.' or '-'", found, kMaxNameLength));
  return std::nullopt;
}

void Checker::required_keys(const json& obj, const std::string& ptr, std::string_view level) {
  for (const std::string& key : scenario_required(level))
    if (!obj.contains(key)) error(ptr, scenario_missing_message(level, key));
}

}  // namespace ctsim
