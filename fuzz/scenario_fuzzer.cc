// libFuzzer target: the scenario loader on arbitrary bytes. parse_scenario
// must return a Status for any input: no crash, hang, leak or UB.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ctsim::Scenario s;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)ctsim::parse_scenario("fuzz.json", text, &s);
  return 0;
}
