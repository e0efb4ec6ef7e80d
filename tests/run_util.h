// Helpers for tests that run the ctsim binary: a command runner with exit
// code and captured output, file reading, and temporary directories.
//
// Temporary directories live under one directory per test process,
// $TMPDIR/ctsim-test-XXXXXX (TMPDIR defaults to /tmp), which is removed
// with everything in it when the process exits, failed checks included.
#ifndef CTSIM_TESTS_RUN_UTIL_H_
#define CTSIM_TESTS_RUN_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// The lines of `text` that are not empty, in order (recorded tool output).
inline std::vector<std::string> nonempty_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

inline bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

struct RunResult {
  int code = -1;
  std::string out, err;
};

// The process's temporary root: made on first use, removed at exit.
class TempRoot {
 public:
  TempRoot() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ctsim-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror(("mkdtemp " + tmpl).c_str());
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  // A fresh directory inside the root.
  std::string fresh() { return path_ + "/" + std::to_string(++made_); }

 private:
  std::string path_;
  unsigned made_ = 0;
};

// A fresh temporary directory for one test (removed with the root at exit).
inline std::string temp_dir() {
  static TempRoot root;
  const std::string d = root.fresh();
  std::filesystem::create_directory(d);
  return d;
}

// Runs `ctsim ARGS` (ARGS already shell-quoted) and captures its output.
// `env`: assignments put before the command ("PATH=/x"), or empty.
inline RunResult run_ctsim(const std::string& args, const std::string& env = "") {
  const std::string dir = temp_dir();
  const std::string cmd =
      env + (env.empty() ? "" : " ") + std::string(CTSIM_BINARY) + " " + args + " >" + dir + "/out 2>" + dir + "/err";
  RunResult r;
  int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(dir + "/out");
  r.err = read_file(dir + "/err");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

inline std::string source_path(const std::string& rel) { return std::string(CTSIM_SOURCE_DIR) + "/" + rel; }

// `s` as one shell word (single-quoted; a quote inside becomes '\'').
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Every scenario in the repository: scenarios/**/*.json but the JSON Schemas
// (scenarios/schema.json, scenarios/sweep-schema.json), the sweep files
// (scenarios/sweeps/) and the soak (scenarios/soak/: minutes of CPU, a
// documented command, not a test), relative to the source tree, sorted.
inline std::vector<std::string> repo_scenarios() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  const fs::path src = source_path("");
  for (const auto& e : fs::recursive_directory_iterator(src / "scenarios")) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    if (e.path() == src / "scenarios" / "schema.json" || e.path() == src / "scenarios" / "sweep-schema.json") continue;
    if (e.path().parent_path() == src / "scenarios" / "sweeps") continue;
    if (e.path().parent_path() == src / "scenarios" / "soak") continue;
    out.push_back(fs::relative(e.path(), src).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ctest

#endif  // CTSIM_TESTS_RUN_UTIL_H_
