// `ctsim kernel-run`: a scenario played through the real conntrack of this
// machine's kernel, inside network namespaces made for it (kernel_lab.h),
// in real time, observed from outside into a RunRecord (docs/VERIFY.md).
//
// The packets are the ones the simulated run injected (flows and captures
// expanded), each written raw at its virtual time on its CPU: forward and
// input packets as Ethernet frames onto the namespace's ingress veth from a
// thread pinned to that CPU (veth hands a frame to the receive path on the
// sending CPU, and softirq processes it there before send() returns);
// output packets through a raw IP socket of the namespace (the sending
// thread's CPU runs LOCAL_OUT and POST_ROUTING). Each packet carries its
// number in the IPv4 identification or the IPv6 flow label, which
// conntrack ignores and the NFLOG records give back.
//
// Threading: kernel_run blocks its caller; it runs one thread per CPU and
// one NFLOG reader per namespace, all joined before it returns.
#ifndef CTSIM_SIM_VERIFY_KERNEL_RUN_H_
#define CTSIM_SIM_VERIFY_KERNEL_RUN_H_

#include <functional>
#include <string>
#include <vector>

#include "sim/engine/sim_time.h"
#include "sim/engine/status.h"
#include "sim/scenario/scenario.h"
#include "sim/verify/run_record.h"

namespace ctsim::verify {

struct KernelRunOptions {
  // Runs longer than this are refused (they take as long in real time).
  SimTime max_duration = 180'000'000'000;
  // Progress notes for a person (stderr), one line each; may be empty.
  std::function<void(const std::string&)> note;
};

// Why this machine cannot run a scenario on its kernel, or "" when it can:
// not root, nft / conntrack / ip missing, nf_conntrack not loadable.
std::string kernel_run_unavailable();
// `uname -r`.
std::string kernel_release();
// The scenario features kernel-run cannot play, one line each naming the
// key and why (a scenario feature with no kernel counterpart is refused,
// never approximated).
std::vector<std::string> kernel_run_refusals(const Scenario& s, const std::vector<InjectedPacket>& packets);

// What kernel-run plays otherwise than the scenario says, one note each
// for a person (the run goes on): a hash seed the kernel does not take, a
// table size it rounds up to a whole page of bucket heads.
std::vector<std::string> kernel_run_notes(const Scenario& s);

// The time a kernel run of `s` lasts: its `until`, or one second after the
// last packet or action (the kernel keeps no virtual clock to run out).
SimTime kernel_run_end(const Scenario& s, const std::vector<InjectedPacket>& packets);

// Plays `packets` (and the scenario's rules, listeners and actions) on the
// live kernel until `end`, fills *out. *interrupted is set when SIGINT,
// SIGTERM or SIGHUP stopped it (the lab is torn down either way).
Status kernel_run(const Scenario& s, const std::vector<InjectedPacket>& packets, SimTime end,
                  const KernelRunOptions& options, RunRecord* out, bool* interrupted);

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_KERNEL_RUN_H_
