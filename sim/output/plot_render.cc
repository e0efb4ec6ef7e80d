#include "sim/output/plot_render.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace ctsim {

std::string gnuplot_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

namespace {

// Runs `argv` in directory `cwd` with its stderr sent to `log_name` there,
// and waits for it. Returns the spawn error (errno) in *spawn_errno and
// false when it could not start; else true with its wait status in *status.
bool run_program(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log_name,
                 int* spawn_errno, int* status) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *spawn_errno = rc;
    return false;
  }
  while (::waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) {
      *status = -1;
      break;
    }
  }
  return true;
}

}  // namespace

Status render_plots(const std::string& plots_dir, const std::string& data_dir, const std::string& gnuplot) {
  static const char* const kCharts[] = {"occupancy", "lifecycle", "gc", "listeners", "chains"};
  // gnuplot runs inside the data directory and names its files relative to
  // it: the scripts pass paths on to the shell (system()) and to eval'd
  // plot commands, which would not survive every character a directory
  // name may hold.
  std::error_code ec;
  const std::string scripts = std::filesystem::absolute(plots_dir, ec).string();
  if (ec) return Status::IOError(fmt::format("{}: {}", plots_dir, ec.message()));
  for (const char* chart : kCharts) {
    for (const char* fmt_name : {"png", "svg"}) {
      const std::string outfile = fmt::format("{}.{}", chart, fmt_name);
      const std::string script = fmt::format("{}/{}.gp", scripts, chart);
      const std::string log_name = fmt::format("{}.{}.log", chart, fmt_name);
      const std::string log = fmt::format("{}/{}", data_dir, log_name);
      const std::string vars = fmt::format("plotsdir={}; datadir='.'; outfile={}; fmt='{}'", gnuplot_string(scripts),
                                           gnuplot_string(outfile), fmt_name);
      int spawn_errno = 0, status = 0;
      if (!run_program({gnuplot, "-e", vars, script}, data_dir, log_name, &spawn_errno, &status)) {
        std::remove(log.c_str());
        if (spawn_errno == ENOENT)
          return Status::IOError(
              fmt::format("the charts need {}, which is not installed (Debian: apt-get install "
                          "gnuplot-nox)",
                          gnuplot));
        return Status::IOError(fmt::format("cannot run {}: {}", gnuplot, std::strerror(spawn_errno)));
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Status::IOError(fmt::format("{} failed on {} (its messages are in {})", gnuplot, script, log));
      std::remove(log.c_str());
    }
  }
  return Status::OK();
}

}  // namespace ctsim
