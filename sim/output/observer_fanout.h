// An Observer that forwards every core callback to several observers, in
// the order they were added (the core has one observer slot; the trace,
// the explain narrative and the time series each want the callbacks).
//
// wants_chain_detail() is true iff some target wants it; on_chain_entry()
// then goes to every target (the others ignore it by default).
//
// Ownership: does not own its targets; they must outlive it.
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_OBSERVER_FANOUT_H_
#define CTSIM_SIM_OUTPUT_OBSERVER_FANOUT_H_

#include <vector>

#include "core/observer.h"

namespace ctsim {

class ObserverFanout : public ctcore::Observer {
 public:
  ObserverFanout() = default;
  ObserverFanout(const ObserverFanout&) = delete;
  ObserverFanout& operator=(const ObserverFanout&) = delete;

  // Adds `o` unless it is null.
  void add(ctcore::Observer* o) {
    if (o != nullptr) targets_.push_back(o);
  }
  size_t size() const { return targets_.size(); }
  // The single target if there is exactly one (no need for the fan-out),
  // else this, or null when there is none.
  ctcore::Observer* simplest() {
    if (targets_.empty()) return nullptr;
    return targets_.size() == 1 ? targets_[0] : this;
  }

  void on_lookup(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conntrack_tuple& t, uint32_t hash,
                 uint32_t bucket, uint32_t chain, const ctcore::nf_conntrack_tuple_hash* m) override {
    for (auto* o : targets_) o->on_lookup(n, cpu, t, hash, bucket, chain, m);
  }
  bool wants_chain_detail() const override {
    for (auto* o : targets_)
      if (o->wants_chain_detail()) return true;
    return false;
  }
  void on_chain_entry(const ctcore::nf_conntrack_tuple_hash& h, bool expired, bool key_equal) override {
    for (auto* o : targets_) o->on_chain_entry(h, expired, key_equal);
  }
  void on_new(const ctcore::nf_conn& ct) override {
    for (auto* o : targets_) o->on_new(ct);
  }
  void on_confirm(const ctcore::nf_conn& ct, uint32_t bo, uint32_t br) override {
    for (auto* o : targets_) o->on_confirm(ct, bo, br);
  }
  void on_update(const ctcore::nf_conn& ct) override {
    for (auto* o : targets_) o->on_update(ct);
  }
  void on_invalid(const ctcore::net& n, uint16_t cpu, const ctcore::Packet& skb, const char* r) override {
    for (auto* o : targets_) o->on_invalid(n, cpu, skb, r);
  }
  void on_drop(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, const char* r) override {
    for (auto* o : targets_) o->on_drop(n, cpu, ct, r);
  }
  void on_clash(const ctcore::nf_conn& loser, const ctcore::nf_conn& winner, const char* outcome) override {
    for (auto* o : targets_) o->on_clash(loser, winner, outcome);
  }
  void on_dying(const ctcore::nf_conn& ct, ctcore::DeathReason r) override {
    for (auto* o : targets_) o->on_dying(ct, r);
  }
  void on_destroy(const ctcore::nf_conn& ct) override {
    for (auto* o : targets_) o->on_destroy(ct);
  }
  void on_free(const ctcore::nf_conn& ct) override {
    for (auto* o : targets_) o->on_free(ct);
  }
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override {
    for (auto* o : targets_) o->on_gc(scanned, expired, buckets, early_dropped, next_run);
  }
  void on_ecache_work(const ctcore::net& n, uint32_t sent, bool congested, int next_delay) override {
    for (auto* o : targets_) o->on_ecache_work(n, sent, congested, next_delay);
  }
  void on_call(const char* fn) override {
    for (auto* o : targets_) o->on_call(fn);
  }
  void on_branch(const ctcore::nf_conn* ct, ctcore::CtBranch b, const char* fn) override {
    for (auto* o : targets_) o->on_branch(ct, b, fn);
  }
  void on_ctinfo(const ctcore::nf_conn* ct, ctcore::ip_conntrack_info ctinfo, const char* fn) override {
    for (auto* o : targets_) o->on_ctinfo(ct, ctinfo, fn);
  }
  void on_ref(const ctcore::nf_conn& ct, int delta, uint32_t use, const char* fn) override {
    for (auto* o : targets_) o->on_ref(ct, delta, use, fn);
  }
  void on_tracker(const ctcore::nf_conn& ct, const char* fn, int verdict, const char* note) override {
    for (auto* o : targets_) o->on_tracker(ct, fn, verdict, note);
  }
  void on_status_set(const ctcore::nf_conn& ct, unsigned bit, const char* fn) override {
    for (auto* o : targets_) o->on_status_set(ct, bit, fn);
  }
  void on_stat(const ctcore::net& n, uint16_t cpu, const char* counter, uint32_t by, const char* fn) override {
    for (auto* o : targets_) o->on_stat(n, cpu, counter, by, fn);
  }
  void on_list(const ctcore::nf_conn& ct, ctcore::CtList list, bool enter, uint32_t where, const char* fn) override {
    for (auto* o : targets_) o->on_list(ct, list, enter, where, fn);
  }
  void on_table_full(const ctcore::net& n, uint32_t count, uint32_t max) override {
    for (auto* o : targets_) o->on_table_full(n, count, max);
  }
  void on_nat_decision(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
                       const ctcore::nf_conntrack_tuple& tuple, const ctcore::nf_nat_decision& why) override {
    for (auto* o : targets_) o->on_nat_decision(ct, manip, tuple, why);
  }
  void on_alter_reply(const ctcore::nf_conn& ct, const ctcore::nf_conntrack_tuple& reply) override {
    for (auto* o : targets_) o->on_alter_reply(ct, reply);
  }
  void on_event_cache(const ctcore::nf_conn& ct, unsigned event) override {
    for (auto* o : targets_) o->on_event_cache(ct, event);
  }
  void on_event_deliver(const ctcore::nf_conn& ct, unsigned events, unsigned missed, const char* fn) override {
    for (auto* o : targets_) o->on_event_deliver(ct, events, missed, fn);
  }
  void on_event_result(const ctcore::nf_conn& ct, int ret, unsigned missed, bool destroy_fail,
                       const char* fn) override {
    for (auto* o : targets_) o->on_event_result(ct, ret, missed, destroy_fail, fn);
  }

 private:
  std::vector<ctcore::Observer*> targets_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_OBSERVER_FANOUT_H_
