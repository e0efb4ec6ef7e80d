#include "sim/scenario/scenario_keys.h"

#include <cstdlib>

namespace ctsim {

const std::vector<ScenarioLevel>& scenario_key_table() {
  static const std::vector<ScenarioLevel> kTable = {
      {"",
       {"ctsim", "name", "description", "seed", "hz", "initial_jiffies", "cpus", "table",
        "namespaces", "listeners", "rules", "packets", "flows", "actions", "until"},
       {"ctsim"}},
      {"/table", {"buckets", "max", "hash_rnd", "exact_walks"}, {}},
      {"/namespaces/*", {"name", "hash_mix", "sysctl"}, {"name"}},
      {"/listeners/*", {"name", "netns", "reliable", "rcvbuf", "read_every", "events"}, {}},
      {"/rules/*", {"netns", "hook", "match", "verdict", "delay", "to", "at"}, {"hook", "verdict"}},
      {"/packets/*", {"at", "netns", "cpu", "path", "pkt"}, {"at", "pkt"}},
      {"/flows/*",
       {"at", "kind", "netns", "path", "cpu", "count", "rate", "interval", "src", "dst", "rtt",
        "data_packets", "close", "reply", "loss", "weights"},
       {"at", "kind", "src", "dst"}},
      {"/flows/*/weights", {"tcp", "udp", "icmp"}, {}},
      {"/actions/*?do=sysctl", {"at", "do", "netns", "key", "value"}, {"at", "do", "key", "value"}},
      {"/actions/*?do=flush", {"at", "do", "netns"}, {"at", "do"}},
      {"/actions/*?do=delete", {"at", "do", "netns", "tuple"}, {"at", "do", "tuple"}},
      {"/actions/*?do=netns_add", {"at", "do", "name", "hash_mix", "sysctl"}, {"at", "do", "name"}},
      {"/actions/*?do=netns_del", {"at", "do", "name"}, {"at", "do", "name"}},
      {"/actions/*?do=listener_stall", {"at", "do", "listener"}, {"at", "do", "listener"}},
      {"/actions/*?do=listener_resume", {"at", "do", "listener"}, {"at", "do", "listener"}},
      {"/actions/*?do=snapshot", {"at", "do", "netns"}, {"at", "do"}},
      {"/actions/*?do=stats", {"at", "do"}, {"at", "do"}},
      {"/actions/*",
       {"at", "do", "netns", "key", "value", "tuple", "name", "hash_mix", "sysctl", "listener"},
       {"at", "do"}},
  };
  return kTable;
}

const std::vector<ScenarioEnum>& scenario_enum_table() {
  static const std::vector<ScenarioEnum> kTable = {
      {"/listeners/*/events/*", {"NEW", "UPDATE", "DESTROY"}},
      {"/rules/*/hook", {"prerouting", "input", "forward", "output", "postrouting"}},
      {"/rules/*/verdict", {"accept", "drop", "queue", "dnat", "snat"}},
      {"/packets/*/path", {"forward", "input", "output"}},
      {"/flows/*/kind", {"tcp", "udp", "icmp", "mix"}},
      {"/flows/*/path", {"forward", "input", "output"}},
      {"/flows/*/close", {"fin", "rst", "none"}},
      {"/actions/*/do",
       {"sysctl", "flush", "delete", "netns_add", "netns_del", "listener_stall", "listener_resume",
        "snapshot", "stats"}},
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

}  // namespace ctsim
