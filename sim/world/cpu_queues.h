// Each CPU runs one packet's hook traversal at a time (softirq processing
// is not preempted); packets that arrive on a busy CPU wait in its backlog
// in arrival order.
//
// Invariants:
//   (1) A CPU with a non-empty backlog is busy.
//   (2) A slot is in at most one backlog, at most once.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_CPU_QUEUES_H_
#define CTSIM_SIM_WORLD_CPU_QUEUES_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace ctsim {

class CpuQueues {
 public:
  explicit CpuQueues(uint16_t cpus) : cpus_(cpus) {}
  CpuQueues(const CpuQueues&) = delete;
  CpuQueues& operator=(const CpuQueues&) = delete;

  bool busy(uint16_t cpu) const { return cpus_[cpu].busy; }
  // The CPU starts running a packet. REQUIRES: !busy(cpu).
  void start(uint16_t cpu) { cpus_[cpu].busy = true; }
  // Returns true iff the CPU was idle: it is now busy with `slot`, which
  // the caller runs. Otherwise `slot` waits at the end of its backlog.
  bool start_or_wait(uint16_t cpu, uint32_t slot) {
    Cpu& c = cpus_[cpu];
    if (c.busy) {
      c.backlog.push_back(slot);
      return false;
    }
    c.busy = true;
    return true;
  }
  // The CPU is done with its packet: the next one from its backlog (the
  // CPU stays busy with it), or nullopt and the CPU is idle.
  std::optional<uint32_t> finish(uint16_t cpu) {
    Cpu& c = cpus_[cpu];
    if (c.backlog.empty()) {
      c.busy = false;
      return std::nullopt;
    }
    const uint32_t next = c.backlog.front();
    c.backlog.pop_front();
    return next;
  }

 private:
  struct Cpu {
    bool busy = false;
    std::deque<uint32_t> backlog;
  };
  std::vector<Cpu> cpus_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_CPU_QUEUES_H_
