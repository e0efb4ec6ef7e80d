// The explorer page as a file (no browser; explorer_browser_test drives it
// in one): self-contained (nothing to fetch), every template hole filled,
// the same bytes for the same scenario, its log decodable and true to the
// run (the narrative is --explain's text), refused or absent when it cannot
// be written, and a big run cut to the busiest conns with the cut said.
#include <doctest/doctest.h>
#include <zlib.h>

// GCC 12 warns falsely inside nlohmann::json's map (as in flow_generator_test.cc).
#pragma GCC diagnostic ignored "-Warray-bounds"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/run_util.h"

using namespace ctest;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::string base64_decode(const std::string& in) {
  static const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t v = 0;
  int n = 0;
  for (char c : in) {
    const size_t d = digits.find(c);
    if (d == std::string::npos) continue;  // '=' and whitespace
    v = (v << 6) | static_cast<uint32_t>(d);
    if (++n == 4) {
      out += static_cast<char>(v >> 16);
      out += static_cast<char>(v >> 8);
      out += static_cast<char>(v);
      v = 0;
      n = 0;
    }
  }
  if (n == 3) {
    out += static_cast<char>(v >> 10);
    out += static_cast<char>(v >> 2);
  } else if (n == 2) {
    out += static_cast<char>(v >> 4);
  }
  return out;
}

std::string inflate_raw(const std::string& in, size_t size) {
  std::string out(size, '\0');
  z_stream z{};
  REQUIRE(inflateInit2(&z, -15) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
  CHECK(z.total_out == size);
  inflateEnd(&z);
  return out;
}

// An embedded element's inflated bytes (as the page's loadData() reads it).
std::string embedded(const std::string& page, const std::string& id) {
  // (Not std::regex: libstdc++'s recurses per character and overflows the
  // stack on a page's worth of base64.)
  const std::string open = "<script type=\"application/octet-stream\" id=\"" + id + "\" data-size=\"";
  const size_t a = page.find(open);
  REQUIRE(a != std::string::npos);
  const size_t size_end = page.find('"', a + open.size());
  const size_t body = page.find('>', size_end) + 1;
  const size_t end = page.find("</script>", body);
  REQUIRE(end != std::string::npos);
  return inflate_raw(base64_decode(page.substr(body, end - body)),
                     std::stoul(page.substr(a + open.size(), size_end - a - open.size())));
}

// The page's log: its JSON, and how many varints its numbers hold.
struct Log {
  json data;
  size_t numbers = 0;
};
Log log_of(const std::string& page) {
  Log log;
  log.data = json::parse(embedded(page, "run-data"));
  for (unsigned char c : embedded(page, "run-numbers"))
    if (c < 0x80) ++log.numbers;  // the last byte of each varint
  return log;
}

std::string run_page(const std::string& scenario, const std::string& page, const std::string& more = "") {
  const RunResult r = run_ctsim("run " + shell_quote(source_path(scenario)) + " --html " + page + " -q " + more);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  return read_file(page);
}

}  // namespace

TEST_CASE("the page is one self-contained file: nothing fetched, every hole filled, the same bytes twice") {
  const std::string dir = temp_dir();
  const std::string a = run_page("scenarios/seed-walkthrough.json", dir + "/a.html");
  const std::string b = run_page("scenarios/seed-walkthrough.json", dir + "/b.html");
  CHECK(a == b);
  CHECK(a.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK_FALSE(has(a, "/*CTSIM_"));
  // No reference to anything outside the file: no src or href attribute, no
  // CSS url(), no @import, no http(s) address, no fetch or XHR.
  for (const char* outside : {" src=", " href=", "url(", "@import", "http://", "https://", "fetch(", "XMLHttpRequest"})
    CHECK_MESSAGE(!has(a, outside), outside);
  // The template, as committed, has each hole once and in the writer's order.
  const std::string tpl = read_file(source_path("sim/output/explorer/explorer.html"));
  size_t at = 0;
  for (const char* hole : {"/*CTSIM_STYLE*/", "/*CTSIM_DATA_SIZE*/", "/*CTSIM_DATA*/", "/*CTSIM_NUMBERS_SIZE*/",
                           "/*CTSIM_NUMBERS*/", "/*CTSIM_SCRIPT*/"}) {
    const size_t pos = tpl.find(hole, at);
    CHECK_MESSAGE(pos != std::string::npos, hole);
    if (pos != std::string::npos) at = pos;
  }
}

TEST_CASE("the log is the run's: records, conns, chains and the --explain narrative") {
  const std::string dir = temp_dir();
  const RunResult r = run_ctsim("run " + shell_quote(source_path("scenarios/seed-walkthrough.json")) + " --html " +
                                dir + "/w.html --explain " + dir + "/x.txt -q");
  REQUIRE(r.code == 0);
  const Log log = log_of(read_file(dir + "/w.html"));
  const json& d = log.data;
  CHECK(d["scenario"] == "seed-walkthrough");
  CHECK(d["buckets"] == 1024);
  CHECK(d["max"] == 4096);
  CHECK(d["nets"] == json::array({"init"}));
  CHECK(d["listeners"] == json::array({"events"}));
  CHECK(d["conns"].size() == 3);
  CHECK(d["conns"][0][3] == "tcp 192.168.1.2:47562 > 10.0.0.2:80");
  CHECK(d["left_out"] == json({{"conns", 0}, {"records", 0}, {"narrative", 0}, {"after_ns", -1}}));
  // The narrative is --explain's, byte for byte (the page shows its blocks).
  CHECK(d["narrative"] == read_file(dir + "/x.txt"));
  // The numbers' index accounts for every packed number.
  size_t listed = 0, records = 0;
  for (const json& entry : d["numbers"]) {
    listed += entry[1].get<size_t>();
    if (std::string(entry[0]).starts_with("rec.")) {
      if (records == 0) records = entry[1];
      CHECK(entry[1] == records);  // one value per record in every column
    }
  }
  CHECK(listed == log.numbers);
  CHECK(records > 50);
}

TEST_CASE("--html refuses an option as its file, and a run that cannot write it leaves nothing") {
  const std::string dir = temp_dir();
  const std::string scenario = shell_quote(source_path("scenarios/seed-walkthrough.json"));
  RunResult r = run_ctsim("run " + scenario + " --html --quiet");
  CHECK(r.code == 2);
  r = run_ctsim("run " + scenario + " --html " + dir + "/missing/w.html --trace " + dir + "/t.jsonl -q");
  CHECK(r.code == 2);
  CHECK(has(r.err, "missing/w.html"));
  CHECK(std::filesystem::is_empty(dir));
}

TEST_CASE("a run of more than 10,000 conns keeps the busiest and says what it left out") {
  const std::string dir = temp_dir();
  // tests/data/explorer-big.json: 10,050 one-packet UDP conns and one that
  // talks 20 times; of the 10,051 the cut keeps the talker and leaves 51
  // one-packet conns out.
  const json d = log_of(run_page("tests/data/explorer-big.json", dir + "/big.html")).data;
  CHECK(d["left_out"]["conns"] == 51);
  CHECK(d["left_out"]["records"].get<int>() > 0);
  CHECK(d["conns"].size() == 10000);
  bool talker = false;
  for (const json& c : d["conns"]) talker = talker || std::string(c[3]).starts_with("udp 172.16.0.1:");
  CHECK(talker);
}

TEST_CASE("L1: under a 5.19+ kernel profile the page shows one ecache dying list per namespace, no per-CPU lists") {
  const std::string dir = temp_dir();
  const Log v510 =
      log_of(run_page("scenarios/kernels/events-2-missed-destroy.json", dir + "/l510.html", "--kernel 5.10"));
  const Log v618 = log_of(run_page("scenarios/kernels/events-2-missed-destroy.json", dir + "/l618.html"));
  CHECK_FALSE(v510.data.contains("lists"));
  REQUIRE(v618.data.contains("lists"));
  CHECK(v618.data["lists"] == "ecache");
  // The script draws those lists (and no unconfirmed one) from that key.
  const std::string js = read_file(source_path("sim/output/explorer/explorer.js"));
  CHECK(has(js, "D.lists === 'ecache'"));
}
