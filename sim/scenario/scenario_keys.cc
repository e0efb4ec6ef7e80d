#include "sim/scenario/scenario_keys.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/nf_conntrack_common.h"
#include "core/nf_conntrack_kernel_profile.h"
#include "sim/scenario/nat_range.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

namespace {

// "base" and every switch of core's kernel profile.
std::vector<std::string> kernel_keys() {
  std::vector<std::string> keys = {"base"};
  for (const ctcore::kernel_profile_switch& sw : ctcore::kernel_profile_switches()) keys.emplace_back(sw.name);
  return keys;
}

std::vector<std::string> kernel_profile_words() {
  std::vector<std::string> words;
  for (const ctcore::kernel_profile_entry& e : ctcore::kernel_profiles()) words.emplace_back(e.name);
  return words;
}

}  // namespace

const std::vector<ScenarioLevel>& scenario_key_table() {
  static const std::vector<ScenarioLevel> kTable = {
      {"",
       {"ctsim", "name", "description", "seed", "hz", "initial_jiffies", "cpus", "hook_time", "kernel", "table",
        "namespaces", "listeners", "rules", "packets", "flows", "captures", "actions", "until", "verify"},
       {"ctsim"}},
      {"/kernel", kernel_keys(), {"base"}},
      {"/table", {"buckets", "max", "hash_rnd", "memory", "exact_walks", "gc_phase"}, {}},
      {"/namespaces/*", {"name", "hash_mix", "sysctl", "addresses"}, {"name"}},
      {"/listeners/*", {"name", "netns", "reliable", "rcvbuf", "read_every", "at", "events"}, {}},
      {"/rules/*", {"netns", "hook", "match", "verdict", "delay", "to", "flags", "at"}, {"hook", "verdict"}},
      {"/packets/*", {"at", "netns", "cpu", "path", "pkt"}, {"at", "pkt"}},
      // Required keys are checked, and reported, in the order listed.
      {"/flows/*",
       {"at", "kind", "netns", "path", "cpu", "count", "rate", "interval", "src", "dst", "rtt", "data_packets", "close",
        "reply", "loss", "weights"},
       {"kind", "at", "src", "dst"}},
      {"/captures/*", {"file", "netns", "path", "interfaces", "cpu", "filter", "offset", "speed", "burst"}, {"file"}},
      {"/flows/*/weights", {kFlowWeightNames.begin(), kFlowWeightNames.end()}, {}},
      {"/actions/*?do=sysctl", {"at", "do", "netns", "key", "value"}, {"at", "do", "key", "value"}},
      {"/actions/*?do=flush", {"at", "do", "netns"}, {"at", "do"}},
      {"/actions/*?do=delete", {"at", "do", "netns", "tuple"}, {"at", "do", "tuple"}},
      {"/actions/*?do=netns_add", {"at", "do", "name", "hash_mix", "sysctl"}, {"at", "do", "name"}},
      {"/actions/*?do=netns_del", {"at", "do", "name"}, {"at", "do", "name"}},
      {"/actions/*?do=listener_stall", {"at", "do", "listener"}, {"at", "do", "listener"}},
      {"/actions/*?do=listener_resume", {"at", "do", "listener"}, {"at", "do", "listener"}},
      {"/actions/*?do=snapshot", {"at", "do", "netns", "list"}, {"at", "do"}},
      {"/actions/*?do=stats", {"at", "do"}, {"at", "do"}},
      {"/actions/*?do=addr_add", {"at", "do", "netns", "address"}, {"at", "do", "address"}},
      {"/actions/*?do=addr_del", {"at", "do", "netns", "address"}, {"at", "do", "address"}},
      {"/verify", {"compare", "because"}, {}},
      {"/actions/*",
       {"at", "do", "netns", "key", "value", "tuple", "name", "hash_mix", "sysctl", "listener", "address", "list"},
       {"at", "do"}},
  };
  return kTable;
}

namespace {

std::vector<std::string> hook_words() {
  std::vector<std::string> words;
  for (const ctcore::NfInetHookName& h : ctcore::kNfInetHookNames) words.emplace_back(h.word);
  return words;
}

template <size_t N>
std::vector<std::string> words_of(const char* const (&names)[N]) {
  return std::vector<std::string>(names, names + N);
}

std::vector<std::string> nat_flag_words() {
  std::vector<std::string> words;
  for (const NatFlagName& f : kNatFlagNames) words.emplace_back(f.word);
  return words;
}

std::vector<std::string> event_group_words() {
  std::vector<std::string> words;
  for (const EventGroupName& g : kEventGroupNames) words.emplace_back(g.name);
  return words;
}

}  // namespace

const std::vector<ScenarioEnum>& scenario_enum_table() {
  static const std::vector<ScenarioEnum> kTable = {
      {"/listeners/*/events/*", event_group_words()},     {"/rules/*/hook", hook_words()},
      {"/rules/*/verdict", words_of(kVerdictNames)},      {"/packets/*/path", words_of(kPathNames)},
      {"/flows/*/kind", words_of(kFlowKindNames)},        {"/flows/*/path", words_of(kPathNames)},
      {"/flows/*/close", words_of(kFlowCloseNames)},      {"/captures/*/path", words_of(kPathNames)},
      {"/actions/*/do", words_of(kActionNames)},          {"/rules/*/flags/*", nat_flag_words()},
      {"/kernel/base", kernel_profile_words()},           {"/actions/*/list", words_of(kSnapshotListNames)},
      {"/verify/compare", words_of(kVerifyCompareNames)},
  };
  return kTable;
}

const std::vector<std::string>& scenario_keys(std::string_view pointer) {
  for (const ScenarioLevel& l : scenario_key_table())
    if (l.pointer == pointer) return l.keys;
  std::abort();  // a programming error: the loader asked for a level the table lacks
}

const std::vector<std::string>& scenario_enum(std::string_view pointer) {
  for (const ScenarioEnum& e : scenario_enum_table())
    if (e.pointer == pointer) return e.values;
  std::abort();
}

const std::vector<std::string>& scenario_required(std::string_view pointer) {
  for (const ScenarioLevel& l : scenario_key_table())
    if (l.pointer == pointer) return l.required;
  std::abort();
}

namespace {

// Prose for the required keys that are not enumerated (the enumerated ones
// list their words instead). Each text follows "missing \"key\"" verbatim.
struct MissingHint {
  std::string_view level, key, hint;
};
constexpr MissingHint kMissingHints[] = {
    {"", "ctsim", ": the format version (expected \"ctsim\": 1)"},
    {"/packets/*", "at", " (when the packet arrives, e.g. \"1ms\")"},
    {"/packets/*", "pkt", " (the packet, e.g. \"tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S\")"},
    {"/flows/*", "at", " (when the first flow starts)"},
    {"/captures/*", "file", " (a pcap or pcapng file, e.g. \"dns.pcapng\")"},
    {"/flows/*", "src", " (an address or prefix with an optional port or range, e.g. \"10.0.0.0/8:1024-65535\")"},
    {"/flows/*", "dst", " (an address or prefix with an optional port or range, e.g. \"10.0.0.0/8:1024-65535\")"},
};

// "a, b or c"
std::string word_list(const std::vector<std::string>& words) {
  std::string r;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) r += i + 1 == words.size() ? " or " : ", ";
    r += words[i];
  }
  return r;
}

}  // namespace

std::string scenario_missing_message(std::string_view level, std::string_view key) {
  for (const MissingHint& h : kMissingHints)
    if (h.level == level && h.key == key) return fmt::format("missing \"{}\"{}", key, h.hint);
  // An enumerated field: "/rules/*" + "/hook"; the action levels
  // ("/actions/*?do=flush") share the words of "/actions/*/do".
  std::string field(level.substr(0, level.find('?')));
  field += "/";
  field += key;
  for (const ScenarioEnum& e : scenario_enum_table())
    if (e.pointer == field) return fmt::format("missing \"{}\" ({})", key, word_list(e.values));
  return fmt::format("missing \"{}\"", key);
}

}  // namespace ctsim
