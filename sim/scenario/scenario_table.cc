// The scenario loader's "table" section (docs/SCENARIO.md "Table"): the global
// hash table size, its limit, its seed and the machine's memory they follow.
#include <fmt/format.h>

#include "core/nf_conntrack_core.h"
#include "sim/engine/rng.h"
#include "sim/scenario/memory_size.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"
#include "sim/scenario/siphash_key_hex.h"

namespace ctsim {

using nlohmann::json;

namespace {

// The 128-bit key a siphash profile draws from `seed` (the scenario's seed
// when hash_rnd is left out, or an integer hash_rnd).
ctcore::siphash_key_t draw_siphash_key(uint64_t seed) {
  Rng rng(seed, kStreamSiphashRnd);
  ctcore::siphash_key_t key;
  key.key[0] = rng.next();
  key.key[1] = rng.next();
  return key;
}

// table.hash_rnd: an integer (v5.10's u32 jhash seed) or, under a siphash
// profile, the 128-bit key as 32 hex digits. An integer under a siphash
// profile seeds the key (so a scenario that fixes its buckets under v5.10
// still runs, reproducibly, under --kernel 6.18); 32 hex digits under v5.10
// are refused: its seed has 32 bits.
void load_hash_rnd(Checker& c, const json& j, Scenario& s) {
  const std::string ptr = "/table/hash_rnd";
  const bool siphash = s.kernel.hash != ctcore::ct_hash_form::kJhash2;
  if (!siphash) {
    if (j.is_string()) {
      c.error(ptr, fmt::format("expected an integer 0..4294967295 (kernel {} hashes with jhash2 and a 32-bit seed); "
                               "32 hex digits are the 128-bit key of the siphash kernels (5.15 and later)",
                               s.kernel_name));
      return;
    }
    if (auto v = c.uint(j, ptr, 0, 0xffffffffull)) s.hash_rnd = static_cast<uint32_t>(*v);
    return;
  }
  if (!j.is_string()) {
    if (!j.is_number()) {
      c.error(ptr, fmt::format("expected the 128-bit key as a string of 32 hex digits, e.g. "
                               "\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\", or an integer 0..4294967295 that seeds it "
                               "(kernel {} hashes with siphash)",
                               s.kernel_name));
      return;
    }
    if (auto v = c.uint(j, ptr, 0, 0xffffffffull)) s.siphash_rnd = draw_siphash_key(*v);
    return;
  }
  const std::string text = j.get<std::string>();
  const auto key = parse_siphash_key_hex(text);
  if (!key.ok()) {
    c.error(ptr, fmt::format("column {}: {}", key.error().column + 1, key.error().what));
    return;
  }
  s.siphash_rnd = *key;
}

constexpr SimTime kMaxGcPhase = 3600 * kNsPerSec;

}  // namespace

std::string hash_rnd_text(const Scenario& s) {
  if (s.kernel.hash == ctcore::ct_hash_form::kJhash2) return std::to_string(s.hash_rnd);
  return format_siphash_key_hex(s.siphash_rnd);
}

void load_table(Checker& c, const json& doc, Scenario* out) {
  Scenario& s = *out;
  s.memory = kDefaultRamBytes;
  bool max_given = false;
  bool buckets_given = false;
  s.hash_rnd = 0;
  s.siphash_rnd = {};
  if (s.kernel.hash == ctcore::ct_hash_form::kJhash2) {
    s.hash_rnd = draw_u32(s.seed, kStreamHashRnd);
  } else {
    s.siphash_rnd = draw_siphash_key(s.seed);
  }
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
    if (t.contains("hash_rnd")) load_hash_rnd(c, t["hash_rnd"], s);
    s.table_given.hash_rnd = t.contains("hash_rnd");
    s.table_given.memory = t.contains("memory");
    if (t.contains("memory"))
      if (auto text = c.string(t["memory"], "/table/memory")) {
        const auto bytes = parse_memory_size(*text);
        if (bytes.ok()) {
          s.memory = *bytes;
        } else {
          c.error("/table/memory", bytes.error().what);
        }
      }
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
  // nf_conntrack_init_start(): the bucket count from memory, and max as a
  // multiple of it, by the profile's rule (row S1).
  s.table_given.buckets = buckets_given;
  s.table_given.max = max_given;
  if (!buckets_given) s.buckets = ctcore::nf_conntrack_default_buckets(s.memory, s.kernel.sizing);
  if (!max_given) s.max = ctcore::nf_conntrack_default_max_factor(s.kernel.sizing, buckets_given) * s.buckets;
}

}  // namespace ctsim
