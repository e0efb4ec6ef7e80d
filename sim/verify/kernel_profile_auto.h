// `--kernel auto`: the kernel profile (docs/KERNELS.md) that stands for a
// kernel release string as `uname -r` prints it.
//
// Threading: pure function.
#ifndef CTSIM_SIM_VERIFY_KERNEL_PROFILE_AUTO_H_
#define CTSIM_SIM_VERIFY_KERNEL_PROFILE_AUTO_H_

#include <string>
#include <string_view>

namespace ctsim::verify {

struct ProfileChoice {
  std::string profile;  // a name kernel_profile_find knows; "" when none fits
  std::string why;      // one line for the report: how it was chosen
};

// "6.18.44-fc-v1272" -> 6.18-late (6.18.35 and later carry row T10's fix);
// "6.1.0-13-amd64" -> 6.1. A release between two profiled lines takes the
// older line's profile and says so; one older than 5.10 has none.
ProfileChoice kernel_profile_for_release(std::string_view release);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_KERNEL_PROFILE_AUTO_H_
