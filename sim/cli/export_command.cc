// `ctsim export SCENARIO --pcap FILE`: the packets a scenario injects, as a
// capture (Ethernet frames with valid checksums unless marked `badsum`), so
// that tcpreplay can send the same traffic to a real kernel and `ctsim
// replay` can read it back. The scenario is run (flows' packets depend on
// what the box did to the ones before), with no other output.
#include <cstdio>
#include <string>

#include "sim/cli/command.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"

namespace ctsim::cli {

namespace {

class ExportCommand : public Command {
 public:
  const char* name() const override { return "export"; }
  const char* synopsis() const override { return "ctsim export SCENARIO --pcap FILE [options]"; }
  const char* epilogue() const override {
    return "\nEach frame's source MAC is 02:00:00:00:HH:LL, HHLL the CPU the scenario put it on (replay's --cpu mac\n"
           "reads it back); its destination MAC 02:00:00:00:HH:LL numbers its namespace and path (NETNS/PATH) from\n"
           "1 in the order they first appear (pcapng names its interfaces so). When there are several, the summary\n"
           "lists them: a scenario's captures entry replays them with \"interfaces\": [those names].\n";
  }
  const char* positional_name() const override { return "scenario"; }
  std::vector<const char*> path_options() const override { return {"pcap"}; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("pcap", po::value(&ro_.injected_pcap_path)->value_name("FILE"),
                       "write the packets the scenario injects to FILE")(
        "pcap-format", po::value(&format_)->value_name("FORMAT"),
        "'pcap' (default: classic, nanosecond, via libpcap) or 'pcapng'");
  }
  int execute(const po::variables_map& vm) override {
    if (!vm.count("scenario")) return usage_error("export needs a SCENARIO file");
    if (ro_.injected_pcap_path.empty()) return usage_error("export needs --pcap FILE");
    if (format_ != "pcap" && format_ != "pcapng")
      return usage_error("--pcap-format takes 'pcap' or 'pcapng', not '" + format_ + "'");
    ro_.injected_pcap_format = format_ == "pcap" ? PcapFormat::kPcap : PcapFormat::kPcapng;
    ctsim::Scenario s;
    ctsim::Status st = ctsim::load_scenario(vm["scenario"].as<std::string>(), &s);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return kExitUsage;
    }
    ctsim::Simulator sim(s, ro_);
    ctsim::RunSummary sum;
    st = sim.run(&sum);
    if (!st.ok()) {
      std::fprintf(stderr, "ctsim: %s\n", st.message().c_str());
      return kExitUsage;
    }
    // Several places: the captures entry that replays them needs their
    // interfaces, in this numbering.
    std::string interfaces;
    if (sum.exported_interfaces.size() > 1)
      for (const std::string& name : sum.exported_interfaces)
        interfaces += (interfaces.empty() ? "; interfaces: \"" : ", \"") + name + "\"";
    std::fprintf(stderr, "ctsim: %s: %llu packets exported to %s%s\n", s.name.c_str(),
                 static_cast<unsigned long long>(sum.packets), ro_.injected_pcap_path.c_str(), interfaces.c_str());
    return kExitOk;
  }

 private:
  ctsim::RunOptions ro_;
  std::string format_ = "pcap";
};

}  // namespace

std::unique_ptr<Command> make_export_command() { return std::make_unique<ExportCommand>(); }

}  // namespace ctsim::cli
