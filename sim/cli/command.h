// The command line's building blocks: exit codes, usage errors, the
// `--help` layout (help2man makes the man page from it), and Command, one
// subcommand with its options (Boost.Program_options) and its work.
//
// Exit codes: 0 success; 1 a broken invariant (or, for diff, a difference);
// 2 bad usage or bad input (nothing run, nothing written).
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_CLI_COMMAND_H_
#define CTSIM_SIM_CLI_COMMAND_H_

#include <boost/program_options.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ctsim::cli {

namespace po = boost::program_options;

constexpr int kExitOk = 0;
constexpr int kExitBroken = 1;
constexpr int kExitUsage = 2;

// The commands, one line each, as --help and usage errors list them.
extern const char* const kCommands;
extern const char* const kExitCodes;

void print_usage(std::FILE* to);
// Prints `msg` and the usage to stderr. Returns kExitUsage.
int usage_error(const std::string& msg);

// Prints `opts` as `--help` shows them: the caption, then each option and
// its argument, two spaces, and its description wrapped at word boundaries
// (help2man needs the two spaces to tell an option from its description).
std::string format_options(const std::string& caption, const po::options_description& opts);

// One subcommand: its options (bound to its own fields), its positional
// arguments and what it does.
class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  // The synopsis, e.g. "ctsim run SCENARIO [options]".
  virtual const char* synopsis() const = 0;
  // Text after the options in --help (may be empty).
  virtual const char* epilogue() const { return ""; }
  // The positional arguments: their name and how many at most.
  virtual const char* positional_name() const = 0;
  virtual int max_positional() const { return 1; }
  // Options that name a file or directory to write: a value that looks
  // like an option ("--quiet") is refused, not taken as a file name.
  virtual std::vector<const char*> path_options() const { return {}; }
  virtual void add_options(po::options_description& opts) = 0;
  // Runs with the parsed arguments. Returns the exit code.
  virtual int execute(const po::variables_map& vm) = 0;

  // The options, with --help first.
  po::options_description describe();
  // Parses `args` (what follows the command's name), answers --help,
  // refuses an option given as a path_options() value, then execute().
  // Returns the exit code.
  int main(const std::vector<std::string>& args);
};

// The subcommands (each in its own file).
std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_check_command();
std::unique_ptr<Command> make_diff_command();
std::unique_ptr<Command> make_plot_command();
std::unique_ptr<Command> make_sweep_command();
std::unique_ptr<Command> make_replay_command();
std::unique_ptr<Command> make_export_command();
std::unique_ptr<Command> make_kernels_command();
std::unique_ptr<Command> make_kernel_run_command();
std::unique_ptr<Command> make_verify_command();

}  // namespace ctsim::cli

#endif  // CTSIM_SIM_CLI_COMMAND_H_
