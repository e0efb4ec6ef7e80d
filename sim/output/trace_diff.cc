#include "sim/output/trace_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

namespace ctsim {

namespace {

using Json = nlohmann::ordered_json;
using Outcome = TraceDiffResult::Outcome;

constexpr size_t kShownChars = 240;  // a context line longer than this is cut

// A record is kept as its text (a view into the file) plus what filtering
// and reporting need; it is parsed again only when compared, so memory
// stays close to the size of the files.
struct Record {
  size_t line = 0;  // 1-based line in its file
  std::string_view text;
  int64_t t = -1;    // -1: no integer "t"
  std::string kind;  // "" for the header
};

struct Trace {
  std::string_view name;
  Json header;
  std::vector<Record> records;  // after filtering
};

TraceDiffResult bad(std::string msg) {
  TraceDiffResult r;
  r.outcome = Outcome::kBadInput;
  r.report = std::move(msg);
  return r;
}

// Splits `text` into lines and checks that each is a JSON object; keeps
// the first line parsed in *header. The last line may lack its newline; an
// empty line anywhere else is an error.
std::optional<std::string> parse_lines(std::string_view text, std::string_view name, std::vector<Record>* out,
                                       Json* header) {
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    ++line;
    size_t nl = text.find('\n', pos);
    const bool last = nl == std::string_view::npos;
    std::string_view s = text.substr(pos, last ? std::string_view::npos : nl - pos);
    pos = last ? text.size() : nl + 1;
    Record r;
    r.line = line;
    r.text = s;
    Json j;
    try {
      j = Json::parse(s);
    } catch (const Json::exception& e) {
      return fmt::format("{}:{}: not a JSON line{}: {}", name, line,
                         last ? " (the file ends in the middle of a record: truncated?)" : "", e.what());
    }
    if (!j.is_object()) return fmt::format("{}:{}: not a JSON object", name, line);
    if (auto t = j.find("t"); t != j.end() && t->is_number_integer()) r.t = t->get<int64_t>();
    if (auto k = j.find("kind"); k != j.end() && k->is_string()) r.kind = k->get<std::string>();
    if (line == 1) *header = std::move(j);
    out->push_back(std::move(r));
  }
  return std::nullopt;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string shown(std::string_view s) {
  if (s.size() <= kShownChars) return std::string(s);
  return fmt::format("{}... ({} more characters)", s.substr(0, kShownChars), s.size() - kShownChars);
}

std::string value_text(const Json* v) {
  if (v == nullptr) return "(absent)";
  return shown(v->dump());
}

// The first field where a and b differ, or nullopt. For nested values the
// field is named by a JSON pointer below the key ("stats/found").
struct FieldDiff {
  std::string field;
  std::string expected, actual;
};

std::optional<FieldDiff> first_field_diff(const Json& a, const Json& b, const TraceDiffOptions& o) {
  auto nested = [](const std::string& key, const Json& x, const Json& y) -> FieldDiff {
    if (x.is_structured() && y.is_structured() && x.type() == y.type()) {
      const Json patch = Json::diff(x, y);
      if (!patch.empty()) {
        const std::string path = patch[0].value("path", "");
        const Json::json_pointer ptr(path);
        const Json* xv = x.contains(ptr) ? &x.at(ptr) : nullptr;
        const Json* yv = y.contains(ptr) ? &y.at(ptr) : nullptr;
        return {key + path, value_text(xv), value_text(yv)};
      }
    }
    return {key, value_text(&x), value_text(&y)};
  };
  for (const auto& [key, va] : a.items()) {
    if (contains(o.ignore_fields, key)) continue;
    auto it = b.find(key);
    if (it == b.end()) return FieldDiff{key, value_text(&va), "(absent)"};
    if (va != *it) return nested(key, va, *it);
  }
  for (const auto& [key, vb] : b.items()) {
    if (contains(o.ignore_fields, key)) continue;
    if (!a.contains(key)) return FieldDiff{key, "(absent)", value_text(&vb)};
  }
  return std::nullopt;
}

std::string describe_time(int64_t t) {
  if (t < 0) return "t=?";
  return fmt::format("t={} ({})", t, format_duration(t));
}

void append_context(std::string& out, const Trace& tr, size_t k, int context) {
  const size_t lo = k >= static_cast<size_t>(context) ? k - context : 0;
  const size_t hi = std::min(tr.records.size(), k + context + 1);
  out += fmt::format("  {}:\n", tr.name);
  if (lo == hi) out += "    (no records)\n";
  for (size_t i = lo; i < hi; ++i) {
    const Record& r = tr.records[i];
    out += fmt::format("  {} #{} line {}: {}\n", i == k ? '>' : ' ', i + 1, r.line, shown(r.text));
  }
  if (k >= tr.records.size()) out += fmt::format("  > #{}: (end of trace)\n", k + 1);
}

}  // namespace

TraceDiffResult diff_trace_text(std::string_view expected, std::string_view actual, std::string_view expected_name,
                                std::string_view actual_name, const TraceDiffOptions& o) {
  Trace tr[2];
  tr[0].name = expected_name;
  tr[1].name = actual_name;
  std::vector<Record> all[2];
  const std::string_view texts[2] = {expected, actual};
  for (int s = 0; s < 2; ++s) {
    if (auto err = parse_lines(texts[s], tr[s].name, &all[s], &tr[s].header)) return bad(*err);
    if (all[s].empty()) return bad(fmt::format("{}: empty file: no trace header", tr[s].name));
    auto v = tr[s].header.find("ctsim_trace");
    if (v == tr[s].header.end() || !v->is_number_integer())
      return bad(fmt::format("{}:1: missing trace header (a first line with \"ctsim_trace\": VERSION)", tr[s].name));
  }
  const int64_t v0 = tr[0].header["ctsim_trace"].get<int64_t>();
  const int64_t v1 = tr[1].header["ctsim_trace"].get<int64_t>();
  if (v0 != v1)
    return bad(
        fmt::format("{} is trace schema {} but {} is schema {}: traces of different schema "
                    "versions cannot be compared; regenerate one of them",
                    tr[0].name, v0, tr[1].name, v1));

  // The time window, read with the expected trace's HZ (for "j:N").
  const uint32_t hz = tr[0].header.value("hz", 250u);
  SimTime from = 0, to = INT64_MAX;
  for (auto [text, dst, opt] : {std::tuple{&o.from, &from, "--from"}, std::tuple{&o.to, &to, "--to"}}) {
    if (text->empty()) continue;
    auto t = parse_duration(*text, hz);
    if (!t) return bad(fmt::format("{} {}: {}", opt, *text, t.error().what));
    *dst = *t;
  }

  for (int s = 0; s < 2; ++s) {
    for (size_t i = 1; i < all[s].size(); ++i) {
      Record& r = all[s][i];
      if (r.kind.empty()) return bad(fmt::format("{}:{}: record without a \"kind\"", tr[s].name, r.line));
      if (contains(o.ignore_kinds, r.kind)) continue;
      if (r.t >= 0 && (r.t < from || r.t > to)) continue;
      tr[s].records.push_back(std::move(r));
    }
  }

  TraceDiffResult res;
  if (auto d = first_field_diff(tr[0].header, tr[1].header, o)) {
    res.outcome = Outcome::kDifferent;
    res.report = fmt::format("traces differ in the header (line 1): field \"{}\": expected {}, actual {}\n", d->field,
                             d->expected, d->actual);
    return res;
  }
  const size_t n = std::max(tr[0].records.size(), tr[1].records.size());
  for (size_t k = 0; k < n; ++k) {
    const Record* a = k < tr[0].records.size() ? &tr[0].records[k] : nullptr;
    const Record* b = k < tr[1].records.size() ? &tr[1].records[k] : nullptr;
    std::string what;
    if (a == nullptr || b == nullptr) {
      const Trace& shorter = a == nullptr ? tr[0] : tr[1];
      const Record& more = a == nullptr ? *b : *a;
      what = fmt::format(
          "traces differ at record #{}: {} ends after {} records; the other continues at "
          "{} (line {}) with kind \"{}\"\n",
          k + 1, shorter.name, k, describe_time(more.t), more.line, more.kind);
    } else if (auto d = a->text == b->text ? std::nullopt
                                           : first_field_diff(Json::parse(a->text), Json::parse(b->text), o)) {
      what = fmt::format(
          "traces differ at record #{} (expected line {}, actual line {}), {}, kind \"{}\":\n"
          "  field \"{}\": expected {}, actual {}\n",
          k + 1, a->line, b->line, describe_time(a->t), a->kind, d->field, d->expected, d->actual);
    } else {
      ++res.compared;
      continue;
    }
    res.outcome = Outcome::kDifferent;
    res.report = what + "context:\n";
    append_context(res.report, tr[0], k, o.context);
    append_context(res.report, tr[1], k, o.context);
    return res;
  }
  return res;
}

TraceDiffResult diff_trace_files(const std::string& expected_path, const std::string& actual_path,
                                 const TraceDiffOptions& options) {
  std::string text[2];
  const std::string* paths[2] = {&expected_path, &actual_path};
  for (int s = 0; s < 2; ++s) {
    std::ifstream in(*paths[s], std::ios::binary);
    if (!in) return bad(fmt::format("{}: cannot read", *paths[s]));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return bad(fmt::format("{}: read error", *paths[s]));
    text[s] = ss.str();
  }
  return diff_trace_text(text[0], text[1], expected_path, actual_path, options);
}

}  // namespace ctsim
