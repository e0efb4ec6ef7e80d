#include "sim/verify/simulated_run.h"

#include <optional>
#include <string>
#include <utility>

#include "sim/output/run_facts_observer.h"
#include "sim/scenario/name_table.h"
#include "sim/scenario/packet_notation.h"
#include "sim/world/simulator.h"

namespace ctsim::verify {

namespace {

// Fills a RunRecord from the facts the outputs hand over. Packets are kept
// by id (ids are dense from 1, but packets reach their first hook in CPU
// order, not id order), then compacted.
class RecordBuilder final : public RunFactsObserver {
 public:
  explicit RecordBuilder(RunRecord* out) : out_(out) {}

  void packet_injected(uint64_t id, SimTime at, std::string_view netns, uint16_t cpu, std::string_view path,
                       const ctcore::Packet& skb) override {
    if (slots_.size() < id) slots_.resize(id);
    Slot& slot = slots_[id - 1];
    PacketOutcome& o = slot.outcome;
    o.id = id;
    o.at = at;
    o.netns = netns;
    o.cpu = cpu;
    o.path = path;
    o.pkt = format_packet(skb);
    InjectedPacket& p = slot.injected.emplace();
    p.id = id;
    p.at = at;
    p.netns = netns;
    p.cpu = cpu;
    p.path = enum_from_name<PathKind>(kPathNames, path).value_or(PathKind::kForward);
    p.pkt = skb;
    p.pkt.ct = nullptr;
  }

  void packet_left(uint64_t id, const PacketOutcomeWords& w) override {
    if (id == 0 || slots_.size() < id || !slots_[id - 1].injected) return;  // never reached a hook
    PacketOutcome& o = slots_[id - 1].outcome;
    // Dropped by conntrack before any rule saw it: no state to observe
    // (the kernel side records states where the rules see them).
    const bool unseen = w.by == "nf_conntrack_in";
    o.ct_state = unseen ? "" : w.ct_state;
    o.verdict = w.verdict;
    o.by = w.by;
  }

  void event_line(SimTime at, std::string_view listener, std::string_view line) override {
    out_->events.push_back({at, std::string(listener), std::string(line)});
  }

  void table_dump(SimTime at, const std::string& netns, std::vector<std::string> lines) override {
    out_->snapshots.push_back({at, netns, std::move(lines)});
  }

  void stats_dump(SimTime at, const std::string& netns, std::vector<std::string> lines) override {
    out_->stats.push_back({at, netns, std::move(lines)});
  }

  // Moves the packets into the record (and *injected), in id order.
  void finish(std::vector<InjectedPacket>* injected) {
    for (Slot& s : slots_) {
      if (!s.injected) continue;
      out_->packets.push_back(std::move(s.outcome));
      if (injected != nullptr) injected->push_back(std::move(*s.injected));
    }
    slots_.clear();
  }

 private:
  struct Slot {
    PacketOutcome outcome;
    std::optional<InjectedPacket> injected;  // set once the packet reached its first hook
  };
  RunRecord* out_;
  std::vector<Slot> slots_;  // index id - 1
};

}  // namespace

Status record_simulated_run(const Scenario& s, RunRecord* out, std::vector<InjectedPacket>* injected) {
  *out = RunRecord{};
  if (injected != nullptr) injected->clear();
  out->source = "ctsim " + s.kernel_name;
  RecordBuilder builder(out);
  RunOptions options;
  options.facts = &builder;
  Simulator sim(s, options);
  RunSummary summary;
  if (Status st = sim.run(&summary); !st.ok()) return st;
  out->end = summary.end_time;
  builder.finish(injected);
  return Status::OK();
}

}  // namespace ctsim::verify
