#include "sim/world/netlink_listener.h"

#include <fmt/format.h>

#include "sim/engine/engine.h"
#include "sim/output/conntrack_tool_format.h"
#include "sim/output/outputs.h"

namespace ctsim {

namespace {
constexpr int kENOBUFS = 105;
}

void NetlinkListeners::add(const ListenerSpec& spec, std::optional<uint16_t> net) {
  Listener l;
  l.spec = spec;
  l.net = net;
  listeners_.push_back(std::move(l));
  if (spec.at == 0) subscribe(listeners_.back());
}

void NetlinkListeners::subscribe(const Listener& l) {
  if (l.net) core_.nf_ctnetlink_set_listener(core_.net_at(*l.net), true);
}

Listener* NetlinkListeners::find(const std::string& name) {
  for (Listener& l : listeners_)
    if (l.spec.name == name) return &l;
  return nullptr;
}

int NetlinkListeners::ctnetlink_conntrack_event(unsigned events, const ctcore::nf_conn& ct, const ctcore::net& n,
                                                uint32_t, int) {
  // No socket listens (most runs): nothing is offered, nothing can fail.
  if (listeners_.empty()) return 0;
  EventType type;
  if (!event_type_for_mask(events, &type)) return 0;
  const uint8_t group = type == EventType::kNew ? kGroupNew : type == EventType::kUpdate ? kGroupUpdate : kGroupDestroy;
  bool failed = false;
  std::string line;  // formatted once, only if some listener takes it
  for (Listener& l : listeners_) {
    if (l.net != n.index || (l.spec.groups & group) == 0 || !subscribed(l)) continue;
    ++offered_;
    const bool room = l.spec.rcvbuf == 0 || l.queue.size() < l.spec.rcvbuf;
    if (room) {
      if (line.empty()) {
        const uint32_t secs = ctcore::nf_ct_expires(&ct, core_.now32()) / core_.hz();
        line = format_event_line(type, events, ct, secs, core_.profile(),
                                 outputs_ != nullptr && outputs_->event_ids());
      }
      ++l.delivered;
      l.queue.push_back(line);
    } else if (l.spec.reliable) {
      ++l.failed;
      failed = true;
    } else {
      ++l.lost;
      l.overrun = true;
    }
    if (outputs_ != nullptr)
      outputs_->listener_event(n, ct, l.spec.name, event_type_name(type), events, room, l.spec.reliable,
                               l.queue.size());
    if (room && l.spec.read_every == 0 && !l.stalled) drain(l);
  }
  return failed ? -kENOBUFS : 0;
}

bool NetlinkListeners::subscribed(const Listener& l) const { return engine_.now() >= l.spec.at; }

void NetlinkListeners::emit(const Listener& l, std::string_view line) {
  if (outputs_ != nullptr) outputs_->event_line(l.spec.name, listeners_.size() > 1, line);
}

uint32_t NetlinkListeners::drain(Listener& l) {
  uint32_t n = 0;
  const bool overrun = l.overrun;
  if (l.overrun) {
    l.overrun = false;
    // The warning goes to the reader's stderr; ctsim puts it in the stream
    // where the loss happened, line by line.
    const std::string_view msg = kEnobufsMessage;
    size_t start = 0;
    while (start <= msg.size()) {
      size_t nl = msg.find('\n', start);
      emit(l, msg.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  while (!l.queue.empty()) {
    emit(l, l.queue.front());
    l.queue.pop_front();
    ++n;
  }
  if (outputs_ != nullptr && l.spec.read_every != 0 && l.net)
    outputs_->listener_read(core_.net_at(*l.net), l.spec.name, n, overrun);
  return n;
}

int64_t NetlinkListeners::next_read_time(const Listener& l) const {
  if (l.stalled || (l.queue.empty() && !l.overrun)) return -1;
  if (l.spec.read_every == 0) return engine_.now();
  const int64_t p = l.spec.read_every;
  return (engine_.now() / p + 1) * p;
}

}  // namespace ctsim
