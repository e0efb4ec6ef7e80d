// The scenario loader's "table" section (docs/SCENARIO.md "Table"): the global
// hash table size, its limit and its seed.
#include <fmt/format.h>

#include "core/nf_conntrack_core.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

namespace {
constexpr SimTime kMaxGcPhase = 3600 * kNsPerSec;
}  // namespace

void load_table(Checker& c, const json& doc, Scenario* out) {
  Scenario& s = *out;
  s.buckets = ctcore::nf_conntrack_default_buckets(kDefaultRamBytes);
  bool max_given = false;
  bool buckets_given = false;
  s.hash_rnd = draw_u32(s.seed, kStreamHashRnd);
  if (doc.contains("table") && c.is_object(doc["table"], "/table")) {
    const json& t = doc["table"];
    c.only_keys(t, "/table", scenario_keys("/table"));
    c.required_keys(t, "/table", "/table");
    if (t.contains("buckets"))
      if (auto v = c.uint(t["buckets"], "/table/buckets", 1, 1u << 26)) {
        s.buckets = static_cast<uint32_t>(*v);
        buckets_given = true;
      }
    if (t.contains("max"))
      if (auto v = c.uint(t["max"], "/table/max", 0, 0x7fffffff)) {
        s.max = static_cast<uint32_t>(*v);
        max_given = true;
      }
    if (t.contains("hash_rnd"))
      if (auto v = c.uint(t["hash_rnd"], "/table/hash_rnd", 0, 0xffffffffull)) s.hash_rnd = static_cast<uint32_t>(*v);
    if (t.contains("exact_walks"))
      if (auto v = c.boolean(t["exact_walks"], "/table/exact_walks")) s.exact_walks = *v;
    // When gc_worker first runs: the kernel's GC phase on a running machine
    // is unknown, so a scenario that lines up with a recording places it.
    if (t.contains("gc_phase"))
      if (auto v = c.duration(t["gc_phase"], "/table/gc_phase", s.hz)) {
        if (*v > kMaxGcPhase)
          c.error("/table/gc_phase", "expected at most 1h (the GC's first run, from the start)");
        else
          s.gc_first_run = static_cast<uint32_t>(static_cast<uint64_t>(*v) * s.hz / kNsPerSec);
      }
  }
  // v5.10: max = 4 x buckets by default, 8 x when the hash size was given.
  if (!max_given) s.max = (buckets_given ? 8 : 4) * s.buckets;
}

}  // namespace ctsim
