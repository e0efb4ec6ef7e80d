// ctnetlink event listeners (what `conntrack -E` or conntrackd is to the
// kernel): the EventNotifier the core calls, and each listener's bounded
// receive buffer and reader.
//
// A message that does not fit a listener's buffer is lost for it (the
// socket overruns: its reader gets ENOBUFS and prints conntrack -E's
// warning), except that a reliable listener (NETLINK_BROADCAST_ERROR, as
// conntrackd sets it) makes the broadcast fail: the kernel then keeps a
// DESTROY for redelivery. Reliable listeners also set NETLINK_NO_ENOBUFS
// (as conntrackd does), so their readers print no warning.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_WORLD_NETLINK_LISTENER_H_
#define CTSIM_SIM_WORLD_NETLINK_LISTENER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/nf_conntrack_ecache.h"
#include "sim/output/series_writer.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

class Engine;
class Outputs;

struct Listener {
  ListenerSpec spec;
  std::optional<uint16_t> net;  // its namespace (none: it hears nothing)
  bool stalled = false;
  bool overrun = false;  // a message was lost since the last read
  bool read_scheduled = false;
  std::deque<std::string> queue;  // formatted lines waiting for the reader
  uint64_t delivered = 0, lost = 0, failed = 0;
};

class NetlinkListeners : public ctcore::EventNotifier, public ListenerGauges {
 public:
  NetlinkListeners(Engine& engine, ctcore::Conntrack& core) : engine_(engine), core_(core) {}

  // A listener from the scenario. One whose spec.at is 0 subscribes now;
  // the world calls subscribe() for the others at their `at`.
  void add(const ListenerSpec& spec, std::optional<uint16_t> net);
  // `l` subscribes: its namespace has a ctnetlink listener from now on,
  // which nf_conntrack_events=2 asks when a conn is made (kernel profile
  // row L3). (What it is offered follows subscribed().)
  void subscribe(const Listener& l);
  // Where messages and what the readers print are reported (null: nowhere).
  // REQUIRES: `outputs` outlives this.
  void set_outputs(Outputs* outputs) { outputs_ = outputs; }
  std::vector<Listener>& all() { return listeners_; }
  const std::vector<Listener>& all() const { return listeners_; }
  Listener* find(const std::string& name);
  // Whether `l` has subscribed yet (its `at` has come): before, it is
  // offered nothing, as a socket not yet open.
  bool subscribed(const Listener& l) const;

  // The reader of `l` takes everything queued (writes it to the stream).
  // Returns the number of messages read.
  uint32_t drain(Listener& l);
  // When the reader of `l` next wakes, or -1 if it need not (nothing queued
  // or stalled).
  int64_t next_read_time(const Listener& l) const;

  // ListenerGauges
  size_t listener_count() const override { return listeners_.size(); }
  std::string_view listener_name(size_t i) const override { return listeners_[i].spec.name; }
  uint64_t listener_backlog(size_t i) const override { return listeners_[i].queue.size(); }
  uint64_t listener_lost(size_t i) const override { return listeners_[i].lost; }
  uint64_t listener_delivered(size_t i) const override { return listeners_[i].delivered; }
  uint64_t events_offered() const override { return offered_; }

  int ctnetlink_conntrack_event(unsigned events, const ctcore::nf_conn& ct, const ctcore::net& n, uint32_t portid,
                                int report) override;

 private:
  void emit(const Listener& l, std::string_view line);

  Engine& engine_;
  ctcore::Conntrack& core_;
  std::vector<Listener> listeners_;
  Outputs* outputs_ = nullptr;
  uint64_t offered_ = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_WORLD_NETLINK_LISTENER_H_
