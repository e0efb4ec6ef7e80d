#include "sim/verify/run_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>

#include "sim/verify/conntrack_line.h"

namespace ctsim::verify {

namespace {

using Kind = ConntrackLine::Kind;

// "text" with its quotes and backslashes escaped.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

SimTime distance(SimTime x, SimTime y) { return x > y ? x - y : y - x; }

// The state of one comparison: the two records, their names, and where an
// entry goes.
struct Ctx {
  const RunRecord& a;
  const RunRecord& b;
  const CompareOptions& o;
  Comparison& c;
  std::string an, bn;  // the two sides' names in entries

  // A per-item difference: information only when comparing counts.
  void item(std::string s) {
    if (o.counts_only)
      c.information.push_back(std::move(s));
    else
      c.differences.push_back(std::move(s));
  }
  // A difference of totals: always a difference.
  void total(std::string s) { c.differences.push_back(std::move(s)); }
  // A difference within a tolerance.
  void tolerate(std::string s) {
    if (o.counts_only)
      c.information.push_back("tolerated: " + s);
    else
      c.tolerated.push_back("tolerated: " + s);
  }
};

// --- Packets ---

std::string describe(const PacketOutcome& p) {
  return fmt::format("packet {} at {} netns {} cpu {} {} {}", p.id, format_duration(p.at), p.netns, p.cpu, p.path,
                     quoted(p.pkt));
}

void compare_packets(Ctx& x) {
  std::map<uint64_t, std::pair<const PacketOutcome*, const PacketOutcome*>> by_id;
  for (const PacketOutcome& p : x.a.packets) by_id[p.id].first = &p;
  for (const PacketOutcome& p : x.b.packets) by_id[p.id].second = &p;
  x.c.packets = by_id.size();
  // Per namespace: packets accepted and dropped on each side.
  struct Counts {
    uint64_t accepted[2] = {0, 0}, dropped[2] = {0, 0};
  };
  std::map<std::string, Counts> counts;
  for (int side = 0; side < 2; ++side)
    for (const PacketOutcome& p : side == 0 ? x.a.packets : x.b.packets) {
      if (p.verdict == "accept") ++counts[p.netns].accepted[side];
      if (p.verdict == "drop") ++counts[p.netns].dropped[side];
    }
  for (const auto& [id, pair] : by_id) {
    const auto [pa, pb] = pair;
    if (pb == nullptr || pa == nullptr) {
      const PacketOutcome& p = pa != nullptr ? *pa : *pb;
      x.item(fmt::format("{}: only in {} (verdict {})", describe(p), pa != nullptr ? x.an : x.bn,
                         p.verdict.empty() ? "none" : p.verdict));
      continue;
    }
    std::string what;
    auto field = [&](const char* name, const std::string& va, const std::string& vb) {
      if (va == vb) return;
      if (!what.empty()) what += "; ";
      what += fmt::format("{}: {} {}, {} {}", name, x.an, quoted(va), x.bn, quoted(vb));
    };
    field("ct_state", pa->ct_state, pb->ct_state);
    field("verdict", pa->verdict, pb->verdict);
    field("by", pa->by, pb->by);
    if (!what.empty()) x.item(fmt::format("{}: {}", describe(*pa), what));
  }
  if (!x.o.counts_only) return;
  for (const auto& [netns, n] : counts) {
    if (n.accepted[0] != n.accepted[1])
      x.total(fmt::format("netns {}: packets accepted: {} {}, {} {}", netns, x.an, n.accepted[0], x.bn, n.accepted[1]));
    if (n.dropped[0] != n.dropped[1])
      x.total(fmt::format("netns {}: packets dropped: {} {}, {} {}", netns, x.an, n.dropped[0], x.bn, n.dropped[1]));
  }
}

// --- Tool lines ---

struct Line {
  SimTime at;
  const std::string* text;
  ConntrackLine parsed;
};

// Two lines agree: the same text but for a timeout at most 1 s apart
// (`*jitter` counts those that are 1 s apart).
bool same_line(const Line& p, const Line& q, size_t* jitter) {
  if (p.parsed.key != q.parsed.key) return false;
  if (p.parsed.timeout == q.parsed.timeout) return true;
  if (!p.parsed.timeout || !q.parsed.timeout) return false;
  if (std::abs(static_cast<int64_t>(*p.parsed.timeout) - static_cast<int64_t>(*q.parsed.timeout)) > 1) return false;
  ++*jitter;
  return true;
}

// Lines compared as multisets: equal keys pair up in time order (or
// timeout order when times are equal); returns the unpaired lines of each
// side and calls `paired` on each pair.
template <typename Paired>
void pair_multiset(const std::vector<Line>& la, const std::vector<Line>& lb, std::vector<const Line*>* only_a,
                   std::vector<const Line*>* only_b, Paired paired) {
  std::map<std::string_view, std::pair<std::vector<const Line*>, std::vector<const Line*>>> groups;
  for (const Line& l : la) groups[l.parsed.key].first.push_back(&l);
  for (const Line& l : lb) groups[l.parsed.key].second.push_back(&l);
  auto order = [](const Line* p, const Line* q) {
    return std::pair(p->at, p->parsed.timeout.value_or(0)) < std::pair(q->at, q->parsed.timeout.value_or(0));
  };
  for (auto& [key, g] : groups) {
    std::stable_sort(g.first.begin(), g.first.end(), order);
    std::stable_sort(g.second.begin(), g.second.end(), order);
    const size_t n = std::min(g.first.size(), g.second.size());
    for (size_t i = 0; i < n; ++i) paired(*g.first[i], *g.second[i]);
    for (size_t i = n; i < g.first.size(); ++i) only_a->push_back(g.first[i]);
    for (size_t i = n; i < g.second.size(); ++i) only_b->push_back(g.second[i]);
  }
  auto by_time = [](const Line* p, const Line* q) { return p->at < q->at; };
  std::stable_sort(only_a->begin(), only_a->end(), by_time);
  std::stable_sort(only_b->begin(), only_b->end(), by_time);
}

// Paired lines whose timeouts differ: more than 1 s is a difference; 1 s
// is counted in *jitter.
bool timeouts_agree(const Line& p, const Line& q, size_t* jitter) { return same_line(p, q, jitter); }

void report_jitter(Ctx& x, const std::string& where, size_t jitter) {
  if (jitter != 0)
    x.tolerate(fmt::format("{}: {} line{} whose timeout differs by 1 s (the live clock's jitter)", where, jitter,
                           jitter == 1 ? "" : "s"));
}

// --- Events ---

struct ListenerLines {
  std::vector<Line> ordered;   // NEW, UPDATE and unknown lines, in order
  std::vector<Line> destroys;  // DESTROY lines
  size_t enobufs = 0;          // ENOBUFS warnings
  size_t count[3] = {0, 0, 0};  // NEW, UPDATE, DESTROY
};

ListenerLines lines_of(const RunRecord& r, const std::string& listener) {
  ListenerLines out;
  for (const EventLine& e : r.events) {
    if (e.listener != listener) continue;
    Line l{e.at, &e.line, parse_conntrack_line(e.line)};
    switch (l.parsed.kind) {
      case Kind::kEnobufs: ++out.enobufs; break;
      case Kind::kEnobufsMore: break;
      case Kind::kDestroy:
        ++out.count[2];
        out.destroys.push_back(std::move(l));
        break;
      default:
        if (l.parsed.kind == Kind::kNew) ++out.count[0];
        if (l.parsed.kind == Kind::kUpdate) ++out.count[1];
        out.ordered.push_back(std::move(l));
        break;
    }
  }
  return out;
}

// NEW and UPDATE lines in order: past the common head and tail, every
// line of the middle on either side is listed against the other's.
void compare_ordered(Ctx& x, const std::string& listener, const std::vector<Line>& la, const std::vector<Line>& lb,
                     size_t* jitter) {
  size_t head = 0;
  while (head < la.size() && head < lb.size() && same_line(la[head], lb[head], jitter)) ++head;
  size_t tail = 0;
  while (tail < la.size() - head && tail < lb.size() - head &&
         same_line(la[la.size() - 1 - tail], lb[lb.size() - 1 - tail], jitter))
    ++tail;
  const size_t na = la.size() - head - tail, nb = lb.size() - head - tail;
  for (size_t i = 0; i < std::max(na, nb); ++i) {
    auto side = [&](const std::vector<Line>& l, size_t n) {
      return i < n ? fmt::format("{} (at {})", quoted(*l[head + i].text), format_duration(l[head + i].at))
                   : std::string("nothing");
    };
    x.item(fmt::format("listener {}: NEW/UPDATE line {}: {} {}, {} {}", listener, head + i + 1, x.an, side(la, na),
                       x.bn, side(lb, nb)));
  }
}

void compare_destroys(Ctx& x, const std::string& listener, const std::vector<Line>& la, const std::vector<Line>& lb,
                      size_t* jitter) {
  const SimTime g = x.o.gc_granularity;
  std::vector<const Line*> only_a, only_b;
  pair_multiset(la, lb, &only_a, &only_b, [&](const Line& p, const Line& q) {
    const std::string what = fmt::format("listener {}: DESTROY {}", listener, quoted(*p.text));
    if (!timeouts_agree(p, q, jitter))
      x.item(fmt::format("{}: {} {}, {} {}", what, x.an, quoted(*p.text), x.bn, quoted(*q.text)));
    const SimTime d = distance(p.at, q.at);
    if (d <= x.o.time_slack) return;
    const std::string times = fmt::format("at {} {}, {} {} ({} apart", x.an, format_duration(p.at), x.bn,
                                          format_duration(q.at), format_duration(d));
    if (d <= g)
      x.tolerate(fmt::format("{} {}, within the GC granularity {})", what, times, format_duration(g)));
    else
      x.item(fmt::format("{} {}, more than the GC granularity {})", what, times, format_duration(g)));
  });
  // A DESTROY on one side only: the other side's GC may not have come yet
  // if that run ended less than the GC granularity after it.
  auto unpaired = [&](const std::vector<const Line*>& only, const std::string& has, const std::string& lacks,
                      SimTime lacking_end) {
    for (const Line* l : only) {
      const std::string what = fmt::format("listener {}: DESTROY {} at {} only in {}", listener, quoted(*l->text),
                                           format_duration(l->at), has);
      if (lacking_end - l->at < g)
        x.tolerate(fmt::format("{}: {}'s run ended {} after it, within the GC granularity {}", what, lacks,
                               format_duration(std::max<SimTime>(lacking_end - l->at, 0)), format_duration(g)));
      else
        x.item(what);
    }
  };
  unpaired(only_a, x.an, x.bn, x.b.end);
  unpaired(only_b, x.bn, x.an, x.a.end);
}

// counts_only: the number of lines of each kind per listener. DESTROYs
// one side has more of are tolerated as long as that many of them came in
// the last GC granularity before the other side's end.
void compare_event_counts(Ctx& x, const std::string& listener, const ListenerLines& la, const ListenerLines& lb) {
  static const char* const kNames[] = {"NEW", "UPDATE", "DESTROY"};
  for (int k = 0; k < 3; ++k) {
    const size_t ca = la.count[k], cb = lb.count[k];
    if (ca == cb) continue;
    const std::string what =
        fmt::format("listener {}: {} lines: {} {}, {} {}", listener, kNames[k], x.an, ca, x.bn, cb);
    if (k == 2) {
      const bool a_more = ca > cb;
      const std::vector<Line>& more = a_more ? la.destroys : lb.destroys;
      const SimTime other_end = a_more ? x.b.end : x.a.end;
      const size_t late = static_cast<size_t>(std::count_if(
          more.begin(), more.end(), [&](const Line& l) { return other_end - l.at < x.o.gc_granularity; }));
      if ((a_more ? ca - cb : cb - ca) <= late) {
        x.c.tolerated.push_back(fmt::format("tolerated: {} (the extra ones came less than the GC granularity {} "
                                            "before the other run's end)",
                                            what, format_duration(x.o.gc_granularity)));
        continue;
      }
    }
    x.total(what);
  }
  if (la.enobufs != lb.enobufs)
    x.total(fmt::format("listener {}: ENOBUFS warnings: {} {}, {} {}", listener, x.an, la.enobufs, x.bn, lb.enobufs));
}

void compare_events(Ctx& x) {
  std::vector<std::string> names;  // in order of first appearance, a then b
  for (const RunRecord* r : {&x.a, &x.b})
    for (const EventLine& e : r->events)
      if (std::find(names.begin(), names.end(), e.listener) == names.end()) names.push_back(e.listener);
  x.c.listeners = names.size();
  x.c.event_lines = std::max(x.a.events.size(), x.b.events.size());
  for (const std::string& name : names) {
    const ListenerLines la = lines_of(x.a, name), lb = lines_of(x.b, name);
    size_t jitter = 0;
    compare_ordered(x, name, la.ordered, lb.ordered, &jitter);
    compare_destroys(x, name, la.destroys, lb.destroys, &jitter);
    if (!x.o.counts_only && la.enobufs != lb.enobufs)
      x.item(fmt::format("listener {}: ENOBUFS warnings: {} {}, {} {}", name, x.an, la.enobufs, x.bn, lb.enobufs));
    if (x.o.counts_only) compare_event_counts(x, name, la, lb);
    report_jitter(x, "listener " + name, jitter);
  }
}

// --- Dumps ---

std::string dump_name(const char* tool, const Dump& d) {
  return fmt::format("{} at {} netns {}", tool, format_duration(d.at), d.netns);
}

// The dumps of both sides, pairwise in order; `each` compares one pair.
template <typename Each>
void compare_dump_lists(Ctx& x, const char* tool, const std::vector<Dump>& da, const std::vector<Dump>& db,
                        Each each) {
  if (da.size() != db.size())
    x.total(fmt::format("{}: {} dumps in {}, {} in {}", tool, da.size(), x.an, db.size(), x.bn));
  for (size_t i = 0; i < std::min(da.size(), db.size()); ++i) {
    if (da[i].netns != db[i].netns) {
      x.total(fmt::format("{} dump {}: netns {} in {}, {} in {}", tool, i + 1, da[i].netns, x.an, db[i].netns, x.bn));
      continue;
    }
    each(da[i], db[i]);
  }
}

std::vector<Line> table_lines(const Dump& d) {
  std::vector<Line> out;
  for (const std::string& s : d.lines) out.push_back({d.at, &s, parse_conntrack_line(s)});
  return out;
}

void compare_snapshots(Ctx& x) {
  x.c.snapshots = std::max(x.a.snapshots.size(), x.b.snapshots.size());
  size_t jitter = 0;
  compare_dump_lists(x, "conntrack -L", x.a.snapshots, x.b.snapshots, [&](const Dump& p, const Dump& q) {
    const std::string where = dump_name("conntrack -L", p);
    if (x.o.counts_only && p.lines.size() != q.lines.size())
      x.total(fmt::format("{}: entries: {} {}, {} {}", where, x.an, p.lines.size(), x.bn, q.lines.size()));
    const std::vector<Line> la = table_lines(p), lb = table_lines(q);
    std::vector<const Line*> only_a, only_b;
    pair_multiset(la, lb, &only_a, &only_b, [&](const Line& l, const Line& m) {
      if (!timeouts_agree(l, m, &jitter))
        x.item(fmt::format("{}: timeout: {} {}, {} {}", where, x.an, quoted(*l.text), x.bn, quoted(*m.text)));
    });
    for (const Line* l : only_a) x.item(fmt::format("{}: only in {}: {}", where, x.an, quoted(*l->text)));
    for (const Line* l : only_b) x.item(fmt::format("{}: only in {}: {}", where, x.bn, quoted(*l->text)));
  });
  report_jitter(x, "conntrack -L", jitter);
}

// conntrack -S's counters of a dump summed over its CPU lines, in the order
// the lines name them ("found", "invalid", ...; "cpu" is not summed).
std::vector<std::pair<std::string, uint64_t>> summed_counters(const Dump& d) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const std::string& line : d.lines) {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const size_t b = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      const std::string_view field = std::string_view(line).substr(b, i - b);
      const size_t eq = field.find('=');
      if (eq == std::string_view::npos || field.substr(0, eq) == "cpu") continue;
      const std::string name(field.substr(0, eq));
      const uint64_t v = std::strtoull(std::string(field.substr(eq + 1)).c_str(), nullptr, 10);
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == name; });
      if (it == out.end())
        out.emplace_back(name, v);
      else
        it->second += v;
    }
  }
  return out;
}

void compare_stats(Ctx& x) {
  x.c.stats = std::max(x.a.stats.size(), x.b.stats.size());
  compare_dump_lists(x, "conntrack -S", x.a.stats, x.b.stats, [&](const Dump& p, const Dump& q) {
    const std::string where = dump_name("conntrack -S", p);
    for (size_t i = 0; i < std::max(p.lines.size(), q.lines.size()); ++i) {
      const std::string la = i < p.lines.size() ? quoted(p.lines[i]) : "nothing";
      const std::string lb = i < q.lines.size() ? quoted(q.lines[i]) : "nothing";
      if (la != lb) x.item(fmt::format("{}: line {}: {} {}, {} {}", where, i + 1, x.an, la, x.bn, lb));
    }
    if (!x.o.counts_only) return;
    const auto sa = summed_counters(p), sb = summed_counters(q);
    auto value = [](const std::vector<std::pair<std::string, uint64_t>>& s, const std::string& name) {
      for (const auto& [n, v] : s)
        if (n == name) return fmt::format("{}", v);
      return std::string("absent");
    };
    std::vector<std::string> names;
    for (const auto* s : {&sa, &sb})
      for (const auto& e : *s)
        if (std::find(names.begin(), names.end(), e.first) == names.end()) names.push_back(e.first);
    for (const std::string& name : names) {
      const std::string va = value(sa, name), vb = value(sb, name);
      if (va != vb) x.total(fmt::format("{}: {} (all CPUs): {} {}, {} {}", where, name, x.an, va, x.bn, vb));
    }
  });
}

}  // namespace

Comparison compare_runs(const RunRecord& a, const RunRecord& b, const CompareOptions& options) {
  Comparison c;
  Ctx x{a, b, options, c, a.source.empty() ? "ctsim" : a.source, b.source.empty() ? "kernel" : b.source};
  if (x.an == x.bn) {
    x.an += " (a)";
    x.bn += " (b)";
  }
  compare_packets(x);
  compare_events(x);
  compare_snapshots(x);
  compare_stats(x);
  c.agree = c.differences.empty();
  return c;
}

std::string format_comparison(const Comparison& c, const RunRecord& a, const RunRecord& b,
                              const CompareOptions& options) {
  // A section lists at most this many entries (a broken run can differ in
  // every packet); the count says how many there are.
  constexpr size_t kListed = 200;
  std::string out = fmt::format("compared: {} (reference) with {}{}\n", a.source.empty() ? "ctsim" : a.source,
                                b.source.empty() ? "kernel" : b.source, options.counts_only ? ", counts only" : "");
  out += fmt::format("  {} packets, {} event lines of {} listeners, {} conntrack -L dumps, {} conntrack -S dumps\n",
                     c.packets, c.event_lines, c.listeners, c.snapshots, c.stats);
  out += fmt::format("  GC granularity {}, same time within {}\n", format_duration(options.gc_granularity),
                     format_duration(options.time_slack));
  auto section = [&](const std::vector<std::string>& entries, std::string_view prefix) {
    for (size_t i = 0; i < std::min(entries.size(), kListed); ++i) {
      out += prefix;
      out += entries[i];
      out += '\n';
    }
    if (entries.size() > kListed) out += fmt::format("{}... {} more\n", prefix, entries.size() - kListed);
  };
  section(c.differences, "differs: ");
  section(c.tolerated, "");
  section(c.information, "info: ");
  if (c.agree)
    out += "result: agree\n";
  else
    out += fmt::format("result: {} difference{}\n", c.differences.size(), c.differences.size() == 1 ? "" : "s");
  return out;
}

}  // namespace ctsim::verify
