// The network namespaces a kernel run plays a scenario in, and everything
// it changes on the machine, undone by teardown() on success, failure and
// interruption (docs/VERIFY.md "What kernel-run builds").
//
//   ctsim-<pid>-h       the wire: no addresses, IPv6 off, no conntrack; for
//                       scenario namespace k it holds veth ends c<k> (the
//                       ingress leg, where forward and input packets are
//                       written raw) and s<k> (where forwarded packets land).
//   ctsim-<pid>-n<k>    scenario namespace k: f0 (peer of c<k>, MAC
//                       02:00:00:00:00:01, the one every frame is written to)
//                       and f1 (peer of s<k>, the outgoing interface: the
//                       scenario's `addresses`, the default routes through a
//                       lab gateway with a permanent neighbour entry).
//
// The global nf_conntrack_max and nf_conntrack_buckets are set only when
// the scenario sets them, and the values they had are written first to
// /run/ctsim/kernel-run.<pid>.sysctl ("name value" lines),
// so that even a run killed by SIGKILL is undone by the next run
// (cleanup_stale()), which also deletes namespaces and temporary
// directories of dead runs.
//
// Threading: one thread (the run's main thread) calls every method.
#ifndef CTSIM_SIM_VERIFY_KERNEL_LAB_H_
#define CTSIM_SIM_VERIFY_KERNEL_LAB_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/nf_conntrack_tuple.h"
#include "sim/engine/status.h"

namespace ctsim::verify {

struct LabNamespaceSetup {
  // Lab addresses (family, address) of the outgoing interface, in order.
  std::vector<std::pair<uint16_t, ctcore::nf_inet_addr>> interface_addresses;
  // Lab addresses the input path delivers to (local on lo).
  std::vector<std::pair<uint16_t, ctcore::nf_inet_addr>> local_addresses;
  // net.netfilter.<name>=<value> to set before anything runs.
  std::vector<std::pair<std::string, uint64_t>> sysctls;
  std::string ruleset;  // table inet ctsim (lab_ruleset_scenario)
};

class KernelLab {
 public:
  KernelLab();
  ~KernelLab() { teardown(); }
  KernelLab(const KernelLab&) = delete;
  KernelLab& operator=(const KernelLab&) = delete;

  // Deletes namespaces of kernel runs whose process is gone and restores
  // the global sysctls they left changed. Returns what it did, one line each.
  static std::vector<std::string> cleanup_stale();
  // The prefix of every namespace this process makes: "ctsim-<pid>-".
  static std::string namespace_prefix(long pid);
  // The prefix of the run's private directory under $TMPDIR (conntrack -E's
  // output while it runs): "ctsim-kernel-run-<pid>-".
  static std::string temp_dir_prefix(long pid);

  Status create_wire();
  // Builds the lab namespace of scenario namespace index `k`.
  Status add_namespace(size_t k, const LabNamespaceSetup& setup);
  Status remove_namespace(size_t k);
  // The lab namespace's name ("ctsim-<pid>-n<k>") and its host-side leg.
  std::string netns_name(size_t k) const;
  std::string wire_name() const { return prefix_ + "h"; }
  static std::string ingress_leg(size_t k) { return "c" + std::to_string(k); }
  bool has_namespace(size_t k) const { return namespaces_.count(k) != 0; }

  // `ip netns exec <ns k> argv...`.
  std::vector<std::string> in_namespace(size_t k, std::vector<std::string> argv) const;
  Status sysctl(size_t k, const std::string& key, uint64_t value);
  // Sets net.netfilter.<name> (nf_conntrack_max or nf_conntrack_buckets,
  // which only the machine's first namespace may write) for the whole
  // machine, keeping the value to restore. A max at or under the conns the
  // machine's own namespace holds is refused: it would cut its traffic.
  Status set_global(const std::string& name, uint64_t value);

  // Deletes every namespace made, restores the global sysctls. Idempotent.
  void teardown();

 private:
  Status ip(std::vector<std::string> args);
  std::string prefix_;
  bool wire_ = false;
  std::map<size_t, std::string> namespaces_;
  Status save_state() const;
  std::map<std::string, uint64_t> saved_;  // global sysctl -> value before the run
  std::string state_file_;
};

}  // namespace ctsim::verify

#endif  // CTSIM_SIM_VERIFY_KERNEL_LAB_H_
