#include "sim/output/series_writer.h"

#include <fmt/format.h>

#include <cctype>

#include "core/nf_conntrack_l4proto.h"
#include "core/nf_conntrack_proto_state.h"

namespace ctsim {

namespace {

constexpr unsigned kTcpStates = ctcore::TCP_CONNTRACK_MAX;  // NONE .. SYN_SENT2

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

SeriesWriter::SeriesWriter(OutputFile& out, const Engine& engine, ctcore::Conntrack& core,
                           const ListenerGauges& listeners, std::vector<std::string> netns_names)
    : out_(out), engine_(engine), core_(core), listeners_(listeners), netns_names_(std::move(netns_names)) {}

void SeriesWriter::header() {
  std::string h = "t_ns,jiffies,table";
  for (const std::string& n : netns_names_) h += ",count_" + n;
  for (unsigned s = 0; s < kTcpStates; ++s) h += ",tcp_" + lower(ctcore::tcp_conntrack_name(static_cast<uint8_t>(s)));
  h += ",unconfirmed,dying,gc_runs,gc_scanned,gc_expired,gc_early_dropped";
  const size_t nl = listeners_.listener_count();
  for (size_t i = 0; i < nl; ++i) (h += ",backlog_") += listeners_.listener_name(i);
  for (size_t i = 0; i < nl; ++i) (h += ",lost_") += listeners_.listener_name(i);
  h += ",events_offered,events_delivered\n";
  out_.write(h);
}

void SeriesWriter::row() {
  const SimTime now = engine_.now();
  if (now == last_row_) return;
  last_row_ = now;
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  // The lists as the profile has them: 5.19+ has no unconfirmed list and
  // one ecache dying list per namespace (row L1); its unlisted conns
  // (unconfirmed, or killed and still held by a packet) are in no column.
  uint64_t unconfirmed = 0, dying = 0;
  for (size_t i = 0; i < core_.net_count(); ++i) {
    const ctcore::net& n = core_.net_at(static_cast<uint16_t>(i));
    unconfirmed += core_.unconfirmed_list_length(n);
    dying += core_.dying_list_length(n);
  }
  const uint64_t table = core_.conns_in_table();
  fmt::format_to(out, "{},{},{}", now, static_cast<uint32_t>(engine_.jiffies()), table);
  for (const std::string& name : netns_names_) {
    // The last namespace of that name (a re-added name is the new one).
    uint32_t count = 0;
    for (size_t i = core_.net_count(); i-- > 0;) {
      const ctcore::net& n = core_.net_at(static_cast<uint16_t>(i));
      if (n.name == name) {
        count = n.count;
        break;
      }
    }
    fmt::format_to(out, ",{}", count);
  }
  for (unsigned st = 0; st < kTcpStates; ++st) fmt::format_to(out, ",{}", tcp_counts_[st]);
  fmt::format_to(out, ",{},{},{},{},{},{}", unconfirmed, dying, gc_runs_, gc_scanned_, gc_expired_, gc_early_dropped_);
  gc_runs_ = gc_scanned_ = gc_expired_ = gc_early_dropped_ = 0;
  uint64_t delivered = 0;
  const size_t nl = listeners_.listener_count();
  for (size_t i = 0; i < nl; ++i) fmt::format_to(out, ",{}", listeners_.listener_backlog(i));
  for (size_t i = 0; i < nl; ++i) {
    fmt::format_to(out, ",{}", listeners_.listener_lost(i));
    delivered += listeners_.listener_delivered(i);
  }
  fmt::format_to(out, ",{},{}\n", listeners_.events_offered(), delivered);
  out_.write(std::string_view(b.data(), b.size()));
  ++rows_;
}

void SeriesWriter::on_gc(uint32_t scanned, uint32_t expired, uint32_t, uint32_t early_dropped, uint32_t) {
  ++gc_runs_;
  gc_scanned_ += scanned;
  gc_expired_ += expired;
  gc_early_dropped_ += early_dropped;
}

void SeriesWriter::on_confirm(const ctcore::nf_conn& ct, uint32_t, uint32_t) {
  if (ct.protonum() != ctcore::IPPROTO_TCP_) return;
  const uint8_t st = ct.proto.tcp.state < kTcpStates ? ct.proto.tcp.state : 0;
  tcp_in_table_[ct.id] = st;
  ++tcp_counts_[st];
}

void SeriesWriter::on_update(const ctcore::nf_conn& ct) {
  auto it = tcp_in_table_.find(ct.id);
  if (it == tcp_in_table_.end()) return;
  const uint8_t st = ct.proto.tcp.state < kTcpStates ? ct.proto.tcp.state : 0;
  --tcp_counts_[it->second];
  ++tcp_counts_[st];
  it->second = st;
}

void SeriesWriter::on_dying(const ctcore::nf_conn& ct, ctcore::DeathReason) {
  auto it = tcp_in_table_.find(ct.id);
  if (it == tcp_in_table_.end()) return;
  --tcp_counts_[it->second];
  tcp_in_table_.erase(it);
}

void SeriesWriter::on_free(const ctcore::nf_conn& ct) { on_dying(ct, ctcore::DeathReason::kTimeout); }

}  // namespace ctsim
