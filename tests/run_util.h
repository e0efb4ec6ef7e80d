// Helpers for tests that run the ctsim binary: a command runner with exit
// code and captured output, and file reading.
#ifndef CTSIM_TESTS_RUN_UTIL_H_
#define CTSIM_TESTS_RUN_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace ctest {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

inline bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

struct RunResult {
  int code = -1;
  std::string out, err;
};

// A fresh temporary directory for one test.
inline std::string temp_dir() {
  char tmpl[] = "/tmp/ctsim-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "/tmp";
}

// Runs `ctsim ARGS` (ARGS already shell-quoted) and captures its output.
inline RunResult run_ctsim(const std::string& args) {
  const std::string dir = temp_dir();
  const std::string cmd = std::string(CTSIM_BINARY) + " " + args + " >" + dir + "/out 2>" + dir + "/err";
  RunResult r;
  int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(dir + "/out");
  r.err = read_file(dir + "/err");
  std::remove((dir + "/out").c_str());
  std::remove((dir + "/err").c_str());
  ::rmdir(dir.c_str());
  return r;
}

inline std::string source_path(const std::string& rel) { return std::string(CTSIM_SOURCE_DIR) + "/" + rel; }

}  // namespace ctest

#endif  // CTSIM_TESTS_RUN_UTIL_H_
