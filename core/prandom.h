// Where the core's random draws come from: the kernel's prandom_u32() and
// get_random_bytes(). The core has no randomness of its own; the simulator
// hands it a source seeded from the scenario, so runs stay reproducible.
//
// Mirrors: include/linux/prandom.h prandom_u32() (as used by NAT port
//          selection) and get_random_once() (nf_nat_hash_rnd).
//
// Threading: one owner; called from the simulated CPU running the core.
#ifndef CTSIM_CORE_PRANDOM_H_
#define CTSIM_CORE_PRANDOM_H_

#include <cstdint>

namespace ctcore {

class PrandomSource {
 public:
  virtual ~PrandomSource() = default;
  // A uniformly distributed 32-bit value.
  virtual uint32_t prandom_u32() = 0;
};

}  // namespace ctcore

#endif  // CTSIM_CORE_PRANDOM_H_
