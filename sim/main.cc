// ctsim: the command line. `ctsim --help` prints every command's options
// (help2man makes the man page from it); each command (sim/cli/) parses its
// arguments with Boost.Program_options.
//
// Exit codes: 0 success; 1 a broken invariant (or, for diff, a difference);
// 2 bad usage or bad input (nothing run, nothing written).
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/cli/command.h"

namespace {

using namespace ctsim::cli;

std::vector<std::unique_ptr<Command>> all_commands() {
  std::vector<std::unique_ptr<Command>> c;
  c.push_back(make_run_command());
  c.push_back(make_replay_command());
  c.push_back(make_export_command());
  c.push_back(make_check_command());
  c.push_back(make_diff_command());
  c.push_back(make_plot_command());
  c.push_back(make_sweep_command());
  c.push_back(make_kernels_command());
  c.push_back(make_kernel_run_command());
  c.push_back(make_verify_command());
  return c;
}

// `ctsim --help`: the commands, then every command's options. help2man
// turns this into the man page (ctsim.1), so it is the whole reference.
void print_full_help() {
  std::ostringstream out;
  out << "usage: ctsim <command> [options]\n       ctsim --version\n\n" << kCommands << "\n";
  for (const auto& c : all_commands()) out << format_options(c->synopsis(), c->describe()) << c->epilogue() << "\n";
  out << kExitCodes;
  std::fputs(out.str().c_str(), stdout);
}

void print_version() {
#if defined(__clang__)
  const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char* compiler = "GCC " __VERSION__;
#else
  const char* compiler = "unknown compiler";
#endif
  // The kernel profiles this build simulates (`ctsim kernels` has their
  // switches), the default marked.
  std::string profiles;
  for (const ctcore::kernel_profile_entry& e : ctcore::kernel_profiles()) {
    if (!profiles.empty()) profiles += ", ";
    profiles += e.name;
    if (e.name == ctcore::kDefaultKernel) profiles += " (default)";
  }
  std::printf("ctsim %s\nbuild: %s, %s\nkernel profiles: %s\n", CTSIM_VERSION, CTSIM_BUILD_TYPE, compiler,
              profiles.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  for (const auto& c : all_commands())
    if (cmd == c->name()) return c->main(rest);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_full_help();
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    print_version();
    return kExitOk;
  }
  return usage_error("unknown command '" + cmd + "'");
}
