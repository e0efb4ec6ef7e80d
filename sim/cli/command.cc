#include "sim/cli/command.h"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <utility>

namespace ctsim::cli {

const char* const kCommands =
    "commands:\n"
    "  run SCENARIO    replay a scenario and write the outputs asked for\n"
    "  replay CAPTURE  replay a pcap/pcapng capture through the simulated conntrack\n"
    "  export SCENARIO write the packets a scenario injects as a capture (--pcap FILE)\n"
    "  check SCENARIO  validate a scenario without running it\n"
    "  diff EXP ACT    compare two JSONL traces record by record\n"
    "  plot RUN_DIR    render the charts of a run saved with `run --plots RUN_DIR`\n"
    "  sweep ACTION F  run a scenario over a grid of settings and seeds: plan, run, run-one, collect\n"
    "  kernels         list the kernel profiles (--kernel V) and the switches they set\n"
    "  kernel-run SCENARIO  play a scenario on this machine's own kernel (root) and record what it did\n"
    "  verify SCENARIO compare ctsim with this machine's kernel on a scenario (root): exit 0 agree, 1 differ\n";

const char* const kExitCodes = "Exit codes: 0 ok, 1 broken invariant or difference, 2 bad usage or input.\n";

void print_usage(std::FILE* to) {
  std::fprintf(
      to, "usage: ctsim <command> [options]\n\n%s\nRun `ctsim --help` or `ctsim <command> --help` for the options.\n%s",
      kCommands, kExitCodes);
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ctsim: %s\n\n", msg.c_str());
  print_usage(stderr);
  return kExitUsage;
}

std::string format_options(const std::string& caption, const po::options_description& opts) {
  constexpr size_t kWidth = 100;
  std::vector<std::pair<std::string, std::string>> rows;
  size_t col = 0;
  for (const auto& o : opts.options()) {
    std::string left = "  " + o->format_name();
    const std::string param = o->format_parameter();
    if (!param.empty()) left += " " + param;
    col = std::max(col, left.size() + 2);
    rows.emplace_back(left, o->description());
  }
  std::string out = caption + ":\n";
  for (const auto& [left, desc] : rows) {
    std::string line = left + std::string(col - left.size(), ' ');
    std::istringstream words(desc);
    std::string w;
    bool first = true;
    while (words >> w) {
      if (!first && line.size() + 1 + w.size() > kWidth) {
        out += line + "\n";
        line = std::string(col, ' ');
        first = true;
      }
      if (!first) line += ' ';
      line += w;
      first = false;
    }
    out += line + "\n";
  }
  return out;
}

po::options_description Command::describe() {
  po::options_description opts(synopsis());
  opts.add_options()("help,h", "show this help");
  add_options(opts);
  return opts;
}

int Command::main(const std::vector<std::string>& args) {
  po::options_description opts = describe();
  po::options_description hidden;
  if (max_positional() == 1)
    hidden.add_options()(positional_name(), po::value<std::string>(), "positional argument");
  else
    hidden.add_options()(positional_name(), po::value<std::vector<std::string>>(), "positional arguments");
  po::positional_options_description pos;
  pos.add(positional_name(), max_positional());
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << format_options(synopsis(), opts) << epilogue();
    return kExitOk;
  }
  for (const char* o : path_options()) {
    if (!vm.count(o)) continue;
    const std::string& v = vm[o].as<std::string>();
    if (v.size() > 1 && v[0] == '-')
      return usage_error(std::string("--") + o + " needs a file name, not '" + v +
                         "' (to name a file that starts with '-', write ./" + v + ")");
  }
  return execute(vm);
}

}  // namespace ctsim::cli
