// Bad scenarios are refused before anything runs: exit 2, and a message
// with the file, line:column, JSON pointer and what was expected.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/scenario.h"
#include "tests/run_util.h"

using namespace ctest;

namespace {

struct Case {
  const char* name;
  const char* text;
  const char* message;  // the exact message (all lines)
};

// Each case is a whole file named bad.json.
const Case kCases[] = {
    {"syntax", "{\n  \"ctsim\": 1,\n  \"hz\": ,\n}", "bad.json:3:9: invalid JSON: syntax error while parsing value - unexpected ','; expected '[', '{', or a literal"},
    {"not an object", "[1]", "bad.json:1:1: /: expected an object, found an array"},
    {"no version", "{}", "bad.json:1:1: /: missing \"ctsim\": the format version (expected \"ctsim\": 1)"},
    {"wrong version", "{\"ctsim\": 2}", "bad.json:1:11: /ctsim: 2 is out of range 1..1"},
    {"unknown key with hint", "{\"ctsim\": 1,\n \"pakets\": []}", "bad.json:2:2: /pakets: unknown key \"pakets\" (did you mean \"packets\"?)"},
    {"hz type", "{\"ctsim\": 1, \"hz\": \"fast\"}", "bad.json:1:20: /hz: expected a whole number 1..10000, found the string \"fast\""},
    {"cpus range", "{\"ctsim\": 1, \"cpus\": 0}", "bad.json:1:22: /cpus: 0 is out of range 1..256"},
    {"port out of range",
     "{\"ctsim\": 1,\n \"packets\": [\n  {\"at\": \"0s\", \"pkt\": \"tcp 1.2.3.4:70000 > 5.6.7.8:80 flags S\"}]}",
     "bad.json:3:23: /packets/0/pkt: column 5: port 70000 is out of range 0..65535"},
    {"bad duration", "{\"ctsim\": 1, \"until\": \"10\"}",
     "bad.json:1:23: /until: \"10\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, e.g. \"250ms\", or jiffies as \"j:N\")"},
    {"unknown namespace", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"netns\": \"ini\", \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:48: /packets/0/netns: no namespace \"ini\" (did you mean \"init\"?)"},
    {"unknown sysctl", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_udp_timeot\": 5}}]}",
     "bad.json:1:54: /namespaces/0/sysctl/nf_conntrack_udp_timeot: unknown per-namespace sysctl \"nf_conntrack_udp_timeot\" (did you mean \"nf_conntrack_udp_timeout\"?)"},
    {"global sysctl in a namespace", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_max\": 5}}]}",
     "bad.json:1:54: /namespaces/0/sysctl/nf_conntrack_max: unknown per-namespace sysctl \"nf_conntrack_max\" (it is global in v5.10: set it in \"table\")"},
    {"rule verdict", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"reject\"}]}",
     "bad.json:1:55: /rules/0/verdict: \"reject\" is not one of accept, drop, queue"},
    {"queue without delay", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"queue\"}]}",
     "bad.json:1:24: /rules/0: a queue verdict needs \"delay\" (how long the packet is held)"},
    {"bad match", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"match\": \"tcp dport http\", \"verdict\": \"drop\"}]}",
     "bad.json:1:53: /rules/0/match: column 11: \"http\" is not a port or range 0..65535 (e.g. 1024-65535)"},
    {"unknown action", "{\"ctsim\": 1, \"actions\": [{\"at\": \"1s\", \"do\": \"flsh\"}]}",
     "bad.json:1:45: /actions/0/do: \"flsh\" is not one of sysctl, flush, delete, netns_add, netns_del, listener_stall, listener_resume, snapshot, stats (did you mean \"flush\"?)"},
    {"unknown listener", "{\"ctsim\": 1, \"actions\": [{\"at\": \"1s\", \"do\": \"listener_stall\", \"listener\": \"x\"}]}",
     "bad.json:1:75: /actions/0/listener: no listener \"x\""},
    {"several errors at once", "{\"ctsim\": 1, \"hz\": 0,\n \"cpus\": 300}",
     "bad.json:1:20: /hz: 0 is out of range 1..10000\nbad.json:2:10: /cpus: 300 is out of range 1..256"},
    {"icmp with v6", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"icmp 2001:db8::1 > 2001:db8::2 echo-request\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 1: icmp needs IPv4 addresses (use icmp6 for IPv6)"},
    {"tcp without flags", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"tcp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 26: a tcp packet needs \"flags\" (e.g. flags S)"},
    {"cpu beyond cpus", "{\"ctsim\": 1, \"cpus\": 2, \"packets\": [{\"at\": \"0s\", \"cpu\": 2, \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:57: /packets/0/cpu: 2 is out of range 0..1"},
};

}  // namespace

TEST_CASE("parse_scenario reports each bad input exactly") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    ctsim::Scenario s;
    ctsim::Status st = ctsim::parse_scenario("bad.json", c.text, &s);
    CHECK_FALSE(st.ok());
    CHECK(st.message() == c.message);
  }
}

TEST_CASE("ctsim check and run exit 2 on a bad file and write nothing") {
  const std::string dir = temp_dir();
  write_file(dir + "/bad.json", kCases[7].text);
  RunResult r = run_ctsim("check " + dir + "/bad.json");
  CHECK(r.code == 2);
  CHECK(r.err.find("/packets/0/pkt: column 5: port 70000 is out of range 0..65535") != std::string::npos);
  r = run_ctsim("run " + dir + "/bad.json --trace " + dir + "/t.jsonl");
  CHECK(r.code == 2);
  CHECK_FALSE(file_exists(dir + "/t.jsonl"));
  r = run_ctsim("run " + dir + "/missing.json");
  CHECK(r.code == 2);
  CHECK(r.err.find("cannot open the scenario file") != std::string::npos);
  r = run_ctsim("frobnicate");
  CHECK(r.code == 2);
}
