// `ctsim kernels [--markdown]`: the kernel profiles and their switches, as a
// table (one row per switch, one column per profile), so that a user sees
// what `--kernel V` changes before running anything. docs/KERNELS.md's
// table is this command's --markdown output (a test keeps them equal).
#include <cstdio>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/cli/command.h"
#include "sim/output/kernel_profile_table.h"

namespace ctsim::cli {

namespace {

class KernelsCommand : public Command {
 public:
  const char* name() const override { return "kernels"; }
  const char* synopsis() const override { return "ctsim kernels [options]"; }
  const char* epilogue() const override {
    return "\nEach column is a profile for `ctsim run --kernel V` or a scenario's \"kernel\"; each row a switch a\n"
           "scenario may override ({\"base\": \"6.12\", \"udp_stream_assured\": false}). docs/KERNELS.md explains\n"
           "every row.\n";
  }
  const char* positional_name() const override { return "none"; }
  int max_positional() const override { return 0; }
  void add_options(po::options_description& opts) override {
    opts.add_options()("markdown", po::bool_switch(&markdown_), "print the table in Markdown")(
        "names", po::bool_switch(&names_), "print only the profiles' names, one per line");
  }
  int execute(const po::variables_map&) override {
    if (names_) {
      for (const ctcore::kernel_profile_entry& e : ctcore::kernel_profiles()) std::printf("%s\n", e.name);
      return kExitOk;
    }
    std::fputs(kernel_profile_table(markdown_).c_str(), stdout);
    return kExitOk;
  }

 private:
  bool markdown_ = false;
  bool names_ = false;
};

}  // namespace

std::unique_ptr<Command> make_kernels_command() { return std::make_unique<KernelsCommand>(); }

}  // namespace ctsim::cli
