// The one error shape of the inner text parsers (durations, rates, the
// packet notation, rule matches, endpoint ranges): what went wrong and
// where in the text. Callers that know where the text sits in a file add
// the file position and JSON pointer around it.
//
// Threading: value types.
#ifndef CTSIM_SIM_ENGINE_PARSE_RESULT_H_
#define CTSIM_SIM_ENGINE_PARSE_RESULT_H_

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace ctsim {

struct ParseError {
  std::string what;   // what was found and what was expected
  size_t column = 0;  // 0-based byte offset into the parsed text; 0 when the whole text is at fault
};

// A parsed value or the ParseError that stopped it (std::expected, which
// C++20 lacks). A failed result holds no value: reading one is a bug.
template <typename T>
class Parsed {
 public:
  Parsed(T value) : v_(std::in_place_index<0>, std::move(value)) {}           // NOLINT: implicit by design
  Parsed(ParseError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  // REQUIRES: !ok().
  const ParseError& error() const { return std::get<1>(v_); }

  // A result equals a value when it parsed to that value.
  friend bool operator==(const Parsed& p, const T& v) { return p.ok() && *p == v; }

 private:
  std::variant<T, ParseError> v_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_ENGINE_PARSE_RESULT_H_
