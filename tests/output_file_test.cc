// OutputFile and Outputs: a file is complete or absent. Written under a
// temporary name and renamed by publish(); abort() and a write error leave
// nothing behind; a special file (/dev/null, /dev/full) is written in place
// and its write error still reported; Outputs publishes all or none.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "sim/output/output_file.h"
#include "sim/output/outputs.h"
#include "sim/scenario/scenario.h"
#include "sim/world/simulator.h"
#include "tests/run_util.h"

using ctsim::OutputFile;
using ctsim::Status;
using namespace ctest;

namespace {

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("OutputFile: nothing at the target until publish(), then exactly what was written") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/out.txt";
  OutputFile f;
  REQUIRE(f.open(path).ok());
  CHECK(f.is_open());
  f.write("hello ");
  f.write("world\n");
  CHECK_FALSE(file_exists(path));  // only the temporary exists yet
  CHECK(files_in(dir) == 1);
  REQUIRE(f.finish().ok());
  CHECK_FALSE(f.is_open());
  CHECK_FALSE(file_exists(path));
  REQUIRE(f.publish().ok());
  CHECK(read_file(path) == "hello world\n");
  CHECK(files_in(dir) == 1);  // the temporary is gone: renamed
}

TEST_CASE("OutputFile: abort() and the destructor leave nothing, and an old file is kept") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/out.txt";
  write_file(path, "previous run\n");
  {
    OutputFile f;
    REQUIRE(f.open(path).ok());
    f.write("half a run");
    f.abort();
  }
  CHECK(read_file(path) == "previous run\n");
  CHECK(files_in(dir) == 1);
  {
    OutputFile f;
    REQUIRE(f.open(path).ok());
    f.write("half a run");
  }  // destroyed without finish(): a failed run
  CHECK(read_file(path) == "previous run\n");
  CHECK(files_in(dir) == 1);
}

TEST_CASE("OutputFile: an unwritable directory is refused at open, naming the path") {
  OutputFile f;
  const Status s = f.open("/nonexistent-dir/x.jsonl");
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("/nonexistent-dir/x.jsonl: cannot open for writing") != std::string::npos);
  CHECK_FALSE(f.is_open());
}

TEST_CASE("OutputFile: a device is written in place, and its write error is reported") {
  OutputFile null_dev;
  REQUIRE(null_dev.open("/dev/null").ok());
  null_dev.write("discarded");
  CHECK(null_dev.finish().ok());
  CHECK(null_dev.publish().ok());
  CHECK(file_exists("/dev/null"));

  OutputFile full;
  REQUIRE(full.open("/dev/full").ok());
  full.write(std::string(1 << 21, 'x'));  // more than the 1 MiB buffer
  const Status s = full.finish();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("/dev/full: write error") != std::string::npos);
}

// The writer thread (output_file.h, double buffering): many blocks, each
// filled while the one before is being written, arrive whole and in order;
// a write error on a block the thread wrote is reported by finish(); an
// abort with a block in flight joins the thread and leaves nothing.
TEST_CASE("OutputFile: blocks written by the writer thread keep their bytes and order") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/blocks.txt";
  std::string want;
  OutputFile f;
  REQUIRE(f.open(path).ok());
  // Records of varied sizes, numbered, past several blocks: a lost, doubled
  // or reordered block would show.
  for (uint32_t k = 0; want.size() < 5 * OutputFile::kFlushBytes + 12345; ++k) {
    std::string rec = "record " + std::to_string(k) + " " + std::string(k % 301, static_cast<char>('a' + k % 26)) + "\n";
    want += rec;
    ctsim::TextBuffer& b = f.buffer();  // formatted in place, as the trace does
    b.append(rec);
    f.commit();
  }
  REQUIRE(f.finish().ok());
  REQUIRE(f.publish().ok());
  CHECK(read_file(path) == want);
  CHECK(files_in(dir) == 1);
}

TEST_CASE("OutputFile: a write error in the writer thread is reported, and nothing is left") {
  OutputFile full;
  REQUIRE(full.open("/dev/full").ok());
  for (int k = 0; k < 4; ++k) full.write(std::string(OutputFile::kFlushBytes, 'x'));
  const Status s = full.finish();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("/dev/full: write error: No space left on device") != std::string::npos);

  const std::string dir = temp_dir();
  {
    OutputFile f;
    REQUIRE(f.open(dir + "/cut.txt").ok());
    for (int k = 0; k < 3; ++k) f.write(std::string(OutputFile::kFlushBytes, 'y'));
    f.abort();  // a block may still be in flight: joined first
    CHECK_FALSE(f.is_open());
  }
  {
    OutputFile f;
    REQUIRE(f.open(dir + "/dropped.txt").ok());
    for (int k = 0; k < 3; ++k) f.write(std::string(OutputFile::kFlushBytes, 'z'));
  }  // destroyed mid-run: the destructor joins the thread
  CHECK(files_in(dir) == 0);
}

TEST_CASE("Outputs: every file asked for is published together, or none is") {
  ctsim::Scenario sc;
  REQUIRE(ctsim::load_scenario(source_path("scenarios/seed-walkthrough.json"), &sc).ok());
  const std::string dir = temp_dir();
  SUBCASE("all published") {
    ctsim::RunOptions o;
    o.trace_path = dir + "/t.jsonl";
    o.explain_path = dir + "/x.txt";
    o.series_path = dir + "/s.csv";
    ctsim::Simulator sim(sc, o);
    ctsim::RunSummary sum;
    REQUIRE(sim.run(&sum).ok());
    CHECK(read_file(dir + "/t.jsonl").rfind("{\"ctsim_trace\":1,", 0) == 0);
    CHECK(!read_file(dir + "/x.txt").empty());
    CHECK(read_file(dir + "/s.csv").rfind("t_ns,jiffies,table", 0) == 0);
    CHECK(files_in(dir) == 3);
  }
  SUBCASE("one unopenable output: none is left, not even the ones that opened") {
    ctsim::RunOptions o;
    o.trace_path = dir + "/t.jsonl";
    o.events_path = dir + "/missing/e.txt";
    ctsim::Simulator sim(sc, o);
    ctsim::RunSummary sum;
    const Status s = sim.run(&sum);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("missing/e.txt") != std::string::npos);
    CHECK(files_in(dir) == 0);
  }
  SUBCASE("one output fails while writing: none is published") {
    ctsim::RunOptions o;
    o.trace_path = dir + "/t.jsonl";
    o.explain_path = "/dev/full";
    ctsim::Simulator sim(sc, o);
    ctsim::RunSummary sum;
    CHECK_FALSE(sim.run(&sum).ok());
    CHECK(files_in(dir) == 0);
  }
}

TEST_CASE("a snapshot's conntrack -L dump kills the expired conns it walks past, written or not") {
  // The conn expires at 1 s; the GC would meet it only at 2.116 s. The
  // snapshot at 1.5 s dumps the table (ctnetlink_dump_table), which kills
  // it then: the DESTROY event is at 1.5 s whether or not the trace or the
  // snapshot text is written.
  const std::string dir = temp_dir();
  write_file(dir + "/s.json", R"({
    "ctsim": 1, "seed": 1,
    "table": { "buckets": 65536, "max": 4096, "hash_rnd": 1 },
    "namespaces": [ { "name": "init", "sysctl": { "nf_conntrack_udp_timeout": 1 } } ],
    "listeners": [ { "name": "events", "netns": "init" } ],
    "packets": [ { "at": "0s", "netns": "init", "pkt": "udp 198.18.0.1:5000 > 198.18.0.2:53" } ],
    "actions": [ { "at": "1500ms", "do": "snapshot" } ],
    "until": "3s" })");
  const std::string run = "run " + dir + "/s.json --quiet --timestamps --events ";
  REQUIRE(run_ctsim(run + dir + "/alone.txt").code == 0);
  REQUIRE(run_ctsim(run + dir + "/with.txt --trace " + dir + "/t.jsonl --snapshots " + dir + "/s.txt").code == 0);
  const std::string alone = read_file(dir + "/alone.txt");
  CHECK(alone.find("[00000001.500000]\t[DESTROY] udp") != std::string::npos);
  CHECK(alone == read_file(dir + "/with.txt"));
}
