// The scenario loader's "table" section (docs/SCENARIO.md "Table"): the global
// hash table size, its limit and its seed.
#include <fmt/format.h>

#include "core/nf_conntrack_core.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

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
  }
  // v5.10: max = 4 x buckets by default, 8 x when the hash size was given.
  if (!max_given) s.max = (buckets_given ? 8 : 4) * s.buckets;
}

}  // namespace ctsim
