#include "sim/verify/run_record_files.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/output/output_file.h"
#include "sim/output/trace_writer.h"

namespace ctsim::verify {

namespace {

// The type word of an event line ("    [NEW] tcp ..." -> "NEW").
std::string event_type(const std::string& line) {
  const size_t a = line.find('['), b = line.find(']');
  return a != std::string::npos && b != std::string::npos && b > a ? line.substr(a + 1, b - a - 1) : "";
}

}  // namespace

std::string events_text(const Scenario& s, const RunRecord& r) {
  const bool prefixed = s.listeners.size() > 1;
  std::string out;
  for (const EventLine& e : r.events) {
    if (prefixed) out += e.listener + ": ";
    out += e.line;
    out.push_back('\n');
  }
  return out;
}

std::string snapshots_text(const RunRecord& r) {
  struct Item {
    const Dump* d;
    bool stats;
  };
  std::vector<Item> items;
  for (const Dump& d : r.snapshots) items.push_back({&d, false});
  for (const Dump& d : r.stats) items.push_back({&d, true});
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.d->at < b.d->at; });
  std::string out;
  for (const Item& it : items) {
    out += fmt::format("# {} at {} (netns {})\n", it.stats ? "conntrack -S" : "snapshot", format_duration(it.d->at),
                       it.d->netns);
    for (const std::string& line : it.d->lines) {
      out += line;
      out.push_back('\n');
    }
    if (!it.stats) out += fmt::format("# {} flow entries have been shown.\n", it.d->lines.size());
  }
  return out;
}

std::string trace_text(const Scenario& s, const RunRecord& r, const std::string& kernel_release) {
  const TimeBase tb{s.hz, s.initial_jiffies};
  auto head = [&](SimTime t, const char* kind) {
    return fmt::format("{{\"t\":{},\"jiffies\":{},\"kind\":\"{}\"", t, static_cast<uint32_t>(tb.jiffies_at(t)), kind);
  };
  struct Rec {
    SimTime t;
    int order;
    std::string text;
  };
  std::vector<Rec> recs;
  for (const PacketOutcome& p : r.packets) {
    recs.push_back({p.at, 0,
                    head(p.at, "pkt") + fmt::format(",\"net\":{},\"cpu\":{},\"id\":{},\"pkt\":{},\"path\":\"{}\"}}",
                                                    json_string(p.netns), p.cpu, p.id, json_string(p.pkt), p.path)});
    recs.push_back({p.at, 1,
                    head(p.at, "verdict") +
                        fmt::format(",\"net\":{},\"cpu\":{},\"id\":{},\"ct_state\":{},\"verdict\":\"{}\",\"reason\":{}}}",
                                    json_string(p.netns), p.cpu, p.id,
                                    p.ct_state.empty() ? "null" : json_string(p.ct_state), p.verdict,
                                    p.by.empty() ? "null" : json_string(p.by))});
  }
  for (const EventLine& e : r.events) {
    recs.push_back({e.at, 2,
                    head(e.at, "event") + fmt::format(",\"listener\":{},\"type\":{},\"line\":{}}}", json_string(e.listener),
                                                      json_string(event_type(e.line)), json_string(e.line))});
  }
  auto dumps = [&](const std::vector<Dump>& ds, const char* kind) {
    for (const Dump& d : ds) {
      std::string lines;
      for (const std::string& l : d.lines) {
        if (!lines.empty()) lines.push_back(',');
        lines += json_string(l);
      }
      recs.push_back({d.at, 3, head(d.at, kind) + fmt::format(",\"net\":{},\"lines\":[{}]}}", json_string(d.netns), lines)});
    }
  };
  dumps(r.snapshots, "snapshot");
  dumps(r.stats, "stats");
  std::stable_sort(recs.begin(), recs.end(),
                   [](const Rec& a, const Rec& b) { return a.t != b.t ? a.t < b.t : a.order < b.order; });
  size_t accepted = 0;
  for (const PacketOutcome& p : r.packets) accepted += p.verdict == "accept";
  std::string out = fmt::format(
      "{{\"ctsim_trace\":1,\"scenario\":{},\"hz\":{},\"seed\":{},\"initial_jiffies\":{},\"source\":\"kernel\","
      "\"kernel\":{}}}\n",
      json_string(s.name), s.hz, s.seed, s.initial_jiffies, json_string(kernel_release));
  for (const Rec& rec : recs) out += rec.text + "\n";
  out += head(r.end, "end") + fmt::format(",\"packets\":{},\"accepted\":{},\"events\":{}}}\n", r.packets.size(),
                                          accepted, r.events.size());
  return out;
}

Status write_text_output(const std::string& path, const std::string& text) {
  OutputFile f;
  if (Status st = f.open(path); !st.ok()) return st;
  f.write(text);
  if (Status st = f.finish(); !st.ok()) return st;
  return f.publish();
}

}  // namespace ctsim::verify
