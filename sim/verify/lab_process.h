// Programs kernel-run starts (ip, nft, sysctl, conntrack), each with an
// argument vector and no shell, and the namespace switch of one thread.
//
// Threading: run_program and BackgroundProcess may be used from any
// thread; NetnsEnter changes only the calling thread's namespace.
#ifndef CTSIM_SIM_VERIFY_LAB_PROCESS_H_
#define CTSIM_SIM_VERIFY_LAB_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "sim/engine/status.h"

namespace ctsim::verify {

struct ProgramResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out, err;
};

// Runs argv to its end with `input` on its stdin; an error only when it
// could not be started.
Status run_program(const std::vector<std::string>& argv, ProgramResult* r, const std::string& input = "");
// run_program, and an error (naming the command and its stderr) unless it
// exited with 0.
Status run_checked(const std::vector<std::string>& argv, std::string* out = nullptr, const std::string& input = "");

// Whether `name` is found in PATH (or is a path to an executable).
bool program_exists(const std::string& name);

// A program left running (conntrack -E), its stdout and stderr into files.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess() { kill_now(); }

  Status start(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path);
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Whether it has exited on its own (and reaps it then: *exit_code).
  bool exited(int* exit_code);
  void signal(int sig) const;
  // SIGINT (conntrack -E prints its count and flushes), waits up to
  // `grace_ms`, then SIGKILL. Returns its exit code.
  int stop(int grace_ms = 2000);
  void kill_now();

 private:
  pid_t pid_ = -1;
};

// Moves the calling thread into network namespace /run/netns/<name> and
// back to where it was when destroyed.
class NetnsEnter {
 public:
  explicit NetnsEnter(const std::string& name);
  ~NetnsEnter();
  NetnsEnter(const NetnsEnter&) = delete;
  NetnsEnter& operator=(const NetnsEnter&) = delete;
  const Status& status() const { return status_; }

 private:
  int home_ = -1;
  Status status_;
};

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_LAB_PROCESS_H_
