#include "sim/verify/nat_port_alignment.h"

#include <fmt/format.h>

#include <map>
#include <sstream>

namespace ctsim::verify {

namespace {

// The tuple words of a conntrack -E / -L line: the protocol name, then
// src=, dst=, sport=, dport= of ORIGINAL and of REPLY (positions of their
// values in the line, so that one can be rewritten in place).
struct TupleWords {
  std::string proto;
  std::vector<std::pair<std::string, size_t>> fields;  // "src=1.2.3.4" and its offset
  bool ok() const { return fields.size() == 8; }
  std::string orig_key() const {
    std::string k = proto;
    for (size_t i = 0; i < 4; ++i) k += " " + fields[i].first;
    return k;
  }
};

TupleWords tuple_words(const std::string& line) {
  TupleWords t;
  std::istringstream in(line);
  std::string w;
  size_t from = 0;
  while (in >> w) {
    const size_t at = line.find(w, from);
    from = at + w.size();
    if (t.proto.empty() && (w == "tcp" || w == "udp" || w == "sctp" || w == "dccp" || w == "udplite")) t.proto = w;
    for (const char* name : {"src=", "dst=", "sport=", "dport="}) {
      if (w.rfind(name, 0) == 0 && t.fields.size() < 8) t.fields.emplace_back(w, at);
    }
  }
  return t;
}

int port_class(unsigned port) { return port < 512 ? 0 : port < 1024 ? 1 : 2; }

unsigned port_of(const std::string& field) { return static_cast<unsigned>(std::stoul(field.substr(field.find('=') + 1))); }

}  // namespace

std::vector<std::string> align_random_nat_ports(const RunRecord& sim, RunRecord* kernel) {
  // ctsim's REPLY tuple of each conn, by its ORIGINAL tuple (NEW lines).
  std::map<std::string, TupleWords> ours;
  for (const EventLine& e : sim.events) {
    if (e.line.find("[NEW]") == std::string::npos) continue;
    TupleWords t = tuple_words(e.line);
    if (t.ok()) ours.emplace(t.orig_key(), t);
  }
  // orig key -> (field index 6 or 7, kernel's port, ctsim's port)
  std::map<std::string, std::tuple<size_t, unsigned, unsigned>> swap;
  std::vector<std::string> notes;
  for (const EventLine& e : kernel->events) {
    if (e.line.find("[NEW]") == std::string::npos) continue;
    const TupleWords k = tuple_words(e.line);
    if (!k.ok()) continue;
    auto it = ours.find(k.orig_key());
    if (it == ours.end() || swap.count(k.orig_key())) continue;
    const TupleWords& s = it->second;
    if (k.fields[4].first != s.fields[4].first || k.fields[5].first != s.fields[5].first) continue;
    const bool sport_differs = k.fields[6].first != s.fields[6].first;
    const bool dport_differs = k.fields[7].first != s.fields[7].first;
    if (sport_differs == dport_differs) continue;  // none, or both: not one NAT draw
    const size_t f = sport_differs ? 6 : 7;
    const unsigned kp = port_of(k.fields[f].first), sp = port_of(s.fields[f].first);
    if (port_class(kp) != port_class(sp)) continue;
    swap[k.orig_key()] = {f, kp, sp};
    notes.push_back(fmt::format("tolerated: {}: the NAT port drawn at random: kernel {}, ctsim {} (one class)",
                                k.orig_key(), kp, sp));
  }
  auto rewrite = [&](std::string* line) {
    const TupleWords t = tuple_words(*line);
    if (!t.ok()) return;
    auto it = swap.find(t.orig_key());
    if (it == swap.end()) return;
    const auto& [f, kp, sp] = it->second;
    const auto& [word, at] = t.fields[f];
    const size_t eq = word.find('=');
    line->replace(at + eq + 1, word.size() - eq - 1, std::to_string(sp));
  };
  for (EventLine& e : kernel->events) rewrite(&e.line);
  for (Dump& d : kernel->snapshots) {
    for (std::string& l : d.lines) rewrite(&l);
  }
  return notes;
}

}  // namespace ctsim::verify
