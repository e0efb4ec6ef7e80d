// The scenario loader's "verify" key (docs/SCENARIO.md "Verify"): how
// `ctsim verify` compares the live kernel's run of this scenario with
// ctsim's. Only the comparison reads it; `ctsim run` ignores it.
//   "verify": {"compare": "counts", "because": "two CPUs confirm the same tuple at one instant"}
#include <fmt/format.h>

#include "sim/scenario/name_table.h"
#include "sim/scenario/scenario_keys.h"
#include "sim/scenario/scenario_load.h"

namespace ctsim {

using nlohmann::json;

void load_verify(Checker& c, const json& doc, Scenario* out) {
  Scenario& s = *out;
  s.verify_compare = VerifyCompare::kExact;
  s.verify_because.clear();
  if (!doc.contains("verify") || !c.is_object(doc["verify"], "/verify")) return;
  const json& v = doc["verify"];
  c.only_keys(v, "/verify", scenario_keys("/verify"));
  c.required_keys(v, "/verify", "/verify");
  if (v.contains("compare"))
    if (auto word = c.one_of(v["compare"], "/verify/compare", scenario_enum("/verify/compare")))
      s.verify_compare = *enum_from_name<VerifyCompare>(kVerifyCompareNames, *word);
  if (v.contains("because"))
    if (auto text = c.string(v["because"], "/verify/because")) {
      if (text->empty())
        c.error("/verify/because", "expected the reason in words, found an empty string");
      else
        s.verify_because = *text;
    }
  // Comparing on counts only throws away most of what verify checks: the
  // file must say why (the race that makes the kernel's lines unknowable).
  if (s.verify_compare == VerifyCompare::kCounts && !v.contains("because"))
    c.error("/verify",
            "missing \"because\" (why this scenario is compared on counts only, e.g. \"two CPUs confirm the same "
            "tuple at one instant\")");
}

}  // namespace ctsim
