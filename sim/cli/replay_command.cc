// `ctsim replay CAPTURE [options]`: a capture replayed through the simulated
// conntrack with no scenario file. The options make a one-namespace
// scenario with one `captures` entry and one listener (so that --events
// prints what `conntrack -E` would), checked by the scenario loader like
// any other; every output option of `ctsim run` applies.
// Before <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/cli/command.h"
#include "sim/cli/run_output_options.h"
#include "sim/scenario/scenario.h"

namespace ctsim::cli {

namespace {

class ReplayCommand : public Command {
 public:
  const char* name() const override { return "replay"; }
  const char* synopsis() const override { return "ctsim replay CAPTURE [options]"; }
  const char* epilogue() const override {
    return "\nCAPTURE is a pcap or pcapng file (tcpdump -w). Packet times come from the capture, relative to its\n"
           "first packet. The summary counts the frames skipped, by reason.\n";
  }
  const char* positional_name() const override { return "capture"; }
  std::vector<const char*> path_options() const override { return RunOutputOptions::path_options(); }
  void add_options(po::options_description& opts) override {
    opts.add_options()("netns", po::value(&netns_)->value_name("NAME"),
                       "the namespace the packets arrive in (default init)")(
        "path", po::value(&path_)->value_name("PATH"), "forward (default), input or output")(
        "filter", po::value(&filter_)->value_name("BPF"), "replay only the packets this tcpdump expression matches")(
        "cpus", po::value(&cpus_)->value_name("N"), "simulated CPUs (default 1)")(
        "cpu", po::value(&cpu_)->value_name("HOW"),
        "which CPU each packet arrives on: rss (default: symmetric Toeplitz hash of the flow), round-robin, mac "
        "(as ctsim export marked it), or a CPU number")("offset", po::value(&offset_)->value_name("DURATION"),
                                                        "virtual time of the first packet (default 0s)")(
        "speed", po::value(&speed_)->value_name("X"), "replay X times as fast as captured (default 1)")(
        "burst", po::value(&burst_)->value_name("DURATION"),
        "packets closer than this to the one before arrive at the same instant (default 0s)")(
        "kernel-setting", po::value(&settings_)->value_name("KEY=VALUE"),
        "a namespace sysctl, e.g. nf_conntrack_tcp_loose=0 (repeatable)")(
        "until", po::value(&until_)->value_name("DURATION"),
        "end the run at this virtual time (default: when the last conn is gone)");
    out_.add_options(opts);
  }
  int execute(const po::variables_map& vm) override;

 private:
  RunOutputOptions out_;
  std::string netns_ = "init", path_ = "forward", filter_, cpu_ = "rss", offset_, burst_, until_;
  double speed_ = 1.0;
  unsigned cpus_ = 1;
  std::vector<std::string> settings_;
};

int ReplayCommand::execute(const po::variables_map& vm) {
  if (!vm.count("capture")) return usage_error("replay needs a CAPTURE file");
  if (int rc = out_.validate(); rc != kExitOk) return rc;
  using nlohmann::json;
  json ns = {{"name", netns_}};
  for (const std::string& kv : settings_) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return usage_error("--kernel-setting takes KEY=VALUE (e.g. nf_conntrack_tcp_loose=0), not '" + kv + "'");
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p != value.data() + value.size())
      return usage_error("--kernel-setting " + kv + ": the value must be a non-negative integer");
    ns["sysctl"][key.rfind("net.netfilter.", 0) == 0 ? key.substr(14) : key] = n;
  }
  json cap = {{"file", vm["capture"].as<std::string>()}, {"netns", netns_}, {"path", path_}, {"speed", speed_}};
  unsigned cpu_number = 0;
  auto [p, ec] = std::from_chars(cpu_.data(), cpu_.data() + cpu_.size(), cpu_number);
  if (ec == std::errc{} && p == cpu_.data() + cpu_.size())
    cap["cpu"] = cpu_number;
  else
    cap["cpu"] = cpu_;
  if (!filter_.empty()) cap["filter"] = filter_;
  if (!offset_.empty()) cap["offset"] = offset_;
  if (!burst_.empty()) cap["burst"] = burst_;
  json doc = {{"ctsim", 1},
              {"name", "replay"},
              {"cpus", cpus_},
              {"namespaces", json::array({ns})},
              {"listeners", json::array({json{{"name", "conntrack-E"}, {"netns", netns_}}})},
              {"captures", json::array({cap})}};
  if (!until_.empty()) doc["until"] = until_;
  ctsim::Scenario s;
  // Messages name the options' scenario; relative capture paths stay
  // relative to the working directory (the name has no folder).
  ctsim::Status st = ctsim::parse_scenario("(replay options)", doc.dump(2), &s, out_.load_options());
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return kExitUsage;
  }
  return out_.run(s);
}

}  // namespace

std::unique_ptr<Command> make_replay_command() { return std::make_unique<ReplayCommand>(); }

}  // namespace ctsim::cli
