#include "sim/engine/rng.h"

#include "sim/engine/neg_ln.h"

namespace ctsim {

int64_t Rng::exponential_ns(uint64_t mean_ns) {
  const uint32_t u = next_u32() | 1u;  // (0, 1)
  const uint64_t l = neg_ln_q32(u);    // Q32.32
  return static_cast<int64_t>((static_cast<unsigned __int128>(l) * mean_ns) >> 32);
}

}  // namespace ctsim
