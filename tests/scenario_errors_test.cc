// Bad scenarios are refused before anything runs: exit 2, and a message
// with the file, line:column, JSON pointer, what was found and what was
// expected (with a "did you mean" for a misspelt key or word). Every error
// of a file is reported, in document order.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"
#include "tests/run_util.h"

using namespace ctest;

namespace {

struct Case {
  const char* name;
  const char* text;     // a whole file, named bad.json
  const char* message;  // the exact message (all lines)
};

const Case kCases[] = {
    {"syntax: missing value", "{\n  \"ctsim\": 1,\n  \"hz\": ,\n}",
     "bad.json:3:9: invalid JSON: syntax error while parsing value - unexpected ','; expected '[', '{', or a literal"},
    {"syntax: trailing comma", "{\"ctsim\": 1,}",
     "bad.json:1:13: invalid JSON: syntax error while parsing object key - unexpected '}'; expected string literal"},
    {"syntax: unterminated string", "{\"ctsim\": 1, \"name\": \"abc",
     "bad.json:1:26: invalid JSON: syntax error while parsing value - invalid string: missing closing quote; last "
     "read: '\"abc'"},
    {"syntax: empty file", "",
     "bad.json:1:1: invalid JSON: syntax error while parsing value - unexpected end of input; expected '[', '{', or a "
     "literal"},
    {"syntax: comment", "{\"ctsim\": 1 // one\n}",
     "bad.json:1:13: invalid JSON: syntax error while parsing object - invalid literal; last read: '1 /'; expected "
     "'}'"},
    {"too deep",
     "{\"ctsim\": 1, \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     "bad.json:1:58: objects and arrays nest deeper than 32 levels (a scenario needs 4)"},
    {"not an object", "[1]", "bad.json:1:1: /: expected an object, found an array"},
    {"no version", "{}", "bad.json:1:1: /: missing \"ctsim\": the format version (expected \"ctsim\": 1)"},
    {"wrong version", "{\"ctsim\": 2}", "bad.json:1:11: /ctsim: 2 is out of range 1..1"},
    {"version as string", "{\"ctsim\": \"1\"}",
     "bad.json:1:11: /ctsim: expected a whole number 1..1, found the string \"1\""},
    {"unknown key with hint", "{\"ctsim\": 1,\n \"pakets\": []}",
     "bad.json:2:2: /pakets: unknown key \"pakets\" (did you mean \"packets\"?)"},
    {"unknown key without hint", "{\"ctsim\": 1, \"zzzzzzzz\": 3}",
     "bad.json:1:14: /zzzzzzzz: unknown key \"zzzzzzzz\""},
    {"duplicate key", "{\"ctsim\": 1, \"hz\": 100,\n \"hz\": 250}",
     "bad.json:2:2: /hz: this key appears twice in the same object (JSON would keep only the last)"},
    {"name type", "{\"ctsim\": 1, \"name\": 5}", "bad.json:1:22: /name: expected a string, found the number 5"},
    {"seed negative", "{\"ctsim\": 1, \"seed\": -1}",
     "bad.json:1:22: /seed: -1 is out of range 0..18446744073709551615"},
    {"seed float", "{\"ctsim\": 1, \"seed\": 1.5}",
     "bad.json:1:22: /seed: expected a whole number 0..18446744073709551615, found the number 1.5"},
    {"hz type", "{\"ctsim\": 1, \"hz\": \"fast\"}",
     "bad.json:1:20: /hz: expected a whole number 1..10000, found the string \"fast\""},
    {"hz zero", "{\"ctsim\": 1, \"hz\": 0}", "bad.json:1:20: /hz: 0 is out of range 1..10000"},
    {"initial_jiffies word", "{\"ctsim\": 1, \"initial_jiffies\": \"kernal\"}",
     "bad.json:1:33: /initial_jiffies: expected \"kernel\" or a number, found the string \"kernal\" (did you mean "
     "\"kernel\"?)"},
    {"initial_jiffies range", "{\"ctsim\": 1, \"initial_jiffies\": 4294967296}",
     "bad.json:1:33: /initial_jiffies: 4294967296 is out of range 0..4294967295"},
    {"cpus range", "{\"ctsim\": 1, \"cpus\": 0}", "bad.json:1:22: /cpus: 0 is out of range 1..256"},
    {"table type", "{\"ctsim\": 1, \"table\": []}", "bad.json:1:23: /table: expected an object, found an array"},
    {"table unknown key", "{\"ctsim\": 1, \"table\": {\"bukets\": 16}}",
     "bad.json:1:24: /table/bukets: unknown key \"bukets\" (did you mean \"buckets\"?)"},
    {"table buckets zero", "{\"ctsim\": 1, \"table\": {\"buckets\": 0}}",
     "bad.json:1:35: /table/buckets: 0 is out of range 1..67108864"},
    {"table max negative", "{\"ctsim\": 1, \"table\": {\"max\": -5}}",
     "bad.json:1:31: /table/max: -5 is out of range 0..2147483647"},
    {"namespaces empty", "{\"ctsim\": 1, \"namespaces\": []}",
     "bad.json:1:28: /namespaces: at least one namespace is needed (or leave the key out)"},
    {"namespace without name", "{\"ctsim\": 1, \"namespaces\": [{\"hash_mix\": 1}]}",
     "bad.json:1:29: /namespaces/0: missing \"name\""},
    {"namespace twice", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
     "bad.json:1:53: /namespaces/1/name: namespace \"a\" is defined twice"},
    // Names end up in CSV headers, trace fields and messages: identifiers only.
    {"namespace name with a comma", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a,b\"}]}",
     "bad.json:1:38: /namespaces/0/name: the string \"a,b\", whose byte 2 is ','; expected a name of 1 to 32 letters, "
     "digits, '_', '.' or '-'"},
    {"namespace name empty", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"\"}]}",
     "bad.json:1:38: /namespaces/0/name: the empty string; expected a name of 1 to 32 letters, digits, '_', '.' or "
     "'-'"},
    {"namespace name with a control byte", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\\tb\"}]}",
     "bad.json:1:38: /namespaces/0/name: the string \"a\tb\", whose byte 2 is 0x09; expected a name of 1 to 32 "
     "letters, digits, '_', '.' or '-'"},
    {"listener name too long", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"abcdefghijabcdefghijabcdefghijabc\"}]}",
     "bad.json:1:37: /listeners/0/name: a name of 33 characters; expected a name of 1 to 32 letters, digits, '_', '.' "
     "or '-'"},
    {"netns_add name with a space",
     "{\"ctsim\": 1, \"actions\": [{\"at\": \"1s\", \"do\": \"netns_add\", \"name\": \"blue net\"}]}",
     "bad.json:1:66: /actions/0/name: the string \"blue net\", whose byte 5 is ' '; expected a name of 1 to 32 "
     "letters, digits, '_', '.' or '-'"},
    {"namespace hash_mix range", "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"hash_mix\": 4294967296}]}",
     "bad.json:1:55: /namespaces/0/hash_mix: 4294967296 is out of range 0..4294967295"},
    {"unknown sysctl",
     "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_udp_timeot\": 5}}]}",
     "bad.json:1:54: /namespaces/0/sysctl/nf_conntrack_udp_timeot: unknown per-namespace sysctl "
     "\"nf_conntrack_udp_timeot\" (did you mean \"nf_conntrack_udp_timeout\"?)"},
    {"global sysctl in a namespace",
     "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_max\": 5}}]}",
     "bad.json:1:54: /namespaces/0/sysctl/nf_conntrack_max: unknown per-namespace sysctl \"nf_conntrack_max\" (it is "
     "global in v5.10: set it in \"table\")"},
    {"boolean sysctl out of range",
     "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_tcp_be_liberal\": 2}}]}",
     "bad.json:1:85: /namespaces/0/sysctl/nf_conntrack_tcp_be_liberal: 2 is out of range 0..1"},
    {"log_invalid out of range",
     "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_log_invalid\": 256}}]}",
     "bad.json:1:82: /namespaces/0/sysctl/nf_conntrack_log_invalid: 256 is out of range 0..255"},
    {"timeout overflows jiffies",
     "{\"ctsim\": 1, \"hz\": 1000, \"namespaces\": [{\"name\": \"a\", \"sysctl\": "
     "{\"nf_conntrack_tcp_timeout_established\": 2147484}}]}",
     "bad.json:1:106: /namespaces/0/sysctl/nf_conntrack_tcp_timeout_established: 2147484 is out of range 0..2147483"},
    {"sysctl value type",
     "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"a\", \"sysctl\": {\"nf_conntrack_udp_timeout\": \"30s\"}}]}",
     "bad.json:1:82: /namespaces/0/sysctl/nf_conntrack_udp_timeout: expected a whole number 0..8589934, found the "
     "string \"30s\""},
    {"listener unknown key", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"relaible\": true}]}",
     "bad.json:1:43: /listeners/0/relaible: unknown key \"relaible\" (did you mean \"reliable\"?)"},
    {"listener undefined netns", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"netns\": \"blue\"}]}",
     "bad.json:1:52: /listeners/0/netns: no namespace \"blue\""},
    {"listener reliable type", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"reliable\": \"yes\"}]}",
     "bad.json:1:55: /listeners/0/reliable: expected true or false, found the string \"yes\""},
    {"listener rcvbuf zero", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"rcvbuf\": 0}]}",
     "bad.json:1:53: /listeners/0/rcvbuf: 0 is out of range 1..100000000"},
    {"listener events value", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"events\": [\"NEW\", \"DESTORY\"]}]}",
     "bad.json:1:61: /listeners/0/events/1: \"DESTORY\" is not one of NEW, UPDATE, DESTROY (did you mean "
     "\"DESTROY\"?)"},
    {"listener events empty", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\", \"events\": []}]}",
     "bad.json:1:53: /listeners/0/events: an empty event filter would receive nothing"},
    {"listener twice", "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}, {\"name\": \"ev\"}]}",
     "bad.json:1:53: /listeners/1/name: listener \"ev\" is defined twice"},
    {"rule without hook", "{\"ctsim\": 1, \"rules\": [{\"verdict\": \"drop\"}]}",
     "bad.json:1:24: /rules/0: missing \"hook\" (prerouting, input, forward, output or postrouting)"},
    {"rule hook misspelt", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forwrd\", \"verdict\": \"drop\"}]}",
     "bad.json:1:33: /rules/0/hook: \"forwrd\" is not one of prerouting, input, forward, output, postrouting (did you "
     "mean \"forward\"?)"},
    {"rule verdict", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"reject\"}]}",
     "bad.json:1:55: /rules/0/verdict: \"reject\" is not one of accept, drop, queue, dnat, snat, masquerade"},
    {"queue without delay", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"queue\"}]}",
     "bad.json:1:24: /rules/0: a queue verdict needs \"delay\" (how long the packet is held)"},
    {"delay on drop", "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"verdict\": \"drop\", \"delay\": \"1ms\"}]}",
     "bad.json:1:63: /rules/0/delay: \"delay\" only applies to the queue verdict"},
    {"bad match port",
     "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"match\": \"tcp dport http\", \"verdict\": \"drop\"}]}",
     "bad.json:1:53: /rules/0/match: column 11: \"http\" is not a port or range 0..65535 (e.g. 1024-65535)"},
    {"bad match selector",
     "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"match\": \"tcp port 80\", \"verdict\": \"drop\"}]}",
     "bad.json:1:53: /rules/0/match: column 5: unknown selector \"port\" (expected a protocol, ip, ip6, saddr, daddr, "
     "sport, dport, \"ct state\" or flags)"},
    {"bad match ct state",
     "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"match\": \"ct state establised\", \"verdict\": "
     "\"accept\"}]}",
     "bad.json:1:53: /rules/0/match: column 10: unknown ct state \"establised\" (expected new, established, related, "
     "invalid or untracked)"},
    {"bad match prefix",
     "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"match\": \"ip saddr 10.0.0.0/33\", \"verdict\": \"drop\"}]}",
     "bad.json:1:53: /rules/0/match: column 10: \"10.0.0.0/33\" is not an address or prefix (e.g. 10.0.0.0/8)"},
    {"rule undefined netns",
     "{\"ctsim\": 1, \"rules\": [{\"hook\": \"forward\", \"netns\": \"blue\", \"verdict\": \"drop\"}]}",
     "bad.json:1:53: /rules/0/netns: no namespace \"blue\""},
    {"packets not an array", "{\"ctsim\": 1, \"packets\": {}}",
     "bad.json:1:25: /packets: expected an array, found an object"},
    {"packet without at", "{\"ctsim\": 1, \"packets\": [{\"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:26: /packets/0: missing \"at\" (when the packet arrives, e.g. \"1ms\")"},
    {"packet without pkt", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\"}]}",
     "bad.json:1:26: /packets/0: missing \"pkt\" (the packet, e.g. \"tcp 192.168.1.2:47562 > 10.0.0.2:80 flags S\")"},
    {"port out of range",
     "{\"ctsim\": 1,\n \"packets\": [\n  {\"at\": \"0s\", \"pkt\": \"tcp 1.2.3.4:70000 > 5.6.7.8:80 flags S\"}]}",
     "bad.json:3:23: /packets/0/pkt: column 5: port 70000 is out of range 0..65535"},
    {"bad address", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"udp 10.0.0.300:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 5: \"10.0.0.300\" is not an IPv4 or IPv6 address"},
    {"mixed families in a packet",
     "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"udp 10.0.0.1:1 > [::1]:2\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 18: source and destination are of different address families"},
    {"bad duration", "{\"ctsim\": 1, \"until\": \"10\"}",
     "bad.json:1:23: /until: \"10\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, e.g. "
     "\"250ms\", or jiffies as \"j:N\")"},
    {"negative time", "{\"ctsim\": 1, \"packets\": [{\"at\": \"-1s\", \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:33: /packets/0/at: \"-1s\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, "
     "e.g. \"250ms\", or jiffies as \"j:N\")"},
    {"time unit misspelt", "{\"ctsim\": 1, \"until\": \"5sec\"}",
     "bad.json:1:23: /until: \"5sec\" is not a duration (expected a number with a unit ns, us, ms, s, min, h, d, e.g. "
     "\"250ms\", or jiffies as \"j:N\")"},
    {"time as number", "{\"ctsim\": 1, \"until\": 5}", "bad.json:1:23: /until: expected a string, found the number 5"},
    {"unknown namespace",
     "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"netns\": \"ini\", \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:48: /packets/0/netns: no namespace \"ini\" (did you mean \"init\"?)"},
    {"packet path misspelt",
     "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"path\": \"forwad\", \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:47: /packets/0/path: \"forwad\" is not one of forward, input, output (did you mean \"forward\"?)"},
    {"cpu beyond cpus",
     "{\"ctsim\": 1, \"cpus\": 2, \"packets\": [{\"at\": \"0s\", \"cpu\": 2, \"pkt\": \"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:57: /packets/0/cpu: 2 is out of range 0..1"},
    {"icmp with v6",
     "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"icmp 2001:db8::1 > 2001:db8::2 echo-request\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 1: icmp needs IPv4 addresses (use icmp6 for IPv6)"},
    {"tcp without flags", "{\"ctsim\": 1, \"packets\": [{\"at\": \"0s\", \"pkt\": \"tcp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:46: /packets/0/pkt: column 26: a tcp packet needs \"flags\" (e.g. flags S)"},
    {"flow without kind",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"src\": \"10.0.0.1\", \"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:24: /flows/0: missing \"kind\" (tcp, udp, icmp or mix)"},
    {"flow kind misspelt",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tpc\", \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:80\"}]}",
     "bad.json:1:45: /flows/0/kind: \"tpc\" is not one of tcp, udp, icmp, mix (did you mean \"tcp\"?)"},
    {"flow rate and interval",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"count\": 5, \"rate\": \"10/s\", \"interval\": "
     "\"1ms\", \"src\": \"10.0.0.1\", \"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:80: /flows/0/interval: give \"rate\" or \"interval\", not both"},
    {"flow count zero",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"count\": 0, \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:53\"}]}",
     "bad.json:1:61: /flows/0/count: 0 is out of range 1..1000000000"},
    {"flow count without rate",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"count\": 5, \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:53\"}]}",
     "bad.json:1:24: /flows/0: more than one flow needs \"rate\" (e.g. \"100/s\") or \"interval\""},
    {"flow rate format",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"count\": 5, \"rate\": \"10 per second\", "
     "\"src\": \"10.0.0.1\", \"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:72: /flows/0/rate: \"10 per second\" is not a rate (expected \"N/s\", e.g. \"100/s\")"},
    {"flow rate zero",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"count\": 5, \"rate\": \"0/s\", \"src\": "
     "\"10.0.0.1\", \"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:72: /flows/0/rate: rate \"0/s\" must be above 0/s and at most 1e9/s"},
    {"flow weights on non-mix",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"weights\": {\"tcp\": 1}, \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:52: /flows/0/weights: \"weights\" applies to mix flows only"},
    {"flow weights all zero",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"mix\", \"weights\": {\"tcp\": 0, \"udp\": 0}, \"src\": "
     "\"10.0.0.1\", \"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:63: /flows/0/weights: at least one weight must be above 0"},
    {"flow weights unknown kind",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"mix\", \"weights\": {\"tcp\": 1, \"sctp\": 1}, \"src\": "
     "\"10.0.0.1\", \"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:74: /flows/0/weights/sctp: unknown key \"sctp\""},
    {"flow close on udp",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"close\": \"fin\", \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:52: /flows/0/close: \"close\" applies to tcp (and mix) flows only"},
    {"flow close misspelt",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"close\": \"fn\", \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:61: /flows/0/close: \"fn\" is not one of fin, rst, none (did you mean \"fin\"?)"},
    {"flow reply on tcp",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"reply\": false, \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:80\"}]}",
     "bad.json:1:52: /flows/0/reply: \"reply\" applies to udp, icmp (and mix) flows only"},
    {"flow loss above 1",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"loss\": 1.5, \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:80\"}]}",
     "bad.json:1:60: /flows/0/loss: expected a fraction 0..1 (e.g. 0.01), found the number 1.5"},
    {"flow loss as string",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"loss\": \"1%\", \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:80\"}]}",
     "bad.json:1:60: /flows/0/loss: expected a fraction 0..1 (e.g. 0.01), found the string \"1%\""},
    {"flow mixed families",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"10.0.0.0/8\", \"dst\": "
     "\"[2001:db8::1]:53\"}]}",
     "bad.json:1:80: /flows/0/dst: src and dst are of different address families"},
    {"flow without dst", "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"10.0.0.1\"}]}",
     "bad.json:1:24: /flows/0: missing \"dst\" (an address or prefix with an optional port or range, e.g. "
     "\"10.0.0.0/8:1024-65535\")"},
    {"flow bad prefix",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"10.0.0.0/40\", \"dst\": "
     "\"10.0.0.2:53\"}]}",
     "bad.json:1:59: /flows/0/src: prefix length \"40\" must be 0..32"},
    {"flow bad port range",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"10.0.0.1:2000-1000\", \"dst\": "
     "\"10.0.0.2:53\"}]}",
     "bad.json:1:59: /flows/0/src: \"2000-1000\" is not a port or port range within 0..65535 (e.g. 80 or 1024-65535)"},
    {"flow v6 port without brackets",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"2001:db8::/32:443\", \"dst\": "
     "\"[2001:db8::1]:53\"}]}",
     "bad.json:1:59: /flows/0/src: \"2001:db8::/32:443\": an IPv6 prefix with a port goes in brackets, e.g. "
     "\"[2001:db8::/32]:443\""},
    {"flow icmp with ports",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"icmp\", \"src\": \"10.0.0.1\", \"dst\": "
     "\"10.0.0.2:80\"}]}",
     "bad.json:1:79: /flows/0/dst: icmp flows have no ports"},
    {"flow cpu word",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"cpu\": \"spred\", \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:59: /flows/0/cpu: expected a CPU number or \"spread\", found the string \"spred\""},
    {"flow udp without exchanges",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"data_packets\": 0, \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:53\"}]}",
     "bad.json:1:68: /flows/0/data_packets: 0 is out of range 1..10000"},
    {"time beyond the run's span", "{\"ctsim\": 1, \"until\": \"401d\"}",
     "bad.json:1:23: /until: \"401d\" is longer than the 400 days a run may span"},
    {"flow port out of range",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"src\": \"1.1.1.1:99999\", \"dst\": "
     "\"2.2.2.2:53\"}]}",
     "bad.json:1:59: /flows/0/src: \"99999\" is not a port or port range within 0..65535 (e.g. 80 or 1024-65535)"},
    {"flow data_packets range",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"tcp\", \"data_packets\": 100000, \"src\": \"10.0.0.1\", "
     "\"dst\": \"10.0.0.2:80\"}]}",
     "bad.json:1:68: /flows/0/data_packets: 100000 is out of range 0..10000"},
    {"action without do",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"netns\": \"init\"}]}",
     "bad.json:1:57: /actions/0: missing \"do\" (sysctl, flush, delete, netns_add, netns_del, listener_stall, "
     "listener_resume, snapshot, stats, addr_add or addr_del)"},
    {"action do misspelt",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"flsh\"}]}",
     "bad.json:1:76: /actions/0/do: \"flsh\" is not one of sysctl, flush, delete, netns_add, netns_del, "
     "listener_stall, listener_resume, snapshot, stats, addr_add, addr_del (did you mean \"flush\"?)"},
    {"action unknown do with stray key",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"reboot\", \"now\": "
     "true}]}",
     "bad.json:1:76: /actions/0/do: \"reboot\" is not one of sysctl, flush, delete, netns_add, netns_del, "
     "listener_stall, listener_resume, snapshot, stats, addr_add, addr_del\nbad.json:1:86: /actions/0/now: unknown key \"now\""},
    {"action do not a string", "{\"ctsim\": 1, \"actions\": [{\"at\": \"1s\", \"do\": 5}]}",
     "bad.json:1:45: /actions/0/do: expected a string, found the number 5"},
    {"sysctl action without key",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"sysctl\", "
     "\"value\": 10}]}",
     "bad.json:1:57: /actions/0: \"sysctl\" needs \"key\""},
    {"sysctl action without value",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"sysctl\", \"key\": "
     "\"nf_conntrack_udp_timeout\"}]}",
     "bad.json:1:57: /actions/0: \"sysctl\" needs \"value\""},
    {"sysctl action unknown key",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"sysctl\", \"key\": "
     "\"nf_conntrack_udp_timout\", \"value\": 10}]}",
     "bad.json:1:93: /actions/0/key: unknown sysctl \"nf_conntrack_udp_timout\" (did you mean "
     "\"nf_conntrack_udp_timeout\"?)"},
    {"sysctl action value range",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"sysctl\", \"key\": "
     "\"nf_conntrack_checksum\", \"value\": 2}]}",
     "bad.json:1:127: /actions/0/value: 2 is out of range 0..1"},
    {"flush stray key",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"flush\", \"tuple\": "
     "\"udp 1.2.3.4:1 > 5.6.7.8:2\"}]}",
     "bad.json:1:85: /actions/0/tuple: unknown key \"tuple\""},
    {"delete without tuple",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"delete\"}]}",
     "bad.json:1:57: /actions/0: \"delete\" needs \"tuple\""},
    {"delete tuple with flags",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"delete\", "
     "\"tuple\": \"tcp 1.2.3.4:1 > 5.6.7.8:2 flags S\"}]}",
     "bad.json:1:95: /actions/0/tuple: column 27: unexpected \"flags\": a tuple is the packet notation without flags "
     "or options"},
    {"netns_add existing",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"netns_add\", "
     "\"name\": \"init\"}]}",
     "bad.json:1:97: /actions/0/name: namespace \"init\" already exists"},
    {"netns_add without name",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"netns_add\"}]}",
     "bad.json:1:57: /actions/0: \"netns_add\" needs \"name\""},
    {"netns_del unknown",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"netns_del\", "
     "\"name\": \"blu\"}]}",
     "bad.json:1:97: /actions/0/name: no namespace \"blu\""},
    {"unknown listener",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"listener_stall\", "
     "\"listener\": \"x\"}]}",
     "bad.json:1:106: /actions/0/listener: no listener \"x\""},
    {"listener misspelt",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"listener_resume\", "
     "\"listener\": \"evv\"}]}",
     "bad.json:1:107: /actions/0/listener: no listener \"evv\" (did you mean \"ev\"?)"},
    {"listener_stall without listener",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"listener_stall\"}]}",
     "bad.json:1:57: /actions/0: \"listener_stall\" needs \"listener\""},
    {"stats stray key",
     "{\"ctsim\": 1, \"listeners\": [{\"name\": \"ev\"}], \"actions\": [{\"at\": \"1s\", \"do\": \"stats\", \"netns\": "
     "\"init\"}]}",
     "bad.json:1:85: /actions/0/netns: unknown key \"netns\""},
    {"packet before its namespace exists",
     "{\"ctsim\": 1, \"packets\": [{\"at\": \"1s\", \"netns\": \"blue\", \"pkt\": \"udp 1.1.1.1:1 > 2.2.2.2:2\"}], "
     "\"actions\": [{\"at\": \"2s\", \"do\": \"netns_add\", \"name\": \"blue\"}]}",
     "bad.json:1:26: /packets/0: namespace \"blue\" does not exist yet: the netns_add that creates it runs at \"2s\""},
    {"flow before its namespace exists",
     "{\"ctsim\": 1, \"flows\": [{\"at\": \"0s\", \"kind\": \"udp\", \"netns\": \"blue\", \"src\": \"1.1.1.1\", "
     "\"dst\": \"2.2.2.2:53\"}], \"actions\": [{\"at\": \"2s\", \"do\": \"netns_add\", \"name\": \"blue\"}]}",
     "bad.json:1:24: /flows/0: namespace \"blue\" does not exist yet: the netns_add that creates it runs at \"2s\""},
    {"action before its namespace exists",
     "{\"ctsim\": 1, \"actions\": [{\"at\": \"1s\", \"do\": \"flush\", \"netns\": \"blue\"}, {\"at\": \"2s\", \"do\": "
     "\"netns_add\", \"name\": \"blue\"}]}",
     "bad.json:1:63: /actions/0/netns: namespace \"blue\" does not exist yet: the netns_add that creates it runs at "
     "\"2s\""},
    {"rule in a namespace an action creates",
     "{\"ctsim\": 1, \"rules\": [{\"netns\": \"blue\", \"hook\": \"forward\", \"verdict\": \"drop\"}], \"actions\": "
     "[{\"at\": \"2s\", \"do\": \"netns_add\", \"name\": \"blue\"}]}",
     "bad.json:1:34: /rules/0/netns: namespace \"blue\" is created by a netns_add action, but listeners and rules are "
     "set up at the start: list it in \"namespaces\""},
    {"listener in a namespace an action creates",
     "{\"ctsim\": 1, \"listeners\": [{\"netns\": \"blue\"}], \"actions\": [{\"at\": \"2s\", \"do\": \"netns_add\", "
     "\"name\": \"blue\"}]}",
     "bad.json:1:38: /listeners/0/netns: namespace \"blue\" is created by a netns_add action, but listeners and rules "
     "are set up at the start: list it in \"namespaces\""},
    {"verify: not an object", "{\"ctsim\": 1, \"verify\": \"counts\"}",
     "bad.json:1:24: /verify: expected an object, found the string \"counts\""},
    {"verify: misspelt compare word", "{\"ctsim\": 1, \"verify\": {\"compare\": \"count\", \"because\": \"a race\"}}",
     "bad.json:1:36: /verify/compare: \"count\" is not one of exact, counts (did you mean \"counts\"?)"},
    {"verify: counts without because", "{\"ctsim\": 1, \"verify\": {\"compare\": \"counts\"}}",
     "bad.json:1:24: /verify: missing \"because\" (why this scenario is compared on counts only, e.g. \"two CPUs "
     "confirm the same tuple at one instant\")"},
    {"verify: empty because", "{\"ctsim\": 1, \"verify\": {\"compare\": \"counts\", \"because\": \"\"}}",
     "bad.json:1:57: /verify/because: expected the reason in words, found an empty string"},
    {"verify: unknown key", "{\"ctsim\": 1, \"verify\": {\"compare\": \"exact\", \"becuase\": \"x\"}}",
     "bad.json:1:45: /verify/becuase: unknown key \"becuase\" (did you mean \"because\"?)"},
    {"several errors at once", "{\"ctsim\": 1, \"hz\": 0,\n \"cpus\": 300}",
     "bad.json:1:20: /hz: 0 is out of range 1..10000\nbad.json:2:10: /cpus: 300 is out of range 1..256"},
};

const Case& find_case(const std::string& name) {
  for (const Case& c : kCases)
    if (name == c.name) return c;
  FAIL("no case " << name);
  return kCases[0];
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("parse_scenario reports each bad input exactly") {
  std::set<std::string> names, texts;
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    CHECK(names.insert(c.name).second);  // distinct cases
    CHECK(texts.insert(c.text).second);
    ctsim::Scenario s;
    ctsim::Status st = ctsim::parse_scenario("bad.json", c.text, &s);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == ctsim::Status::Code::kInvalidArgument);
    CHECK(st.message() == c.message);
  }
  CHECK(names.size() >= 60);
}

TEST_CASE("verify: compare and because load into the scenario; ctsim run ignores them") {
  ctsim::Scenario s;
  REQUIRE(ctsim::parse_scenario("race.json", R"({"ctsim": 1,
      "verify": {"compare": "counts", "because": "two CPUs confirm the same tuple at one instant"}})",
                                &s)
              .ok());
  CHECK(s.verify_compare == ctsim::VerifyCompare::kCounts);
  CHECK(s.verify_because == "two CPUs confirm the same tuple at one instant");
  REQUIRE(ctsim::parse_scenario("plain.json", R"({"ctsim": 1})", &s).ok());
  CHECK(s.verify_compare == ctsim::VerifyCompare::kExact);
  CHECK(s.verify_because.empty());
  REQUIRE(ctsim::parse_scenario("exact.json", R"({"ctsim": 1, "verify": {"compare": "exact"}})", &s).ok());
  CHECK(s.verify_compare == ctsim::VerifyCompare::kExact);
  // The same run, byte for byte, with and without the key.
  const std::string dir = temp_dir();
  const std::string base = R"({"ctsim": 1, "cpus": 2, "listeners": [{}], "packets": [
      {"at": "0s", "cpu": 0, "pkt": "udp 10.0.0.1:1000 > 10.0.0.2:53"},
      {"at": "0s", "cpu": 1, "pkt": "udp 10.0.0.1:1000 > 10.0.0.2:53"}], "until": "1s")";
  write_file(dir + "/plain.json", base + "}");
  write_file(dir + "/race.json", base + R"(, "verify": {"compare": "counts", "because": "a race"}})");
  const RunResult plain = run_ctsim("run " + dir + "/plain.json --quiet --events - --stats -");
  const RunResult race = run_ctsim("run " + dir + "/race.json --quiet --events - --stats -");
  REQUIRE(plain.code == 0);
  REQUIRE(race.code == 0);
  CHECK(plain.out.find("[NEW]") != std::string::npos);
  CHECK(race.out == replace_all(plain.out, "\"plain\"", "\"race\""));
}

TEST_CASE("names of 1 to 32 identifier characters are accepted") {
  ctsim::Scenario s;
  const std::string longest(32, 'x');
  const std::string text = "{\"ctsim\": 1, \"namespaces\": [{\"name\": \"A-z_0.9\"}, {\"name\": \"" + longest +
                           "\"}], \"listeners\": [{\"name\": \"ev.1\"}]}";
  const ctsim::Status st = ctsim::parse_scenario("ok.json", text, &s);
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.namespaces[0].name == "A-z_0.9");
  CHECK(s.namespaces[1].name == longest);
  CHECK(s.listeners[0].name == "ev.1");
}

TEST_CASE("ctsim check and run exit 2 with the message, for a sample of bad files") {
  const std::string dir = temp_dir();
  for (const char* name :
       {"syntax: missing value", "duplicate key", "boolean sysctl out of range", "listener events value",
        "bad match ct state", "flow rate and interval", "flow mixed families", "sysctl action without value",
        "several errors at once", "action unknown do with stray key"}) {
    CAPTURE(name);
    const Case& c = find_case(name);
    const std::string path = dir + "/bad.json";
    write_file(path, c.text);
    const std::string expected = replace_all(c.message, "bad.json:", path + ":");
    RunResult r = run_ctsim("check " + path);
    CHECK(r.code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    r = run_ctsim("run " + path + " --trace " + dir + "/t.jsonl");
    CHECK(r.code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK_FALSE(file_exists(dir + "/t.jsonl"));
  }
}

TEST_CASE("ctsim exits 2 on a missing file or an unknown command") {
  const std::string dir = temp_dir();
  RunResult r = run_ctsim("run " + dir + "/missing.json");
  CHECK(r.code == 2);
  CHECK(r.err.find("cannot open the scenario file") != std::string::npos);
  r = run_ctsim("frobnicate");
  CHECK(r.code == 2);
}

TEST_CASE("every sysctl of core's table is accepted in a namespace and by the sysctl action") {
  // A value every sysctl accepts (0), and the largest each one accepts;
  // under 5.15, which has them all (nf_conntrack_tcp_ignore_invalid_rst came
  // with row T1 in v5.14: tests/kernel_tcp_test.cc checks its refusal under 5.10).
  std::string sysctls, actions;
  for (const auto& info : ctcore::nf_conntrack_sysctl_table()) {
    sysctls += std::string(sysctls.empty() ? "" : ", ") + "\"" + info.name + "\": 0";
    actions += std::string(", {\"at\": \"1s\", \"do\": \"sysctl\", \"key\": \"") + info.name + "\", \"value\": 1}";
  }
  const std::string text =
      "{\"ctsim\": 1, \"kernel\": \"5.15\", \"namespaces\": [{\"name\": \"a\", \"sysctl\": {" + sysctls +
      "}}], \"actions\": [{\"at\": \"1s\", \"do\": \"sysctl\", \"key\": \"nf_conntrack_max\", \"value\": 5}" + actions +
      "]}";
  ctsim::Scenario s;
  ctsim::Status st = ctsim::parse_scenario("all.json", text, &s);
  INFO(st.message());
  REQUIRE(st.ok());
  REQUIRE(s.namespaces.size() == 1);
  CHECK(s.namespaces[0].sysctls.size() == ctcore::nf_conntrack_sysctl_table().size());
  CHECK(s.actions.size() == ctcore::nf_conntrack_sysctl_table().size() + 1);
  // The largest timeout the kernel takes at HZ=250 is INT_MAX / 250 seconds.
  st = ctsim::parse_scenario(
      "t.json",
      R"({"ctsim": 1, "namespaces": [{"name": "a", "sysctl": {"nf_conntrack_tcp_timeout_established": 8589934}}]})",
      &s);
  CHECK(st.ok());
  st = ctsim::parse_scenario(
      "t.json",
      R"({"ctsim": 1, "namespaces": [{"name": "a", "sysctl": {"nf_conntrack_tcp_timeout_established": 8589935}}]})",
      &s);
  CHECK(st.message() ==
        "t.json:1:94: /namespaces/0/sysctl/nf_conntrack_tcp_timeout_established: 8589935 is out of range 0..8589934");
}
