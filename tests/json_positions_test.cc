// Where JSON values start (sim/scenario/json_positions.h): every scenario
// error names a line and column through it, so a wrong offset would point
// users at the wrong place.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/scenario/json_positions.h"

using ctsim::index_json_positions;
using ctsim::json_nesting_depth;
using ctsim::line_col_at;
using ctsim::line_cols_at;
using ctsim::LineCol;

namespace {

// "line:col" of pointer `ptr` in `text`, or "none".
std::string where(const std::string& text, const std::string& ptr) {
  const auto pos = index_json_positions(text);
  auto it = pos.find(ptr);
  if (it == pos.end()) return "none";
  const LineCol lc = line_col_at(text, it->second);
  return std::to_string(lc.line) + ":" + std::to_string(lc.col);
}

}  // namespace

TEST_CASE("line_col_at counts lines and byte columns from 1") {
  const std::string t = "ab\ncd\n\nx";
  CHECK(line_col_at(t, 0).line == 1);
  CHECK(line_col_at(t, 0).col == 1);
  CHECK(line_col_at(t, 2).col == 3);  // the newline itself is on line 1
  CHECK(line_col_at(t, 3).line == 2);
  CHECK(line_col_at(t, 3).col == 1);
  CHECK(line_col_at(t, 7).line == 4);
  // Past the end: where the text ends.
  CHECK(line_col_at(t, 100).line == 4);
  CHECK(line_col_at(t, 100).col == 2);
  // Many offsets at once agree with one at a time.
  const std::vector<size_t> offsets = {0, 0, 2, 4, 6, 7, 100};
  const std::vector<LineCol> all = line_cols_at(t, offsets);
  REQUIRE(all.size() == offsets.size());
  for (size_t i = 0; i < offsets.size(); ++i) {
    CAPTURE(offsets[i]);
    CHECK(all[i].line == line_col_at(t, offsets[i]).line);
    CHECK(all[i].col == line_col_at(t, offsets[i]).col);
  }
}

TEST_CASE("members, keys and array elements, nested") {
  const std::string t =
      "{\n"
      "  \"a\": 1,\n"
      "  \"list\": [10, [20, {\"deep\": true}], \"x\"],\n"
      "  \"o\": {\"k\": null}\n"
      "}";
  CHECK(where(t, "") == "1:1");
  CHECK(where(t, "/a") == "2:8");
  CHECK(where(t, "/a#key") == "2:3");
  CHECK(where(t, "/list") == "3:11");
  CHECK(where(t, "/list/0") == "3:12");
  CHECK(where(t, "/list/1") == "3:16");
  CHECK(where(t, "/list/1/0") == "3:17");
  CHECK(where(t, "/list/1/1") == "3:21");
  CHECK(where(t, "/list/1/1/deep") == "3:30");
  CHECK(where(t, "/list/2") == "3:38");
  CHECK(where(t, "/o/k") == "4:14");
  CHECK(where(t, "/list/3") == "none");
  CHECK(where(t, "/b") == "none");
}

TEST_CASE("escapes and UTF-8 in strings: an escaped quote in a key, columns in bytes") {
  // "é" is two bytes (columns count bytes); an escaped quote or backslash
  // does not end a string, and a key's \" is the pointer's ".
  const std::string t = "{\"n\\\"ame\": \"\xc3\xa9\\\\\", \"\xc3\xa9t\xc3\xa9\": 2, \"u\": \"\\u00e9\", \"z\": 3}";
  CHECK(where(t, "/n\"ame") == "1:12");
  CHECK(where(t, "/\xc3\xa9t\xc3\xa9") == "1:29");
  CHECK(where(t, "/u") == "1:37");
  CHECK(where(t, "/z") == "1:52");
}

TEST_CASE("pointer tokens escape ~ and / (RFC 6901)") {
  const std::string t = "{\"a/b\": 1, \"c~d\": 2}";
  CHECK(where(t, "/a~1b") == "1:9");
  CHECK(where(t, "/c~0d") == "1:19");
  CHECK(where(t, "/a/b") == "none");
}

TEST_CASE("duplicate keys are reported by pointer, the later one kept") {
  std::vector<std::string> dups;
  const std::string t = "{\"a\": 1, \"o\": {\"b\": 1, \"b\": 2}, \"a\": 3}";
  const auto pos = index_json_positions(t, &dups);
  CHECK(dups == std::vector<std::string>{"/o/b", "/a"});
  CHECK(pos.at("/a") == t.rfind('3'));
}

TEST_CASE("bad JSON is indexed up to where it breaks") {
  const auto pos = index_json_positions("{\"a\": [1, 2,, \"b\": 3}");
  CHECK(pos.count("/a/1") == 1);
  CHECK(pos.count("/b") == 0);
}

TEST_CASE("json_nesting_depth finds the deepest point, ignoring brackets in strings") {
  const auto d = json_nesting_depth("{\"s\": \"[[[[\", \"a\": [[1], [[2]]]}");
  CHECK(d.max == 4);
  CHECK(d.offset == 26);
  CHECK(json_nesting_depth("1").max == 0);
  CHECK(json_nesting_depth("[\"\\\"[\"]").max == 1);
}
