// The loader's error collector (sim/scenario/scenario_checker.h) on its
// own: each check returns the value or records one error at the pointer it
// was given, with what was found and what was expected.
#include <doctest/doctest.h>

// GCC 12's -Warray-bounds false positive in std::map::begin() under inlined
// nlohmann::json iteration (see sim/scenario/scenario_load.h).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario_checker.h"

using ctsim::Checker;
using nlohmann::json;

namespace {

// The one error a check recorded, as "pointer: message".
std::string only_error(const Checker& c) {
  REQUIRE(c.errors().size() == 1);
  return c.errors()[0].pointer + ": " + c.errors()[0].message;
}

}  // namespace

TEST_CASE("did_you_mean suggests the nearest choice within one edit per three letters") {
  const std::vector<std::string> words = {"packets", "flows", "actions"};
  CHECK(ctsim::did_you_mean("pakets", words) == " (did you mean \"packets\"?)");
  CHECK(ctsim::did_you_mean("flosw", words) == " (did you mean \"flows\"?)");  // a swap is one edit
  CHECK(ctsim::did_you_mean("zzzzzz", words).empty());
  CHECK(ctsim::did_you_mean("x", {}).empty());
}

TEST_CASE("pointer_token and type_name") {
  CHECK(ctsim::pointer_token("a/b~c") == "a~1b~0c");
  CHECK(ctsim::type_name(json("x")) == "the string \"x\"");
  CHECK(ctsim::type_name(json(-5)) == "the number -5");
  CHECK(ctsim::type_name(json(1.5)) == "the number 1.5");
  CHECK(ctsim::type_name(json::object()) == "an object");
  CHECK(ctsim::type_name(json::array()) == "an array");
  CHECK(ctsim::type_name(json(true)) == "a boolean");
  CHECK(ctsim::type_name(json(nullptr)) == "null");
}

TEST_CASE("a value of the right type and range passes without an error") {
  Checker c;
  CHECK(c.is_object(json::object(), "/o"));
  CHECK(c.is_array(json::array(), "/a"));
  CHECK(c.string(json("s"), "/s") == std::optional<std::string>("s"));
  CHECK(c.boolean(json(false), "/b") == std::optional<bool>(false));
  CHECK(c.uint(json(7), "/u", 7, 7) == std::optional<uint64_t>(7));
  CHECK(c.duration(json("250ms"), "/d", 250) == std::optional<ctsim::SimTime>(250'000'000));
  CHECK(c.one_of(json("b"), "/e", {"a", "b"}) == std::optional<std::string>("b"));
  CHECK(c.name(json("ns-1.a_b"), "/n") == std::optional<std::string>("ns-1.a_b"));
  CHECK(c.ok());
}

TEST_CASE("each wrong value records one error at its pointer") {
  struct Bad {
    std::function<void(Checker&)> check;
    const char* error;
  };
  const Bad kBad[] = {
      {[](Checker& c) { CHECK_FALSE(c.is_object(json::array(), "/o")); }, "/o: expected an object, found an array"},
      {[](Checker& c) { CHECK_FALSE(c.is_array(json(1), "/a")); }, "/a: expected an array, found the number 1"},
      {[](Checker& c) { CHECK_FALSE(c.string(json(1), "/s")); }, "/s: expected a string, found the number 1"},
      {[](Checker& c) { CHECK_FALSE(c.boolean(json("yes"), "/b")); },
       "/b: expected true or false, found the string \"yes\""},
      {[](Checker& c) { CHECK_FALSE(c.uint(json(11), "/u", 1, 10)); }, "/u: 11 is out of range 1..10"},
      {[](Checker& c) { CHECK_FALSE(c.uint(json(-1), "/u", 0, 10)); }, "/u: -1 is out of range 0..10"},
      {[](Checker& c) { CHECK_FALSE(c.uint(json(1.5), "/u", 0, 10)); },
       "/u: expected a whole number 0..10, found the number 1.5"},
      {[](Checker& c) { CHECK_FALSE(c.duration(json("10"), "/d", 250)); },
       "/d: \"10\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, e.g. \"250ms\", or "
       "jiffies as \"j:N\")"},
      {[](Checker& c) {
         CHECK_FALSE(c.one_of(json("drp"), "/e", {"accept", "drop"}));
       },
       "/e: \"drp\" is not one of accept, drop (did you mean \"drop\"?)"},
      {[](Checker& c) { CHECK_FALSE(c.name(json("a b"), "/n")); },
       "/n: the string \"a b\", whose byte 2 is ' '; expected a name of 1 to 32 letters, digits, '_', '.' or '-'"},
      {[](Checker& c) { CHECK_FALSE(c.name(json(std::string(33, 'a')), "/n")); },
       "/n: a name of 33 characters; expected a name of 1 to 32 letters, digits, '_', '.' or '-'"},
  };
  for (const Bad& b : kBad) {
    CAPTURE(b.error);
    Checker c;
    b.check(c);
    CHECK_FALSE(c.ok());
    CHECK(only_error(c) == b.error);
    CHECK_FALSE(c.errors()[0].at_key);
  }
}

TEST_CASE("only_keys reports each unknown key at the key, with a hint") {
  Checker c;
  c.only_keys(json::parse(R"({"hz": 1, "sead": 2, "a/b": 3})"), "/x", {"hz", "seed"});
  REQUIRE(c.errors().size() == 2);
  // nlohmann::json objects iterate in key order.
  CHECK(c.errors()[0].pointer == "/x/a~1b");
  CHECK(c.errors()[0].message == "unknown key \"a/b\"");
  CHECK(c.errors()[1].pointer == "/x/sead");
  CHECK(c.errors()[1].message == "unknown key \"sead\" (did you mean \"seed\"?)");
  CHECK(c.errors()[0].at_key);
  CHECK(c.errors()[1].at_key);
}

TEST_CASE("required_keys reads the key table's required column") {
  Checker c;
  c.required_keys(json::parse(R"({"verdict": "drop"})"), "/rules/0", "/rules/*");
  CHECK(only_error(c) == "/rules/0: missing \"hook\" (prerouting, input, forward, output or postrouting)");
  Checker both;
  both.required_keys(json::object(), "/packets/3", "/packets/*");
  REQUIRE(both.errors().size() == 2);
  CHECK(both.errors()[0].message == "missing \"at\" (when the packet arrives, e.g. \"1ms\")");
  CHECK(both.errors()[1].message.rfind("missing \"pkt\" (the packet", 0) == 0);
  Checker none;
  none.required_keys(json::object(), "/table", "/table");
  CHECK(none.ok());
}

TEST_CASE("errors accumulate in the order they are recorded") {
  Checker c;
  c.error("/b", "second?");
  c.error("/a", "first?", true);
  REQUIRE(c.errors().size() == 2);
  CHECK(c.errors()[0].pointer == "/b");
  CHECK(c.errors()[1].pointer == "/a");
  CHECK(c.errors()[1].at_key);
}
