// The kernel profiles as a table: a row per switch (with its change-table
// row), a column per profile. `ctsim kernels` prints it; docs/KERNELS.md
// holds its Markdown form (tests/kernel_profile_test.cc keeps them equal).
//
// Threading: pure function.
#ifndef CTSIM_SIM_OUTPUT_KERNEL_PROFILE_TABLE_H_
#define CTSIM_SIM_OUTPUT_KERNEL_PROFILE_TABLE_H_

#include <string>

namespace ctsim {

// Markdown (a header row and a separator) or plain text in aligned columns.
std::string kernel_profile_table(bool markdown);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_KERNEL_PROFILE_TABLE_H_
