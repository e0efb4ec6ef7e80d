#include "sim/verify/conntrack_line.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "sim/output/conntrack_tool_format.h"

namespace ctsim::verify {

namespace {

struct Field {
  size_t begin, end;  // [begin, end) in the line
};

std::vector<Field> fields_of(std::string_view line) {
  std::vector<Field> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    const size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    out.push_back({b, i});
  }
  return out;
}

std::optional<uint32_t> decimal(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  uint32_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// Line `index` of conntrack -E's ENOBUFS warning, or "" past its end.
std::string_view enobufs_line(size_t index) {
  std::string_view msg = kEnobufsMessage;
  for (size_t i = 0; i < index; ++i) {
    const size_t nl = msg.find('\n');
    if (nl == std::string_view::npos) return {};
    msg.remove_prefix(nl + 1);
  }
  return msg.substr(0, msg.find('\n'));
}

}  // namespace

ConntrackLine parse_conntrack_line(std::string_view line) {
  using Kind = ConntrackLine::Kind;
  ConntrackLine out;
  out.key = line;
  if (line == enobufs_line(0)) {
    out.kind = Kind::kEnobufs;
    return out;
  }
  for (size_t i = 1; !enobufs_line(i).empty(); ++i)
    if (line == enobufs_line(i)) {
      out.kind = Kind::kEnobufsMore;
      return out;
    }
  const std::vector<Field> f = fields_of(line);
  auto text = [&](size_t i) { return line.substr(f[i].begin, f[i].end - f[i].begin); };
  size_t proto = 0;  // the field holding the protocol's name
  Kind kind = Kind::kTable;
  if (!f.empty() && line[f[0].begin] == '[') {
    const std::string_view tag = text(0);
    if (tag == "[NEW]")
      kind = Kind::kNew;
    else if (tag == "[UPDATE]")
      kind = Kind::kUpdate;
    else if (tag == "[DESTROY]")
      kind = Kind::kDestroy;
    else
      return out;  // kOther
    proto = 1;
  }
  // The protocol's name and number: without them this is no conntrack line.
  if (f.size() < proto + 3 || !decimal(text(proto + 1))) return out;
  out.kind = kind;
  if (const std::optional<uint32_t> t = decimal(text(proto + 2))) {
    out.timeout = t;
    out.key.assign(line.substr(0, f[proto + 2].begin)).append("*").append(line.substr(f[proto + 2].end));
  }
  return out;
}

const char* conntrack_line_kind_name(ConntrackLine::Kind k) {
  switch (k) {
    case ConntrackLine::Kind::kNew: return "NEW";
    case ConntrackLine::Kind::kUpdate: return "UPDATE";
    case ConntrackLine::Kind::kDestroy: return "DESTROY";
    case ConntrackLine::Kind::kEnobufs:
    case ConntrackLine::Kind::kEnobufsMore: return "ENOBUFS";
    case ConntrackLine::Kind::kTable: return "-L";
    case ConntrackLine::Kind::kOther: return "other";
  }
  return "?";
}

}  // namespace ctsim::verify
