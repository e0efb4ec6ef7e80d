// The command line as a user meets it: --version, the full --help the man
// page is made from, file options that refuse an option as their value,
// `ctsim plot` parsing, gnuplot run without a shell and reported when
// missing, and the bash completion.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;

namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// What the completion offers for the words typed so far (the last one
// being completed), run in `cwd`.
std::string complete(const std::vector<std::string>& words, const std::string& cwd) {
  std::string w = "'";
  w += CTSIM_BINARY;
  w += "'";
  for (const std::string& x : words) {
    w += " '";
    w += x;
    w += "'";
  }
  const std::string dir = temp_dir();
  const std::string script = dir + "/c.sh";
  write_file(script, "cd '" + cwd + "' || exit 9\nsource '" + source_path("sim/completion/ctsim.bash") +
                         "'\nCOMP_WORDS=(" + w + ")\nCOMP_CWORD=" + std::to_string(words.size()) +
                         "\n_ctsim\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n");
  const std::string cmd = "bash " + script + " >" + dir + "/out 2>&1";
  const int rc = std::system(cmd.c_str());
  REQUIRE(rc == 0);
  return read_file(dir + "/out");
}

}  // namespace

TEST_CASE("--version names the version, the build and the kernel profiles") {
  RunResult r = run_ctsim("--version");
  CHECK(r.code == 0);
  CHECK(has(r.out, "ctsim 0.1"));
  CHECK(has(r.out, "build: "));
  CHECK((has(r.out, "GCC ") || has(r.out, "clang ")));
  // Every profile of the core's table, the default first and marked.
  CHECK(has(r.out, "kernel profiles: 5.10 (default), 5.15, "));
  CHECK(has(r.out, ", 6.18, 6.18-late\n"));
}

TEST_CASE("--help lists every command's options, two spaces before each description") {
  RunResult r = run_ctsim("--help");
  CHECK(r.code == 0);
  for (const char* s :
       {"ctsim run SCENARIO", "ctsim replay CAPTURE", "ctsim export SCENARIO --pcap FILE", "ctsim check SCENARIO",
        "ctsim diff EXPECTED ACTUAL", "ctsim plot RUN_DIR", "--pcap-out FILE  ", "--kernel-setting KEY=VALUE  ",
        "--snapshots-format FORMAT  ", "--trace FILE  ", "--ignore-field NAME  ", "Exit codes:"}) {
    CAPTURE(s);
    CHECK(has(r.out, s));
  }
}

TEST_CASE("an option that takes a file refuses another option as its value") {
  const std::string scenario = source_path("scenarios/seed-walkthrough.json");
  for (const char* opt :
       {"--trace", "--events", "--snapshots", "--explain", "--series", "--plots", "--stats", "--html", "--pcap-out"}) {
    CAPTURE(opt);
    RunResult r = run_ctsim("run " + scenario + " " + opt + " --quiet");
    CHECK(r.code == 2);
    CHECK(has(r.err, std::string(opt) + " needs a file name, not '--quiet'"));
    CHECK_FALSE(file_exists("--quiet"));
  }
  // "-" is stdout, not an option.
  RunResult r = run_ctsim("run " + scenario + " --explain - --quiet");
  CHECK(r.code == 0);
  CHECK(has(r.out, "nf_conntrack_in"));
}

TEST_CASE("plot parses its arguments like every command") {
  CHECK(run_ctsim("plot --help").code == 0);
  CHECK(has(run_ctsim("plot --help").out, "ctsim plot RUN_DIR"));
  RunResult r = run_ctsim("plot a b");
  CHECK(r.code == 2);
  r = run_ctsim("plot --bogus x");
  CHECK(r.code == 2);
  CHECK(has(r.err, "bogus"));
  r = run_ctsim("plot");
  CHECK(r.code == 2);
  CHECK(has(r.err, "plot needs one RUN_DIR"));
}

TEST_CASE("charts: gnuplot runs without a shell, and a missing gnuplot is named") {
  // A directory name no shell string survives unquoted.
  const std::string dir = temp_dir() + "/it's a \"run\" $HOME";
  const std::string scenario = source_path("scenarios/lifecycle/confirm.json");
  const std::string quoted = shell_quote(dir);
  RunResult r = run_ctsim("run " + scenario + " --quiet --plots " + quoted);
  REQUIRE(r.code == 0);
  CHECK(read_file(dir + "/occupancy.svg").find("<svg") != std::string::npos);

  r = run_ctsim("plot " + quoted, "PATH=/nonexistent");
  CHECK(r.code == 2);
  CHECK(has(r.err, "the charts need gnuplot, which is not installed"));
}

TEST_CASE("bash completion: commands, options from --help, scenario files, fixed values") {
  const std::string src = source_path("");
  CHECK(complete({"r"}, src) == "run\nreplay\n");
  CHECK(complete({"e"}, src) == "export\n");
  CHECK(complete({"run", "--pcap-out-format", "pcapn"}, src) == "pcapng\n");
  CHECK(complete({"replay", "--cpu", "r"}, src) == "rss\nround-robin\n");
  CHECK(has(complete({"replay", "scenarios/captures/d"}, src), "scenarios/captures/dns-race.pcap"));
  CHECK(has(complete({"replay", "--kern"}, src), "--kernel-setting"));
  const std::string opts = complete({"run", "--tr"}, src);
  CHECK(has(opts, "--trace\n"));
  CHECK(has(opts, "--trace-gc\n"));
  CHECK(complete({"run", "--snapshots-format", "p"}, src) == "proc\n");
  CHECK(has(complete({"run", "scenarios/seed-w"}, src), "scenarios/seed-walkthrough.json"));
  CHECK(has(complete({"diff", "--ign"}, src), "--ignore-field"));
  CHECK(complete({"sw"}, src) == "sweep\n");
  CHECK(complete({"sweep", "r"}, src) == "run\nrun-one\n");
  CHECK(has(complete({"sweep", "run", "scenarios/sweeps/t"}, src), "scenarios/sweeps/table-size.json"));
  CHECK(has(complete({"sweep", "run", "x.json", "--th"}, src), "--throttle"));
}

#ifdef CTSIM_MAN_PAGE
TEST_CASE("the man page is generated from the help texts") {
  const std::string man = read_file(CTSIM_MAN_PAGE);
  REQUIRE_FALSE(man.empty());
  CHECK(has(man, ".TH CTSIM \"1\""));
  for (const char* s : {"snapshots\\-format", "ignore\\-field", "series\\-every", "SEE ALSO"}) {
    CAPTURE(s);
    CHECK(has(man, s));
  }
}
#endif
