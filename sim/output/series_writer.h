// The time series (`ctsim run S --series FILE.csv`): one CSV row per fixed
// virtual interval (`--series-every`, default 1 s) and a last row at the
// end of the run, for plots/.
//
// Columns, in this order (docs/TRACE_SCHEMA.md is the reference):
//   t_ns, jiffies, table, count_<netns>..., tcp_<state>..., unconfirmed,
//   dying, gc_runs, gc_scanned, gc_expired, gc_early_dropped,
//   backlog_<listener>..., lost_<listener>..., events_offered,
//   events_delivered
// Namespace columns: every name the scenario declares or adds, in order of
// first appearance; listener columns: scenario order. Integers only.
// `gc_*` count since the previous row; `lost_*` and `events_*` are totals
// since the start; the others are levels at the row's instant.
//
// A row is taken in Phase::kSample, after everything else at that instant.
// Sampling only reads: `table` is count - unconfirmed - dying (core
// invariant (1)), and the TCP state counts are kept from the observer
// callbacks (confirm, update, dying), because the core's table walk reaps
// expired conns as a ctnetlink dump does and would change the run.
//
// Threading: single-threaded. The writer reads the core and the listeners
// it is given; they must outlive it.
#ifndef CTSIM_SIM_OUTPUT_SERIES_WRITER_H_
#define CTSIM_SIM_OUTPUT_SERIES_WRITER_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/observer.h"
#include "sim/engine/engine.h"
#include "sim/output/output_file.h"

namespace ctsim {

// What the series reads of the event listeners at each row. The world's
// listeners implement it; the series only reads.
class ListenerGauges {
 public:
  virtual ~ListenerGauges() = default;
  virtual size_t listener_count() const = 0;
  virtual std::string_view listener_name(size_t i) const = 0;
  // Messages queued for the reader of listener i, not yet read.
  virtual uint64_t listener_backlog(size_t i) const = 0;
  // Messages lost (overrun) and messages delivered to listener i so far.
  virtual uint64_t listener_lost(size_t i) const = 0;
  virtual uint64_t listener_delivered(size_t i) const = 0;
  // Messages offered to any listener so far.
  virtual uint64_t events_offered() const = 0;
};

class SeriesWriter : public ctcore::Observer {
 public:
  // `netns_names`: the namespace columns, in order.
  SeriesWriter(OutputFile& out, const Engine& engine, ctcore::Conntrack& core, const ListenerGauges& listeners,
               std::vector<std::string> netns_names);
  SeriesWriter(const SeriesWriter&) = delete;
  SeriesWriter& operator=(const SeriesWriter&) = delete;

  // The header line (call once, first).
  void header();
  // One row for now(). A second row at the same instant is not written.
  void row();
  uint64_t rows() const { return rows_; }

  // ctcore::Observer
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override;
  void on_confirm(const ctcore::nf_conn& ct, uint32_t bucket_orig, uint32_t bucket_reply) override;
  void on_update(const ctcore::nf_conn& ct) override;
  void on_dying(const ctcore::nf_conn& ct, ctcore::DeathReason reason) override;
  void on_free(const ctcore::nf_conn& ct) override;

 private:
  OutputFile& out_;
  const Engine& engine_;
  ctcore::Conntrack& core_;
  const ListenerGauges& listeners_;
  std::vector<std::string> netns_names_;
  uint64_t gc_runs_ = 0, gc_scanned_ = 0, gc_expired_ = 0, gc_early_dropped_ = 0;
  uint64_t rows_ = 0;
  // TCP conns in the table (confirmed, not dying) by conn id: their state;
  // and how many are in each state.
  std::map<uint32_t, uint8_t> tcp_in_table_;
  std::array<uint64_t, 16> tcp_counts_{};
  SimTime last_row_ = -1;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_SERIES_WRITER_H_
