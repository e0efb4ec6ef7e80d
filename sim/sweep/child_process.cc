// First: before any <nlohmann/json.hpp> (see there).
#include "sim/scenario/json_gcc12_workaround.h"

#include "sim/sweep/child_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace ctsim::sweep {

Status run_child(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path,
                 ChildOutcome* out) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty())
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!stderr_path.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The wall clock here only sizes Slurm limits (see the header).
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::IOError(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) return Status::IOError(fmt::format("waiting for {}: {}", argv[0], std::strerror(errno)));
  }
  out->wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out->max_rss_kib = ru.ru_maxrss;
  out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  return Status::OK();
}

std::string self_executable() {
  std::string buf(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "ctsim";
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace ctsim::sweep
