// The kernel profiles' table (core/nf_conntrack_kernel_profile.h), the
// scenario's "kernel" key, `--kernel` and docs/KERNELS.md's copy of the
// table. What each switch does to the core is tested with the core's area
// (docs/KERNELS.md links every row to its test).
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/nf_conntrack_kernel_profile.h"
#include "sim/output/kernel_profile_table.h"
#include "sim/scenario/scenario.h"
#include "tests/run_util.h"

using ctcore::kernel_profile;

namespace {

const kernel_profile& named(const char* name) {
  const ctcore::kernel_profile_entry* e = ctcore::kernel_profile_find(name);
  REQUIRE(e != nullptr);
  return e->profile;
}

ctsim::Status load(const std::string& json, ctsim::Scenario* s, const std::string& kernel = "") {
  return ctsim::parse_scenario("k.json", json, s, ctsim::ScenarioLoadOptions{kernel});
}

}  // namespace

TEST_CASE("5.10 is the default and is v5.10 in every switch") {
  CHECK(named("5.10") == kernel_profile{});
  CHECK(ctcore::kernel_profiles()[0].name == ctcore::kDefaultKernel);
  ctsim::Scenario s;
  REQUIRE(load(R"({"ctsim": 1})", &s).ok());
  CHECK(s.kernel_name == "5.10");
  CHECK(s.kernel == kernel_profile{});
  CHECK(s.kernel_overrides.empty());
}

TEST_CASE("every switch reads and writes its own member") {
  // Setting one switch away from 5.10 changes the profile, and changes it
  // only where that switch reads: two accessors aliasing one member, or one
  // missing, fail here.
  std::set<std::string> names;
  for (const ctcore::kernel_profile_switch& sw : ctcore::kernel_profile_switches()) {
    CAPTURE(sw.name);
    CHECK(names.insert(sw.name).second);
    kernel_profile p{};
    const uint32_t v = sw.get(p) == 0 ? 1 : 0;
    sw.set(p, v);
    CHECK(sw.get(p) == v);
    CHECK(p != kernel_profile{});
    for (const ctcore::kernel_profile_switch& other : ctcore::kernel_profile_switches())
      if (&other != &sw) CHECK(other.get(p) == other.get(kernel_profile{}));
  }
}

TEST_CASE("the profiles follow the change table's versions") {
  // Spot checks of rows whose version is easy to get wrong.
  CHECK(named("5.15").hash == ctcore::ct_hash_form::kSiphashStruct);
  CHECK(named("6.6").hash == ctcore::ct_hash_form::kSiphashTuple);
  CHECK(named("5.15").unconfirmed_list);   // L1 came in 5.19
  CHECK(!named("6.1").unconfirmed_list);
  CHECK(named("5.15").events_default == 1);  // L3 came in 5.19
  CHECK(named("6.1").events_default == 2);
  CHECK(!named("5.15").udp_stream_assured);  // 5.16, backported to 5.15.3
  CHECK(named("5.15-late").udp_stream_assured);
  CHECK(named("6.1").chain_max_base == 8);  // 50 + rand(30) from 6.3 / 6.1.20
  CHECK(named("6.1-late").chain_max_base == 50);
  CHECK(!named("6.6").clash_reverse);  // K1 is 6.12 only
  CHECK(named("6.12").clash_reverse);
  CHECK(named("6.18").redelivery == ctcore::ct_redelivery::kListOnePerRun);  // 6.18.0 has the inverted check
  CHECK(named("6.18-late").tcp_rst_direction_check);  // 6.18.35
  CHECK(!named("6.18").tcp_rst_direction_check);
  // Each profile differs from the one before it (no accidental copy).
  const auto all = ctcore::kernel_profiles();
  for (size_t i = 1; i < all.size(); ++i) {
    CAPTURE(all[i].name);
    CHECK(all[i].profile != all[i - 1].profile);
  }
}

TEST_CASE("a scenario names a profile, or a base with overrides") {
  ctsim::Scenario s;
  REQUIRE(load(R"({"ctsim": 1, "kernel": "6.18"})", &s).ok());
  CHECK(s.kernel_name == "6.18");
  CHECK(s.kernel == named("6.18"));

  REQUIRE(load(R"({"ctsim": 1, "kernel": {"gc": "slices", "base": "6.12", "udp_stream_assured": false}})", &s).ok());
  CHECK(s.kernel_name == "6.12");
  kernel_profile want = named("6.12");
  want.udp_stream_assured = false;
  want.gc = ctcore::ct_gc_mode::kSlices;
  CHECK(s.kernel == want);
  // In the switches' order, whatever the file's.
  REQUIRE(s.kernel_overrides.size() == 2);
  CHECK(s.kernel_overrides[0] == std::pair<std::string, std::string>("gc", "slices"));
  CHECK(s.kernel_overrides[1] == std::pair<std::string, std::string>("udp_stream_assured", "false"));
}

TEST_CASE("--kernel replaces the scenario's kernel, overrides included") {
  ctsim::Scenario s;
  REQUIRE(load(R"({"ctsim": 1, "kernel": {"base": "6.12", "udp_stream_assured": false}})", &s, "5.15").ok());
  CHECK(s.kernel_name == "5.15");
  CHECK(s.kernel == named("5.15"));
  CHECK(s.kernel_overrides.empty());
}

TEST_CASE("bad kernel keys are reported with where and what was expected") {
  ctsim::Scenario s;
  ctsim::Status st = load(R"({"ctsim": 1, "kernel": "6.2"})", &s);
  CHECK(st.message().find("k.json:1:24: /kernel: \"6.2\" is not one of 5.10, 5.15") != std::string::npos);
  st = load(R"({"ctsim": 1, "kernel": {"udp_stream_assured": false}})", &s);
  CHECK(st.message().find("/kernel: missing \"base\" (5.10, 5.15,") != std::string::npos);
  st = load(R"({"ctsim": 1, "kernel": {"base": "6.1", "udp_stream_assurd": false}})", &s);
  CHECK(st.message().find("udp_stream_assured") != std::string::npos);  // the did-you-mean
  st = load(R"({"ctsim": 1, "kernel": {"base": "6.1", "gc": "fast", "events_default": 3, "clash_reverse": 1}})", &s);
  CHECK(st.message().find("/kernel/gc: \"fast\" is not one of slices, whole_table, autotune, autotune_mean") !=
        std::string::npos);
  CHECK(st.message().find("/kernel/events_default") != std::string::npos);
  CHECK(st.message().find("/kernel/clash_reverse: expected true or false") != std::string::npos);
  st = load(R"({"ctsim": 1, "kernel": 6.1})", &s);
  CHECK(st.message().find("/kernel: expected a kernel profile name") != std::string::npos);
}

TEST_CASE("ctsim run --kernel: the trace header names the profile; 5.10 is today's bytes") {
  const std::string scen = ctest::shell_quote(ctest::source_path("scenarios/seed-walkthrough.json"));
  const ctest::RunResult plain = ctest::run_ctsim("run " + scen + " --quiet --trace -");
  const ctest::RunResult v510 = ctest::run_ctsim("run " + scen + " --quiet --trace - --kernel 5.10");
  REQUIRE(plain.code == 0);
  CHECK(v510.out == plain.out);
  const ctest::RunResult v618 = ctest::run_ctsim("run " + scen + " --quiet --trace - --kernel 6.18");
  REQUIRE(v618.code == 0);
  CHECK(v618.out.substr(0, v618.out.find('\n')).find("\"kernel\":\"6.18\"") != std::string::npos);
  const ctest::RunResult bad = ctest::run_ctsim("run " + scen + " --kernel 4.19");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--kernel takes one of 5.10, 5.15") != std::string::npos);
}

TEST_CASE("docs/KERNELS.md's table is ctsim kernels --markdown") {
  const std::string doc = ctest::read_file(ctest::source_path("docs/KERNELS.md"));
  const std::string begin = "<!-- kernel-profile-table:begin -->\n", end = "<!-- kernel-profile-table:end -->";
  const size_t b = doc.find(begin), e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const std::string table = doc.substr(b + begin.size(), e - b - begin.size());
  INFO("regenerate with: ctsim kernels --markdown");
  CHECK(table == ctsim::kernel_profile_table(true));
}
