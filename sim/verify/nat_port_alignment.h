// Where the kernel and ctsim both drew a NAT port at random, their draws
// differ by nature (ctsim draws from the scenario's seed, the kernel from
// its own generator): a conn whose REPLY tuple differs from ctsim's only
// in that port, both ports in one of nf_nat_l4proto_unique_tuple's classes
// (1-511, 512-1023, 1024-65535), gets ctsim's port in every line of the
// kernel's record that names it (events and conntrack -L), so that the rest
// of the comparison sees the rest. Each such conn is reported as tolerated.
//
// Threading: pure function.
#ifndef CTSIM_SIM_VERIFY_NAT_PORT_ALIGNMENT_H_
#define CTSIM_SIM_VERIFY_NAT_PORT_ALIGNMENT_H_

#include <string>
#include <vector>

#include "sim/verify/run_record.h"

namespace ctsim::verify {

// Returns one "tolerated: ..." line per conn aligned.
std::vector<std::string> align_random_nat_ports(const RunRecord& sim, RunRecord* kernel);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_NAT_PORT_ALIGNMENT_H_
