#include "sim/verify/lab_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

extern char** environ;

namespace ctsim::verify {

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (const std::string& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Status run_program(const std::vector<std::string>& argv, ProgramResult* r, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  std::vector<char*> args = c_argv(argv);
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Feed stdin and drain both outputs together (a full pipe would block).
  size_t fed = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  r->out.clear();
  r->err.clear();
  bool out_open = true, err_open = true;
  while (out_open || err_open || in[1] >= 0) {
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {in[1], POLLOUT, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[65536];
    for (int k = 0; k < 2; ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k == 0 ? r->out : r->err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (k == 0 ? out_open : err_open) = false;
      }
    }
    if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(in[1], input.data() + fed, input.size() - fed);
      if (n > 0) fed += static_cast<size_t>(n);
      if (n < 0 && errno != EINTR) fed = input.size();
      if (fed == input.size()) {
        close(in[1]);
        in[1] = -1;
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r->exit_code = decode_status(status);
  return Status::OK();
}

Status run_checked(const std::vector<std::string>& argv, std::string* out, const std::string& input) {
  ProgramResult r;
  if (Status st = run_program(argv, &r, input); !st.ok()) return st;
  if (r.exit_code != 0) {
    std::string err = r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    std::string m = "`";
    m += joined(argv);
    m += "` failed (exit ";
    m += std::to_string(r.exit_code);
    m += ")";
    if (!err.empty()) {
      m += ": ";
      m += err;
    }
    return Status::IOError(m);
  }
  if (out) *out = std::move(r.out);
  return Status::OK();
}

bool program_exists(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t i = 0;
  while (i <= p.size()) {
    const size_t j = p.find(':', i);
    const std::string dir = p.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return false;
}

Status BackgroundProcess::start(const std::vector<std::string>& argv, const std::string& stdout_path,
                                const std::string& stderr_path) {
  const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0 || err < 0) {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    return Status::IOError("cannot create " + stdout_path + ": " + std::strerror(errno));
  }
  std::vector<char*> args = c_argv(argv);
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(out, 1);
    dup2(err, 2);
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    // Its own process group: a Ctrl-C at the terminal reaches kernel-run,
    // which stops its children itself after tearing down in order.
    setpgid(0, 0);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out);
  close(err);
  pid_ = pid;
  return Status::OK();
}

bool BackgroundProcess::exited(int* exit_code) {
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  *exit_code = decode_status(status);
  pid_ = -1;
  return true;
}

void BackgroundProcess::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int BackgroundProcess::stop(int grace_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGCONT);  // a stalled listener must run to exit
  ::kill(pid_, SIGINT);
  int code = -1;
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (exited(&code)) return code;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_now();
  return 128 + SIGKILL;
}

void BackgroundProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

NetnsEnter::NetnsEnter(const std::string& name) {
  home_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string path = "/run/netns/" + name;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (home_ < 0 || fd < 0) {
    status_ = Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  } else if (setns(fd, CLONE_NEWNET) != 0) {
    status_ = Status::IOError("setns " + path + ": " + std::strerror(errno));
  }
  if (fd >= 0) close(fd);
}

NetnsEnter::~NetnsEnter() {
  if (home_ < 0) return;
  if (status_.ok()) (void)setns(home_, CLONE_NEWNET);
  close(home_);
}

}  // namespace ctsim::verify
