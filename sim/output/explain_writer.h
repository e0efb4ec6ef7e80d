// Explain mode (`ctsim run S --explain FILE`): the run told as the kernel
// walk-through tells it, one numbered block per packet hook step, per
// action and per piece of kernel work, naming the v5.10 function behind
// every step (nf_ct_get_tuple, hash_conntrack_raw, reciprocal_scale,
// ____nf_conntrack_find / nf_ct_key_equal, init_conntrack,
// nf_ct_invert_tuple, __nf_conntrack_confirm, nf_ct_delete,
// destroy_conntrack, nf_conntrack_free, gc_worker, ...) and the conn's
// `use` after each step that changes it. docs/TRACE_SCHEMA.md describes
// the layout; the text is for people, not for parsing.
//
// Blocks:
//   packet N at T (jiffies J), netns NS, CPU C, path P: <packet notation>
//     1. ...
//   packet N continues at T: <hook> hook         (after another CPU's step)
//   action DO at T
//   kernel work at T: gc_worker | ecache redelivery | ...
// A block opens lazily on its first line; idle gc_worker runs (nothing
// expired, nothing early-dropped) write nothing.
//
// Every statement about what the core did comes from an Observer call the
// core made where it did it (core/observer.h: on_call, on_branch, on_ctinfo, on_ref,
// on_tracker, on_status_set, on_stat, on_list, on_table_full, and the
// life-cycle calls): references and `use`, lists entered and left,
// counters, status bits set outside the trackers, tracker verdicts. The
// writer keeps the list and reference facts of a conn until the step they
// belong to (init_conntrack, __nf_conntrack_confirm, a clash, nf_ct_delete,
// destroy_conntrack) and writes the rest as steps of their own, each naming
// the function the core reported. tests/explain_truth_test.cc checks the
// narrative of every scenario against its trace and statistics.
//
// Ownership: writes to `out`, which must outlive it.
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_EXPLAIN_WRITER_H_
#define CTSIM_SIM_OUTPUT_EXPLAIN_WRITER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/nf_nat_core.h"
#include "core/observer.h"
#include "sim/engine/engine.h"
#include "sim/output/output_file.h"

namespace ctsim {

class ExplainWriter : public ctcore::Observer {
 public:
  ExplainWriter(OutputFile& out, const Engine& engine, const ctcore::Conntrack& core)
      : out_(out), engine_(engine), core_(core) {}
  ExplainWriter(const ExplainWriter&) = delete;
  ExplainWriter& operator=(const ExplainWriter&) = delete;

  // `kernel`: the profile's name; `hash_rnd`: ctsim::hash_rnd_text().
  void header(std::string_view scenario, std::string_view kernel, uint32_t hz, uint32_t buckets,
              std::string_view hash_rnd, uint16_t cpus);

  // Calls from the simulator (packet path, actions, listeners).
  // A hook step of packet `id` starts: `first` at its first hook (with its
  // `notation`), `resumed` when it comes back from a queue verdict.
  void packet_step(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook, std::string_view notation,
                   std::string_view path, bool first, bool resumed);
  void verdict(std::string_view hook, std::string_view verdict, std::string_view reason);
  // The packet leaves the stack; `ct` is the conn it holds (or null), and
  // its reference is about to be put.
  void packet_done(const ctcore::nf_conn* ct);
  void action(std::string_view what);
  // The current simulator event is over: the next callbacks are kernel work.
  void end_step();
  // An event message offered to a listener. `outcome` says what happened.
  void event(const ctcore::nf_conn& ct, std::string_view listener, std::string_view type, unsigned events,
             std::string_view outcome);
  // nf_nat_inet_fn() is about to bind ct for `manip` (the world's part,
  // said before the core's): by the rule matching `rule_match` with verdict
  // `verdict` to `range`; a null `rule_match`: no rule bound it (the null
  // binding follows). The binding itself is told from the core's reports.
  void nat_rule(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match,
                std::string_view verdict, std::string_view range);
  // An ICMP error about a NATed conn was translated.
  void nat_icmp(const ctcore::nf_conn& ct, ctcore::nf_nat_manip_type manip, std::string_view before,
                std::string_view after);
  // Flushes any open block (call once at the end).
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
  enum class Block { kNone, kPacket, kAction, kWork };
  struct Known {        // what the narrative remembers about a live conn
    std::string state;  // its protocol state at the last tracker step
  };

  // A list or reference fact the core reported, waiting for the step it
  // belongs to (see the file comment).
  struct Fact {
    enum class Kind : uint8_t { kList, kRef, kStatus, kEvent } kind;
    uint32_t conn;
    const char* fn;
    ctcore::CtList list = ctcore::CtList::kUnconfirmed;
    bool enter = false;
    uint32_t where = 0;  // bucket or CPU (kList)
    int delta = 0;       // kRef
    uint32_t use = 0;    // kRef
    unsigned bit = 0;    // kStatus: the IPS_ bit; kEvent: the IPCT_ event
    uint16_t net = 0;
  };
  // Removes and returns the first waiting fact of `conn` that `want` accepts.
  template <class Pred>
  std::optional<Fact> take(uint32_t conn, Pred want);
  std::string fact_text(const Fact& f) const;
  // Removes and returns every waiting fact of `conn`, in order.
  std::vector<Fact> take_all(uint32_t conn);
  // Writes `facts` as continuation lines of the last step, grouped by function.
  void more_facts(const std::vector<Fact>& facts);
  // Writes every waiting fact as steps (before any step that is not theirs).
  void flush_facts();
  // Adds a numbered step to the current block (a work block when none).
  void step(const std::string& text);
  // Adds an unnumbered continuation line to the last step.
  void more(const std::string& text);
  // Appends to the last line written (a step or a continuation line).
  void append(const std::string& text);
  // Writes the last line out (it may no longer change).
  void close_line();
  void raw_step(const std::string& text);
  void flush_work(const std::string& title);
  std::string when() const;
  std::string state_of(const ctcore::nf_conn& ct) const;
  uint32_t timeout_secs(const ctcore::nf_conn& ct) const;

  OutputFile& out_;
  const Engine& engine_;
  const ctcore::Conntrack& core_;
  Block block_ = Block::kNone;
  uint64_t packet_ = 0;     // packet of the open packet block
  int* counter_ = nullptr;  // step counter of the open block
  int work_counter_ = 0;
  std::map<uint64_t, int> packet_steps_;  // per packet id: steps written so far
  std::vector<std::string> work_lines_;   // a kernel-work block waits for its title
  std::vector<std::string> chain_;        // compares of the walk in progress
  std::map<uint32_t, Known> known_;       // by conn id
  std::map<uint64_t, uint16_t> packet_cpu_;
  std::vector<Fact> facts_;
  std::string open_;           // the last line, still open to append()
  bool open_to_work_ = false;  // it goes to work_lines_, not out_
  bool calls_open_ = false;    // the open line is the hook step's call chain
  // The delivery the core is making (on_event_deliver), told with each
  // listener's outcome (event()).
  struct Delivery {
    uint32_t conn = 0;
    unsigned events = 0;
    unsigned missed = 0;
    const char* fn = nullptr;  // null: none in progress
  };
  Delivery delivery_;
  // The conn whose packet is leaving the stack (packet_done): the core's put
  // that follows (nf_reset_ct) completes that step's line. 0: none.
  uint32_t leaving_ = 0;
};

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_EXPLAIN_WRITER_H_
