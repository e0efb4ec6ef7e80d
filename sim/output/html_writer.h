// The explorer page (`ctsim run S --html FILE`): one self-contained HTML
// file (docs/EXPLORER.md) that replays the run in a browser: a time slider
// over the run's records, the conns' life-cycle lanes, the hash table's
// chains with both nodes of every conn, the unconfirmed and dying lists,
// the counters and listeners, the --explain narrative and charts.
//
// The writer is a passive observer like the trace and the narrative: it
// keeps a compact log of what changed at each record (a conn's stage, list
// and `use`; a bucket's chain as the core holds it after the change; the
// nodes a lookup compared; counters; listener gauges) and writes the page
// once, at finish(): the template (sim/output/explorer/, embedded at build
// time), with the log as one JSON object in a <script type=application/json>.
// The page rebuilds the state at any record by replaying the log.
//
// The narrative comes from an ExplainWriter of its own that writes into a
// memory OutputFile: each record remembers how far the narrative had got,
// and the page shows the block that holds the record's text.
//
// Size (docs/EXPLORER.md, "Big runs"): at most kMaxConns conns are kept (the
// busiest, by records that name them; the others' records are left out) and
// at most kNarrativeBudget bytes of narrative (the first blocks of the run);
// the page says what was left out. A run longer than kMaxRecords records
// is shown up to the moment it reaches them (memory stays bounded).
//
// Determinism: integers, text from the core's facts, ids; nothing from
// pointers or the clock.
//
// Ownership: writes to `out`; borrows the engine, the core and the gauges.
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_HTML_WRITER_H_
#define CTSIM_SIM_OUTPUT_HTML_WRITER_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/observer.h"
#include "sim/engine/engine.h"
#include "sim/engine/status.h"
#include "sim/output/explain_writer.h"
#include "sim/output/output_file.h"
#include "sim/output/series_writer.h"
#include "sim/scenario/scenario.h"

namespace ctsim {

class HtmlWriter : public ctcore::Observer {
 public:
  // Beyond these the page shows a part of the run and says so.
  static constexpr size_t kMaxConns = 10000;
  static constexpr size_t kNarrativeBudget = size_t{1} << 20;
  // Records held in memory at most (about 48 bytes each): the page covers
  // the run up to the moment they are reached.
  static constexpr size_t kMaxRecords = 2000000;

  HtmlWriter(OutputFile& out, const Engine& engine, const ctcore::Conntrack& core, const ListenerGauges& gauges);
  HtmlWriter(const HtmlWriter&) = delete;
  HtmlWriter& operator=(const HtmlWriter&) = delete;

  // Opens the narrative's memory buffer and notes the run's constants.
  // REQUIRES: called once, first.
  Status open(const Scenario& scenario, const std::vector<std::string>& netns_names);

  // What the world reports (as Outputs passes it on).
  void packet_step(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook, std::string_view notation,
                   std::string_view path, bool first, bool resumed);
  void verdict(const ctcore::nf_conn* ct, std::string_view hook, std::string_view verdict, std::string_view reason);
  void nat(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match, std::string_view verdict,
           std::string_view range, const ctcore::nf_nat_decision& why);
  void nat_rule(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match,
                std::string_view verdict, std::string_view range);
  void nat_icmp(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, std::string_view before,
                std::string_view after);
  void packet_done(const ctcore::nf_conn* ct);
  void action_begins(std::string_view what);
  void action(std::string_view what);
  void end_step();
  void listener_event(const ctcore::nf_conn& ct, std::string_view name, std::string_view type, unsigned events,
                      std::string_view outcome, bool room);
  void listener_read(std::string_view name, uint32_t delivered, bool overrun);
  // The run is over: writes the page to the output file.
  void finish();

  // ctcore::Observer
  bool wants_chain_detail() const override { return true; }
  void on_chain_entry(const ctcore::nf_conntrack_tuple_hash& h, bool expired, bool key_equal) override;
  void on_lookup(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conntrack_tuple& tuple, uint32_t hash,
                 uint32_t bucket, uint32_t chain, const ctcore::nf_conntrack_tuple_hash* match) override;
  void on_new(const ctcore::nf_conn& ct) override;
  void on_confirm(const ctcore::nf_conn& ct, uint32_t bucket_orig, uint32_t bucket_reply) override;
  void on_update(const ctcore::nf_conn& ct) override;
  void on_invalid(const ctcore::net& n, uint16_t cpu, const ctcore::Packet& skb, const char* reason) override;
  void on_drop(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, const char* reason) override;
  void on_clash(const ctcore::nf_conn& loser, const ctcore::nf_conn& winner, const char* outcome) override;
  void on_dying(const ctcore::nf_conn& ct, ctcore::DeathReason reason) override;
  void on_destroy(const ctcore::nf_conn& ct) override;
  void on_free(const ctcore::nf_conn& ct) override;
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override;
  void on_ecache_work(const ctcore::net& n, uint32_t sent, bool congested, int next_delay) override;
  // The narrative's facts go to the embedded narrative only.
  void on_call(const char* fn) override;
  void on_branch(const ctcore::nf_conn* ct, ctcore::CtBranch b, const char* fn) override;
  void on_ctinfo(const ctcore::nf_conn* ct, ctcore::ip_conntrack_info ctinfo, const char* fn) override;
  void on_ref(const ctcore::nf_conn& ct, int delta, uint32_t use, const char* fn) override;
  void on_tracker(const ctcore::nf_conn& ct, const char* fn, int verdict, const char* note) override;
  void on_status_set(const ctcore::nf_conn& ct, unsigned bit, const char* fn) override;
  void on_stat(const ctcore::net& n, uint16_t cpu, const char* counter, uint32_t by, const char* fn) override;
  void on_list(const ctcore::nf_conn& ct, ctcore::CtList list, bool enter, uint32_t where, const char* fn) override;
  void on_table_full(const ctcore::net& n, uint32_t count, uint32_t max) override;
  void on_nat_decision(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip,
                       const ctcore::nf_conntrack_tuple& tuple, const ctcore::nf_nat_decision& why) override;
  void on_alter_reply(const ctcore::nf_conn& ct, const ctcore::nf_conntrack_tuple& reply) override;
  void on_event_cache(const ctcore::nf_conn& ct, unsigned event) override;
  void on_event_deliver(const ctcore::nf_conn& ct, unsigned events, unsigned missed, const char* fn) override;
  void on_event_result(const ctcore::nf_conn& ct, int ret, unsigned missed, bool destroy_fail, const char* fn) override;

 private:
  // One step of the run, as the slider moves over them.
  struct Record {
    int64_t t;           // virtual time, ns
    uint64_t narrative;  // narrative bytes written before this record
    uint64_t packet;     // the packet being handled, or 0 (kernel work, actions)
    uint32_t conn;       // the conn the record is about, or 0
    uint32_t arg;        // per kind (docs/EXPLORER.md, "The page's data")
    uint32_t text;       // index into texts_ (a reason, a hook name, ...), 0: none
    uint8_t kind;
  };
  // What a conn looks like after a record (emitted when it changes).
  struct ConnState {
    uint8_t stage = 0;  // 0 unconfirmed, 1 confirmed, 2 dying, 3 freed
    uint8_t list = 0;   // 0 none, 1 unconfirmed, 2 the table, 3 dying
    uint16_t cpu = 0;
    uint32_t use = 0;
    uint32_t state = 0;  // index into texts_ of the tracker's state name
    bool operator==(const ConnState&) const = default;
  };
  struct ConnInfo {
    uint16_t net = 0;
    uint32_t proto = 0;  // texts_ index of the protocol word
    std::string orig, reply;
    uint32_t records = 0;  // how busy it was (the busiest are kept)
    ConnState last;
    uint32_t bucket_orig = UINT32_MAX, bucket_reply = UINT32_MAX;
  };
  struct StateChange {
    uint32_t rec, conn;
    ConnState s;
  };
  struct ChainChange {
    uint32_t rec, bucket;
    std::vector<uint32_t> nodes;  // conn * 2 + dir, in walk order
  };
  struct Walk {
    uint32_t rec, bucket;
    std::vector<uint32_t> nodes;  // (conn * 2 + dir) * 4 + expired * 2 + key_equal
    int64_t match;                // conn * 2 + dir, or -1
  };

  // True once kMaxRecords are held: from then on nothing is recorded
  // (cut_at_ says when that was).
  bool cut();
  // Starts a record: first settles what the previous one left (chains,
  // counters, listeners). Returns its index.
  uint32_t record(uint8_t kind, uint32_t conn, uint32_t arg, std::string_view text);
  uint32_t text_index(std::string_view s);
  ConnInfo& info(const ctcore::nf_conn& ct);
  // The conn's stage, list, cpu and use after the current record.
  void conn_state(const ctcore::nf_conn& ct, uint8_t stage, uint8_t list, uint32_t use);
  void mark_buckets(const ConnInfo& ci);
  void flush_buckets(uint32_t rec);
  void flush_gauges(uint32_t rec);
  // True iff a node of `ct` is in its chains as last read.
  bool hashed(const ctcore::nf_conn& ct) const;
  // The leaving conns whose nodes are gone join the dying list.
  void settle_leaving();
  uint64_t narrative_offset();
  // The page's log: the JSON, and its integer arrays packed into `numbers`.
  std::string data_json(std::string* numbers);

  OutputFile& out_;
  const Engine& engine_;
  const ctcore::Conntrack& core_;
  const ListenerGauges& gauges_;
  OutputFile narrative_out_;  // in memory
  std::unique_ptr<ExplainWriter> explain_;
  std::string narrative_;  // what the narrative has written so far (up to the budget)
  uint64_t narrative_total_ = 0;

  std::string scenario_name_;
  uint32_t hz_ = 0, buckets_ = 0, max_ = 0;
  uint16_t cpus_ = 0;
  std::vector<std::string> nets_;
  uint64_t packet_ = 0;  // packet of the current world step
  int64_t cut_at_ = -1;  // when kMaxRecords was reached, or -1

  std::vector<Record> records_;
  std::vector<std::string> texts_{""};
  std::map<std::string, uint32_t, std::less<>> text_ids_{{"", 0}};
  std::vector<ConnInfo> conns_;  // by conn id (ids are dense from 1)
  std::vector<StateChange> states_;
  std::vector<ChainChange> chains_;
  std::vector<Walk> walks_;
  std::vector<uint32_t> walk_nodes_;                     // the lookup in progress
  std::map<uint32_t, std::vector<uint32_t>> chain_now_;  // bucket -> nodes, as last emitted
  std::vector<uint32_t> dirty_buckets_;
  // Confirmed conns killed but maybe still hashed (nf_ct_delete reports
  // IPCT_DESTROY before it unlinks): their chains are read after every
  // record until both nodes are gone, and then they are on the dying list.
  std::vector<const ctcore::nf_conn*> leaving_;
  // Counters: [rec, net, cpu, field, value] and [rec, net, count], flat.
  std::vector<uint64_t> stat_changes_, count_changes_;
  std::vector<std::vector<ctcore::ip_conntrack_stat>> stat_now_;
  std::vector<uint32_t> count_now_;
  // Listeners: [rec, listener, backlog, lost], flat.
  std::vector<uint64_t> listener_changes_;
  std::vector<std::array<uint64_t, 2>> listener_now_;
  // Every gc_worker run: [t, scanned, expired, early_dropped], flat.
  std::vector<int64_t> gc_runs_;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_HTML_WRITER_H_
