// Captures recorded with tcpdump/dumpcap in private namespaces
// (tests/data/pcap/make-captures.sh) replayed with `ctsim replay`: each
// link type and capture format decodes, and gives the expected events.
// tcp-any.pcap is `tcpdump -i any` (Linux cooked v2) in the forwarding
// namespace; tcp-any.conntrack-E is what the live kernel's `conntrack -E`
// printed there for the same traffic, and the replay must print the same.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <functional>
#include <set>
#include <string>

#include "tests/run_util.h"

using ctest::read_file;
using ctest::run_ctsim;
using ctest::shell_quote;
using ctest::source_path;
using ctest::temp_dir;
using ctest::write_file;

namespace {

std::string data(const std::string& name) { return source_path("tests/data/pcap/" + name); }

// `ctsim replay CAPTURE ARGS --events FILE --until 5s` (before any timeout
// ends a conn: the live kernel's record stops there too); the events.
struct Replay {
  ctest::RunResult r;
  std::string events;
};
Replay replay(const std::string& capture, const std::string& args = "") {
  const std::string dir = temp_dir();
  Replay out;
  out.r = run_ctsim("replay " + shell_quote(capture) + " --until 5s --events " + dir + "/e " + args);
  out.events = read_file(dir + "/e");
  return out;
}

}  // namespace

TEST_CASE("tcpdump -i any (cooked v2): the same conntrack -E lines as the live kernel, each packet taken once") {
  const Replay x = replay(data("tcp-any.pcap"));
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("tcp-any.conntrack-E")));
  // Every forwarded packet is in the capture twice, in on f0 and out on f1.
  CHECK(x.r.err.find("16 frames, 8 replayed, skipped: 8 outgoing") != std::string::npos);
}

TEST_CASE("tcpdump -i any -y LINUX_SLL (cooked v1): the same lines") {
  const Replay x = replay(data("tcp-any-sll1.pcap"));
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("tcp-any.conntrack-E")));
  CHECK(x.r.err.find("16 frames, 8 replayed, skipped: 8 outgoing") != std::string::npos);
}

TEST_CASE("Ethernet on one leg: the same conversation, the same lines") {
  const Replay x = replay(data("tcp-eth.pcap"));
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("tcp-any.conntrack-E")));
}

TEST_CASE("a snaplen that cuts the TCP options: those frames are skipped and counted, in the summary and the trace") {
  const std::string dir = temp_dir();
  const Replay x = replay(data("tcp-snaplen.pcap"), "--trace " + dir + "/t.jsonl");
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("tcp-snaplen.events")));
  CHECK(x.r.err.find("8 frames, 6 replayed, skipped: 2 snaplen") != std::string::npos);
  const std::string trace = read_file(dir + "/t.jsonl");
  CHECK(trace.find("\"kind\":\"skipped\",\"capture\":") != std::string::npos);
  CHECK(trace.find("\"frame\":2,\"reason\":\"snaplen\"") != std::string::npos);
}

TEST_CASE("pcapng from two interfaces: a UDP packet and the ICMP error it caused, RELATED to its conn") {
  const std::string dir = temp_dir();
  // Only frames entering the firewall (each also shows up leaving it).
  const Replay x =
      replay(data("icmp-error-2if.pcapng"),
             "--filter 'ether dst 02:00:00:00:f0:00 or ether dst 02:00:00:00:f1:00' --pcap-out " + dir + "/o.pcapng");
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("icmp-error-2if.events")));
  CHECK(x.r.err.find("2 frames, 2 replayed") != std::string::npos);
  const std::string out = read_file(dir + "/o.pcapng");
  CHECK(out.find("ct_state=new orig conn=1 verdict=accept") != std::string::npos);
  CHECK(out.find("ct_state=related reply conn=1 verdict=accept") != std::string::npos);
}

TEST_CASE("802.1Q and QinQ tags are read through") {
  const Replay x = replay(data("vlan.pcap"));
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("vlan.events")));
  CHECK(x.r.err.find("3 frames, 3 replayed") != std::string::npos);
}

TEST_CASE("IPv6: a TCP handshake with its options") {
  const Replay x = replay(data("ipv6.pcap"));
  REQUIRE(x.r.code == 0);
  CHECK(x.events == read_file(data("ipv6.events")));
}

TEST_CASE("a capture cut in its last record: what came before is replayed and the damage reported") {
  const std::string dir = temp_dir();
  const std::string whole = read_file(data("tcp-eth.pcap"));
  write_file(dir + "/cut.pcap", whole.substr(0, whole.size() - 10));
  const Replay x = replay(dir + "/cut.pcap");
  REQUIRE(x.r.code == 0);
  CHECK(x.r.err.find("7 frames, 7 replayed; the file ends in a damaged record") != std::string::npos);
}

TEST_CASE("an unreadable capture or a bad filter is exit 2, naming the file, and writes nothing") {
  const std::string dir = temp_dir();
  const ctest::RunResult missing = run_ctsim("replay " + dir + "/nope.pcap --events " + dir + "/e");
  CHECK(missing.code == 2);
  CHECK(missing.err.find(dir + "/nope.pcap: cannot read the capture") != std::string::npos);
  write_file(dir + "/junk.pcap", "this is not a capture");
  const ctest::RunResult junk = run_ctsim("replay " + dir + "/junk.pcap --events " + dir + "/e");
  CHECK(junk.code == 2);
  CHECK(junk.err.find("junk.pcap: cannot read the capture") != std::string::npos);
  const ctest::RunResult filter =
      run_ctsim("replay " + shell_quote(data("vlan.pcap")) + " --filter 'udp port' --events " + dir + "/e");
  CHECK(filter.code == 2);
  CHECK(filter.err.find("filter \"udp port\"") != std::string::npos);
  CHECK(!ctest::file_exists(dir + "/e"));
}

TEST_CASE("tshark reads --pcap-out and shows each packet's comment") {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) {
    MESSAGE("tshark is missing (Debian: apt-get install tshark; .ci/install-deps installs it): not checked");
    return;
  }
  const std::string dir = temp_dir();
  const ctest::RunResult r = run_ctsim("run " + shell_quote(source_path("scenarios/incidents/dns-race-dropped.json")) +
                                       " -q --pcap-out " + dir + "/o.pcapng");
  REQUIRE(r.code == 0);
  const std::string cmd = "tshark -r " + dir + "/o.pcapng -T fields -e frame.interface_name -e frame.comment >" + dir +
                          "/t.txt 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string t = read_file(dir + "/t.txt");
  // The race's loser is dropped at confirm: both verdicts, with the reason.
  CHECK(t.find("init/forward\tct_state=new orig conn=1 verdict=accept") != std::string::npos);
  CHECK(t.find("verdict=drop by=nf_conntrack_confirm") != std::string::npos);
  // Classic pcap through libpcap: tshark reads it too (no comments there).
  const ctest::RunResult c = run_ctsim("run " + shell_quote(source_path("scenarios/incidents/dns-race-dropped.json")) +
                                       " -q --pcap-out " + dir + "/o.pcap --pcap-out-format pcap");
  REQUIRE(c.code == 0);
  const std::string cmd2 = "tshark -r " + dir + "/o.pcap -T fields -e ip.dst >" + dir + "/c.txt 2>/dev/null";
  REQUIRE(std::system(cmd2.c_str()) == 0);
  CHECK(read_file(dir + "/c.txt") == "10.96.0.10\n10.96.0.10\n");
}

TEST_CASE("the teaching capture (scenarios/captures/dns-race): the A/AAAA race is found, as the walk-through says") {
  const std::string dir = temp_dir();
  const ctest::RunResult r = run_ctsim("run " + shell_quote(source_path("scenarios/captures/dns-race.json")) +
                                       " -q --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  const std::string t = read_file(dir + "/t.jsonl");
  CHECK(t.find("\"kind\":\"clash\",\"net\":\"init\",\"conn\":2,\"winner\":1,\"outcome\":\"inserted reply-only\"") !=
        std::string::npos);
  CHECK(t.find("\"kind\":\"end\",\"packets\":2,") != std::string::npos);
  CHECK(t.find("\"clash_resolve\":1,\"drop\":0") != std::string::npos);
  // The live kernel counted the same clash (its -S, recorded with the capture).
  CHECK(read_file(data("dns-race.conntrack-S")).find("clash_resolve=1") != std::string::npos);
  // The README's command line, with no scenario file and no NAT: merged.
  const ctest::RunResult x =
      run_ctsim("replay " + shell_quote(source_path("scenarios/captures/dns-race.pcap")) +
                " --cpus 2 --cpu round-robin --burst 1ms --kernel-setting nf_conntrack_checksum=0 -q --trace " + dir +
                "/x.jsonl");
  REQUIRE(x.code == 0);
  CHECK(read_file(dir + "/x.jsonl").find("\"outcome\":\"merged into winner\"") != std::string::npos);
  // Without the burst they arrive 2 us apart: no race, no clash.
  const ctest::RunResult y =
      run_ctsim("replay " + shell_quote(source_path("scenarios/captures/dns-race.pcap")) +
                " --cpus 2 --cpu round-robin --kernel-setting nf_conntrack_checksum=0 -q --trace " + dir + "/y.jsonl");
  REQUIRE(y.code == 0);
  CHECK(read_file(dir + "/y.jsonl").find("\"kind\":\"clash\"") == std::string::npos);
}

TEST_CASE("rss keeps both directions of a flow on one CPU; a pinned CPU takes every packet") {
  const std::string dir = temp_dir();
  const ctest::RunResult r =
      run_ctsim("replay " + shell_quote(data("tcp-eth.pcap")) + " --cpus 4 -q --trace " + dir + "/t.jsonl");
  REQUIRE(r.code == 0);
  const std::string t = read_file(dir + "/t.jsonl");
  int cpus_seen[4] = {0, 0, 0, 0};
  for (int c = 0; c < 4; ++c)
    cpus_seen[c] = t.find("\"kind\":\"pkt\",\"net\":\"init\",\"cpu\":" + std::to_string(c)) != std::string::npos;
  CHECK(cpus_seen[0] + cpus_seen[1] + cpus_seen[2] + cpus_seen[3] == 1);
  const ctest::RunResult p =
      run_ctsim("replay " + shell_quote(data("tcp-eth.pcap")) + " --cpus 4 --cpu 3 -q --trace " + dir + "/p.jsonl");
  REQUIRE(p.code == 0);
  const std::string pt = read_file(dir + "/p.jsonl");
  CHECK(pt.find("\"kind\":\"pkt\",\"net\":\"init\",\"cpu\":3") != std::string::npos);
  CHECK(pt.find("\"kind\":\"pkt\",\"net\":\"init\",\"cpu\":0") == std::string::npos);
}

TEST_CASE("libpcap is loaded only by a run that reads or writes a capture (dlopen, not at start)") {
  // glibc's loader names every library it loads under LD_DEBUG=libs.
  const ctest::RunResult plain =
      run_ctsim("run " + shell_quote(source_path("scenarios/seed-walkthrough.json")) + " --quiet", "LD_DEBUG=libs");
  CHECK(plain.code == 0);
  CHECK(plain.err.find("libpcap") == std::string::npos);
  const ctest::RunResult capture_run =
      run_ctsim("replay " + shell_quote(data("tcp-eth.pcap")) + " --quiet", "LD_DEBUG=libs");
  CHECK(capture_run.code == 0);
  CHECK(capture_run.err.find("calling init: ") != std::string::npos);
  CHECK(capture_run.err.find("libpcap") != std::string::npos);
}

namespace {

// A classic microsecond pcap of raw IPv4 (LINKTYPE_RAW) frames `ms` apart:
// frame i is a UDP datagram from port 1000 + i, or, when skip(i), four
// bytes that are not IP.
std::string raw_ip_capture(int frames, const std::function<bool(int)>& skip) {
  std::string out;
  auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b2c3d4);  // host order, as libpcap reads it on this machine
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(101);  // LINKTYPE_RAW
  for (int i = 0; i < frames; ++i) {
    std::string f;
    if (skip(i)) {
      f = std::string(4, '\0');  // version nibble 0: not IP
    } else {
      const uint8_t ip[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 70, 1, 198, 18, 71, 1,
                              static_cast<uint8_t>((1000 + i) >> 8), static_cast<uint8_t>(1000 + i), 0, 53, 0, 8, 0, 0};
      f.assign(reinterpret_cast<const char*>(ip), sizeof ip);
      uint32_t sum = 0;
      for (int k = 0; k < 20; k += 2) sum += static_cast<uint8_t>(f[k]) << 8 | static_cast<uint8_t>(f[k + 1]);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      f[10] = static_cast<char>(~sum >> 8);
      f[11] = static_cast<char>(~sum);
    }
    u32(static_cast<uint32_t>(i / 1000));
    u32(static_cast<uint32_t>(i % 1000) * 1000);  // i ms
    u32(static_cast<uint32_t>(f.size()));
    u32(static_cast<uint32_t>(f.size()));
    out += f;
  }
  return out;
}

}  // namespace

TEST_CASE("skips and the summary follow the clock, across the reader's batches of 64") {
  // 200 frames, 1 ms apart; not-IP frames around the batch boundaries and
  // at the end. A skipped frame is reported when the clock reaches the
  // packet before it (the source then reads up to the next one), so its
  // trace record carries that packet's time; the summary counts the frames
  // up to the packet the source holds next, as if read one at a time.
  const std::set<int> skipped = {5, 63, 64, 65, 127, 128, 191, 197, 198, 199};
  const std::string dir = temp_dir();
  write_file(dir + "/c.pcap", raw_ip_capture(200, [&](int i) { return skipped.count(i) != 0; }));
  const ctest::RunResult all = run_ctsim("replay " + dir + "/c.pcap --trace " + dir + "/t.jsonl");
  REQUIRE(all.code == 0);
  CHECK(all.err.find("200 frames, 190 replayed, skipped: 10 not-ip") != std::string::npos);
  const std::string t = read_file(dir + "/t.jsonl");
  // (frame number, 1-based, and the time of the packet before it)
  for (auto [frame, ms] : {std::pair{6, 4}, {64, 62}, {65, 62}, {66, 62}, {128, 126}, {129, 126}, {192, 190},
                           {198, 196}, {199, 196}, {200, 196}}) {
    CAPTURE(frame);
    const size_t rec = t.find(fmt::format("\"frame\":{},\"reason\":\"not-ip\"", frame));
    REQUIRE(rec != std::string::npos);
    const size_t line = t.rfind('\n', rec) + 1;
    CHECK(t.substr(line, t.find(',', line) - line) == fmt::format("{{\"t\":{}", ms * 1'000'000));
  }
  // Cut at 100.5 ms: the packet of 100 ms has arrived and the source holds
  // the one of 101 ms: 102 frames, 4 of them skipped.
  const ctest::RunResult cut = run_ctsim("replay " + dir + "/c.pcap --until 100500us");
  REQUIRE(cut.code == 0);
  CHECK(cut.err.find("102 frames, 98 replayed, skipped: 4 not-ip") != std::string::npos);
}
