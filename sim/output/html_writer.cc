#include "sim/output/html_writer.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

#include "core/nf_conntrack_l4proto.h"
#include "sim/output/explorer_assets.h"
#include "sim/output/trace_writer.h"
#include "sim/scenario/packet_notation.h"

namespace ctsim {

using ctcore::nf_conn;

namespace {

// Record kinds; the page's KINDS lists the same names in the same order.
enum Kind : uint8_t {
  kPkt,
  kHook,
  kLookup,
  kNew,
  kConfirm,
  kUpdate,
  kInvalid,
  kDrop,
  kClash,
  kDying,
  kDestroy,
  kFree,
  kGc,
  kEcache,
  kVerdict,
  kNat,
  kEvent,
  kRead,
  kAction,
  kDone,
};

// Conn stages and lists (the page's STAGES and LISTS).
enum Stage : uint8_t { kUnconfirmed, kConfirmed, kDyingStage, kFreed, kUnknown = 255 };
enum List : uint8_t { kNoList, kUnconfirmedList, kTable, kDyingList };

// The conntrack -S fields, in format_stat_line's order (the page prints
// them in the same order and layout).
uint32_t stat_field(const ctcore::ip_conntrack_stat& s, int i) {
  const uint32_t v[] = {s.found,      s.invalid, s.insert,         s.insert_failed, s.drop,
                        s.early_drop, s.error,   s.search_restart, s.clash_resolve, s.chaintoolong};
  return v[i];
}
// chaintoolong (row C2) is last; it stays 0, so never changes, under v5.10.
constexpr int kStatFields = 10;

uint32_t node_code(const ctcore::nf_conntrack_tuple_hash& h) {
  return ctcore::nf_ct_tuplehash_to_ctrack(&h)->id * 2 + h.tuple.dst.dir;
}

// The page's integer arrays, packed: each number a zigzag LEB128 varint
// (small numbers, the most, take one byte), the arrays one after another;
// index() names them and their lengths in order, for the page's decoder.
class NumberBlob {
 public:
  template <typename Vec>
  void add(std::string_view name, const Vec& v) {
    for (const auto x : v) {
      const auto n = static_cast<int64_t>(x);
      uint64_t z = (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
      while (z >= 0x80) {
        bytes_ += static_cast<char>((z & 0x7f) | 0x80);
        z >>= 7;
      }
      bytes_ += static_cast<char>(z);
    }
    fmt::format_to(std::back_inserter(index_), R"({}["{}",{}])", index_.empty() ? "" : ",", name, v.size());
  }
  const std::string& bytes() const { return bytes_; }
  std::string index() const { return "[" + index_ + "]"; }

 private:
  std::string bytes_, index_;
};

// `data` deflated (raw RFC 1951, zlib's best compression: the same bytes for
// the same input with a given zlib) and base64-encoded, for the page.
std::string deflate_base64(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  std::string packed(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(packed.data());
  z.avail_out = static_cast<uInt>(packed.size());
  deflate(&z, Z_FINISH);
  packed.resize(z.total_out);
  deflateEnd(&z);
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((packed.size() + 2) / 3 * 4);
  for (size_t i = 0; i < packed.size(); i += 3) {
    const size_t n = std::min<size_t>(3, packed.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<uint8_t>(packed[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

void string_value(std::string& out, std::string_view s) { out += json_string(s); }

}  // namespace

HtmlWriter::HtmlWriter(OutputFile& out, const Engine& engine, const ctcore::Conntrack& core,
                       const ListenerGauges& gauges)
    : out_(out), engine_(engine), core_(core), gauges_(gauges) {}

Status HtmlWriter::open(const Scenario& scenario, const std::vector<std::string>& netns_names) {
  if (Status s = narrative_out_.open_memory(); !s.ok()) return s;
  explain_ = std::make_unique<ExplainWriter>(narrative_out_, engine_, core_);
  explain_->header(scenario.name, scenario.kernel_name, scenario.hz, scenario.buckets, hash_rnd_text(scenario),
                   scenario.cpus);
  scenario_name_ = scenario.name;
  hz_ = scenario.hz;
  buckets_ = core_.nf_conntrack_htable_size();
  max_ = core_.nf_conntrack_max();
  cpus_ = scenario.cpus;
  nets_ = netns_names;
  return Status::OK();
}

uint64_t HtmlWriter::narrative_offset() {
  size_t held = narrative_out_.memory_size();
  if (held >= (size_t{1} << 16)) {
    std::string chunk = narrative_out_.drain_memory();
    if (narrative_.size() < kNarrativeBudget)
      narrative_.append(chunk, 0, std::min(chunk.size(), kNarrativeBudget - narrative_.size()));
    narrative_total_ += chunk.size();
    held = 0;
  }
  return narrative_total_ + held;
}

uint32_t HtmlWriter::text_index(std::string_view s) {
  auto it = text_ids_.find(s);
  if (it != text_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(texts_.size());
  texts_.emplace_back(s);
  text_ids_.emplace(std::string(s), id);
  return id;
}

bool HtmlWriter::cut() {
  if (cut_at_ < 0 && records_.size() >= kMaxRecords) cut_at_ = engine_.now();
  return cut_at_ >= 0;
}

uint32_t HtmlWriter::record(uint8_t kind, uint32_t conn, uint32_t arg, std::string_view text) {
  if (!records_.empty()) {
    // What the previous record left: chains it unlinked after its callback,
    // counters and gauges it moved.
    const auto prev = static_cast<uint32_t>(records_.size() - 1);
    for (const nf_conn* ct : leaving_) mark_buckets(info(*ct));
    flush_buckets(prev);
    settle_leaving();
    flush_gauges(prev);
  }
  records_.push_back(Record{engine_.now(), narrative_offset(), packet_, conn, arg, text_index(text), kind});
  if (conn != 0 && conn < conns_.size()) ++conns_[conn].records;
  return static_cast<uint32_t>(records_.size() - 1);
}

HtmlWriter::ConnInfo& HtmlWriter::info(const nf_conn& ct) {
  if (conns_.size() <= ct.id) conns_.resize(ct.id + 1);
  return conns_[ct.id];
}

void HtmlWriter::conn_state(const nf_conn& ct, uint8_t stage, uint8_t list, uint32_t use) {
  ConnInfo& ci = info(ct);
  const auto& l4 = ctcore::nf_ct_l4proto_find(ct.protonum(), core_.profile());
  const char* st = l4.state_name != nullptr ? l4.state_name(ct) : nullptr;
  ConnState s{stage, list, ct.cpu, use, text_index(st != nullptr ? st : "")};
  if (s == ci.last) return;
  ci.last = s;
  states_.push_back(StateChange{static_cast<uint32_t>(records_.size() - 1), ct.id, s});
}

void HtmlWriter::mark_buckets(const ConnInfo& ci) {
  for (uint32_t b : {ci.bucket_orig, ci.bucket_reply})
    if (b < buckets_) dirty_buckets_.push_back(b);
}

void HtmlWriter::flush_buckets(uint32_t rec) {
  if (dirty_buckets_.empty()) return;
  std::sort(dirty_buckets_.begin(), dirty_buckets_.end());
  dirty_buckets_.erase(std::unique(dirty_buckets_.begin(), dirty_buckets_.end()), dirty_buckets_.end());
  for (uint32_t b : dirty_buckets_) {
    std::vector<uint32_t> nodes;
    for (const ctcore::hlist_nulls_node* node : ctcore::hlist_nulls_walk(core_.bucket(b).first))
      nodes.push_back(node_code(*reinterpret_cast<const ctcore::nf_conntrack_tuple_hash*>(node)));
    std::vector<uint32_t>& now = chain_now_[b];
    if (nodes == now) continue;
    now = nodes;
    chains_.push_back(ChainChange{rec, b, std::move(nodes)});
  }
  dirty_buckets_.clear();
}

bool HtmlWriter::hashed(const nf_conn& ct) const {
  const ConnInfo& ci = conns_[ct.id];
  for (uint32_t b : {ci.bucket_orig, ci.bucket_reply}) {
    auto it = chain_now_.find(b);
    if (it == chain_now_.end()) continue;
    for (uint32_t node : it->second)
      if (node >> 1 == ct.id) return true;
  }
  return false;
}

void HtmlWriter::settle_leaving() {
  std::erase_if(leaving_, [&](const nf_conn* ct) {
    if (hashed(*ct)) return false;
    const ConnInfo& ci = conns_[ct->id];
    // 5.19+ (row L1): only a conn whose DESTROY failed is on a list (its
    // namespace's ecache dying list); the others are on none.
    const bool listed = core_.profile().redelivery == ctcore::ct_redelivery::kPcpuDying || ct->list_pprev != nullptr;
    conn_state(*ct, ci.last.stage, listed ? kDyingList : kNoList, ct->use);
    return true;
  });
}

void HtmlWriter::flush_gauges(uint32_t rec) {
  for (size_t i = 0; i < core_.net_count(); ++i) {
    const ctcore::net& n = core_.net_at(static_cast<uint16_t>(i));
    if (stat_now_.size() <= i) {
      stat_now_.resize(i + 1);
      count_now_.resize(i + 1, 0);
    }
    std::vector<ctcore::ip_conntrack_stat>& was = stat_now_[i];
    if (was.size() < n.pcpu.size()) was.resize(n.pcpu.size());
    for (size_t c = 0; c < n.pcpu.size(); ++c) {
      for (int f = 0; f < kStatFields; ++f) {
        const uint32_t v = stat_field(n.pcpu[c].stat, f);
        if (v == stat_field(was[c], f)) continue;
        stat_changes_.insert(stat_changes_.end(), {rec, i, c, static_cast<uint64_t>(f), v});
      }
      was[c] = n.pcpu[c].stat;
    }
    if (n.count != count_now_[i]) {
      count_now_[i] = n.count;
      count_changes_.insert(count_changes_.end(), {rec, i, n.count});
    }
  }
  if (listener_now_.size() < gauges_.listener_count()) listener_now_.resize(gauges_.listener_count(), {0, 0});
  for (size_t l = 0; l < gauges_.listener_count(); ++l) {
    const std::array<uint64_t, 2> g{gauges_.listener_backlog(l), gauges_.listener_lost(l)};
    if (g == listener_now_[l]) continue;
    listener_now_[l] = g;
    listener_changes_.insert(listener_changes_.end(), {rec, l, g[0], g[1]});
  }
}

// --- What the world reports. ---

void HtmlWriter::packet_step(uint64_t id, const ctcore::net& n, uint16_t cpu, std::string_view hook,
                             std::string_view notation, std::string_view path, bool first, bool resumed) {
  if (cut()) return;
  packet_ = id;
  // The packet's notation only while the narrative fits the page (it is
  // the biggest text per packet); after that the hook says enough.
  const bool with_notation = first && narrative_total_ < kNarrativeBudget;
  record(first ? kPkt : kHook, 0, 0,
         with_notation ? fmt::format("{} {}: {}", hook, path, notation) : std::string(hook));
  explain_->packet_step(id, n, cpu, hook, notation, path, first, resumed);
}

void HtmlWriter::verdict(const nf_conn* ct, std::string_view hook, std::string_view verdict, std::string_view reason) {
  if (cut()) return;
  // conntrack's own ACCEPT at every hook is no news (the narrative still
  // says it): a record only for a drop or a scenario rule's verdict.
  if (verdict != "accept" || reason.starts_with("rule "))
    record(kVerdict, ct != nullptr ? ct->id : 0, verdict == "drop" ? 1 : 0, fmt::format("{} {}", hook, verdict));
  explain_->verdict(hook, verdict, reason);
}

void HtmlWriter::nat(const nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match,
                     std::string_view verdict, std::string_view range, const ctcore::nf_nat_decision& why) {
  if (cut()) return;
  const bool dst = manip == ctcore::NF_NAT_MANIP_DST;
  record(kNat, ct.id, (dst ? 1u : 0u) | (rule_match != nullptr ? 2u : 0u), "");
  // The binding changes the REPLY tuple (nf_nat_setup_info).
  info(ct).reply = format_tuple(ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple);
  (void)verdict;
  (void)range;
  (void)why;  // the narrative has the binding from the core's reports
}

void HtmlWriter::nat_rule(const nf_conn& ct, ctcore::nf_nat_manip_type manip, const char* rule_match,
                          std::string_view verdict, std::string_view range) {
  if (!cut()) explain_->nat_rule(ct, manip, rule_match, verdict, range);
}

void HtmlWriter::nat_icmp(const nf_conn& ct, ctcore::nf_nat_manip_type manip, std::string_view before,
                          std::string_view after) {
  if (cut()) return;
  explain_->nat_icmp(ct, manip, before, after);
}

void HtmlWriter::packet_done(const nf_conn* ct) {
  if (cut()) return;
  record(kDone, ct != nullptr ? ct->id : 0, 0, "");
  if (ct != nullptr) {
    const ConnInfo& ci = info(*ct);
    conn_state(*ct, ci.last.stage, ci.last.list, ct->use - 1);
  }
  explain_->packet_done(ct);
}

void HtmlWriter::action_begins(std::string_view what) {
  if (cut()) return;
  packet_ = 0;
  explain_->action(what);
}

void HtmlWriter::action(std::string_view what) {
  if (cut()) return;
  record(kAction, 0, 0, what);
}

void HtmlWriter::end_step() {
  if (cut()) return;
  packet_ = 0;
  explain_->end_step();
}

void HtmlWriter::listener_event(const nf_conn& ct, std::string_view name, std::string_view type, unsigned events,
                                std::string_view outcome, bool room) {
  if (cut()) return;
  record(kEvent, ct.id, room ? 1 : 0, fmt::format("{} {}", name, type));
  explain_->event(ct, name, type, events, outcome);
}

void HtmlWriter::listener_read(std::string_view name, uint32_t delivered, bool overrun) {
  if (cut()) return;
  record(kRead, 0, delivered, fmt::format("{}{}", name, overrun ? " overrun" : ""));
}

// --- Core callbacks. ---

void HtmlWriter::on_chain_entry(const ctcore::nf_conntrack_tuple_hash& h, bool expired, bool key_equal) {
  if (cut()) return;
  walk_nodes_.push_back(node_code(h) * 4 + (expired ? 2 : 0) + (key_equal ? 1 : 0));
  explain_->on_chain_entry(h, expired, key_equal);
}

void HtmlWriter::on_lookup(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conntrack_tuple& tuple, uint32_t hash,
                           uint32_t bucket, uint32_t chain, const ctcore::nf_conntrack_tuple_hash* match) {
  if (cut()) return;
  const nf_conn* ct = match != nullptr ? ctcore::nf_ct_tuplehash_to_ctrack(match) : nullptr;
  const uint32_t r = record(kLookup, ct != nullptr ? ct->id : 0, bucket, "");
  walks_.push_back(Walk{r, bucket, std::move(walk_nodes_), match != nullptr ? int64_t{node_code(*match)} : -1});
  walk_nodes_.clear();
  if (ct != nullptr) {
    const ConnInfo& ci = info(*ct);
    conn_state(*ct, ci.last.stage, ci.last.list, ct->use);
  }
  explain_->on_lookup(n, cpu, tuple, hash, bucket, chain, match);
}

void HtmlWriter::on_new(const nf_conn& ct) {
  if (cut()) return;
  ConnInfo& ci = info(ct);
  ci = ConnInfo{};
  ci.net = ct.net;
  ci.proto = text_index(protocol_word(ct.protonum()));
  ci.orig = format_tuple(ct.tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple);
  ci.reply = format_tuple(ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple);
  ci.last.stage = kUnknown;
  record(kNew, ct.id, 0, "");
  conn_state(ct, kUnconfirmed, core_.profile().unconfirmed_list ? kUnconfirmedList : kNoList, ct.use);
  explain_->on_new(ct);
}

void HtmlWriter::on_confirm(const nf_conn& ct, uint32_t bucket_orig, uint32_t bucket_reply) {
  if (cut()) return;
  const uint32_t r = record(kConfirm, ct.id, bucket_orig, "");
  ConnInfo& ci = info(ct);
  ci.bucket_orig = bucket_orig;
  ci.bucket_reply = bucket_reply;
  conn_state(ct, kConfirmed, kTable, ct.use);
  // Both nodes are at their chains' heads now: show them at this record.
  mark_buckets(ci);
  flush_buckets(r);
  explain_->on_confirm(ct, bucket_orig, bucket_reply);
}

void HtmlWriter::on_update(const nf_conn& ct) {
  if (cut()) return;
  const ConnInfo& ci = info(ct);
  const auto& l4 = ctcore::nf_ct_l4proto_find(ct.protonum(), core_.profile());
  const char* st = l4.state_name != nullptr ? l4.state_name(ct) : nullptr;
  record(kUpdate, ct.id, 0, st != nullptr ? st : "");
  conn_state(ct, ci.last.stage, ci.last.list, ct.use);
  explain_->on_update(ct);
}

void HtmlWriter::on_invalid(const ctcore::net& n, uint16_t cpu, const ctcore::Packet& skb, const char* reason) {
  if (cut()) return;
  record(kInvalid, 0, 0, reason);
  explain_->on_invalid(n, cpu, skb, reason);
}

void HtmlWriter::on_drop(const ctcore::net& n, uint16_t cpu, const nf_conn* ct, const char* reason) {
  if (cut()) return;
  record(kDrop, ct != nullptr ? ct->id : 0, 0, reason);
  explain_->on_drop(n, cpu, ct, reason);
}

void HtmlWriter::on_clash(const nf_conn& loser, const nf_conn& winner, const char* outcome) {
  if (cut()) return;
  record(kClash, loser.id, winner.id, outcome);
  explain_->on_clash(loser, winner, outcome);
}

void HtmlWriter::on_dying(const nf_conn& ct, ctcore::DeathReason reason) {
  if (cut()) return;
  ConnInfo& ci = info(ct);
  record(kDying, ct.id, static_cast<uint32_t>(reason), ctcore::death_reason_name(reason));
  // A clash loser goes from the unconfirmed list to the dying list; a
  // confirmed conn stays hashed (IPS_DYING set) until nf_ct_delete has
  // reported IPCT_DESTROY, then leaves its buckets for the dying list
  // (settle_leaving); a conn killed unconfirmed stays on the unconfirmed
  // list until its skb lets go (explain_writer.cc).
  if (reason == ctcore::DeathReason::kClash) {
    const bool pcpu_dying = core_.profile().redelivery == ctcore::ct_redelivery::kPcpuDying;
    conn_state(ct, kDyingStage, pcpu_dying ? kDyingList : kNoList, ct.use);
  } else {
    if (ci.last.stage == kConfirmed) leaving_.push_back(&ct);
    conn_state(ct, kDyingStage, ci.last.list, ct.use);
  }
  mark_buckets(ci);
  explain_->on_dying(ct, reason);
}

void HtmlWriter::on_destroy(const nf_conn& ct) {
  if (cut()) return;
  record(kDestroy, ct.id, 0, "");
  std::erase(leaving_, &ct);
  conn_state(ct, kDyingStage, kNoList, 0);
  mark_buckets(info(ct));
  explain_->on_destroy(ct);
}

void HtmlWriter::on_free(const nf_conn& ct) {
  if (cut()) return;
  record(kFree, ct.id, 0, "");
  std::erase(leaving_, &ct);  // its memory is reused after this
  conn_state(ct, kFreed, kNoList, 0);
  mark_buckets(info(ct));
  explain_->on_free(ct);
}

void HtmlWriter::on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped,
                       uint32_t next_run) {
  if (cut()) return;
  gc_runs_.insert(gc_runs_.end(), {engine_.now(), scanned, expired, early_dropped});
  if (expired != 0 || early_dropped != 0) record(kGc, 0, expired + early_dropped, "");
  explain_->on_gc(scanned, expired, buckets, early_dropped, next_run);
}

void HtmlWriter::on_ecache_work(const ctcore::net& n, uint32_t sent, bool congested, int next_delay) {
  if (cut()) return;
  if (sent != 0 || congested) record(kEcache, 0, sent, congested ? "congested" : "");
  explain_->on_ecache_work(n, sent, congested, next_delay);
}

void HtmlWriter::on_call(const char* fn) {
  if (!cut()) explain_->on_call(fn);
}
void HtmlWriter::on_branch(const nf_conn* ct, ctcore::CtBranch b, const char* fn) {
  if (!cut()) explain_->on_branch(ct, b, fn);
}
void HtmlWriter::on_ctinfo(const nf_conn* ct, ctcore::ip_conntrack_info ctinfo, const char* fn) {
  if (!cut()) explain_->on_ctinfo(ct, ctinfo, fn);
}
void HtmlWriter::on_ref(const nf_conn& ct, int delta, uint32_t use, const char* fn) {
  if (!cut()) explain_->on_ref(ct, delta, use, fn);
}
void HtmlWriter::on_tracker(const nf_conn& ct, const char* fn, int verdict, const char* note) {
  if (!cut()) explain_->on_tracker(ct, fn, verdict, note);
}
void HtmlWriter::on_status_set(const nf_conn& ct, unsigned bit, const char* fn) {
  if (!cut()) explain_->on_status_set(ct, bit, fn);
}
void HtmlWriter::on_stat(const ctcore::net& n, uint16_t cpu, const char* counter, uint32_t by, const char* fn) {
  if (!cut()) explain_->on_stat(n, cpu, counter, by, fn);
}
void HtmlWriter::on_list(const nf_conn& ct, ctcore::CtList list, bool enter, uint32_t where, const char* fn) {
  if (!cut()) explain_->on_list(ct, list, enter, where, fn);
}
void HtmlWriter::on_table_full(const ctcore::net& n, uint32_t count, uint32_t max) {
  if (!cut()) explain_->on_table_full(n, count, max);
}
void HtmlWriter::on_nat_decision(const nf_conn& ct, ctcore::nf_nat_manip_type manip,
                                 const ctcore::nf_conntrack_tuple& tuple, const ctcore::nf_nat_decision& why) {
  if (!cut()) explain_->on_nat_decision(ct, manip, tuple, why);
}
void HtmlWriter::on_alter_reply(const nf_conn& ct, const ctcore::nf_conntrack_tuple& reply) {
  if (!cut()) explain_->on_alter_reply(ct, reply);
}
void HtmlWriter::on_event_cache(const nf_conn& ct, unsigned event) {
  if (!cut()) explain_->on_event_cache(ct, event);
}
void HtmlWriter::on_event_deliver(const nf_conn& ct, unsigned events, unsigned missed, const char* fn) {
  if (!cut()) explain_->on_event_deliver(ct, events, missed, fn);
}
void HtmlWriter::on_event_result(const nf_conn& ct, int ret, unsigned missed, bool destroy_fail, const char* fn) {
  if (!cut()) explain_->on_event_result(ct, ret, missed, destroy_fail, fn);
}

// --- The page. ---

std::string HtmlWriter::data_json(std::string* numbers) {
  NumberBlob nums;
  // Which conns the page keeps: all, or the busiest kMaxConns.
  std::vector<uint32_t> ids;
  for (uint32_t id = 1; id < conns_.size(); ++id) ids.push_back(id);
  std::vector<bool> kept(conns_.size(), true);
  size_t left_out = 0;
  if (ids.size() > kMaxConns) {
    std::stable_sort(ids.begin(), ids.end(),
                     [&](uint32_t a, uint32_t b) { return conns_[a].records > conns_[b].records; });
    for (size_t i = kMaxConns; i < ids.size(); ++i) kept[ids[i]] = false;
    left_out = ids.size() - kMaxConns;
  }
  // A packet belongs to the first conn it names; its records go with it.
  std::map<uint64_t, uint32_t> packet_conn;
  for (const Record& r : records_)
    if (r.packet != 0 && r.conn != 0) packet_conn.emplace(r.packet, r.conn);
  auto keep = [&](const Record& r) {
    uint32_t c = r.conn;
    if (c == 0 && r.packet != 0) {
      auto it = packet_conn.find(r.packet);
      if (it != packet_conn.end()) c = it->second;
    }
    return c == 0 || c >= kept.size() || kept[c];
  };
  // new_index[i]: the kept record at or before record i (0 if none).
  std::vector<uint32_t> new_index(records_.size());
  std::vector<const Record*> out_records;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (keep(records_[i])) out_records.push_back(&records_[i]);
    new_index[i] = out_records.empty() ? 0 : static_cast<uint32_t>(out_records.size() - 1);
  }
  const size_t records_left_out = records_.size() - out_records.size();

  std::string j = "{";
  j += R"("schema":1,"scenario":)";
  string_value(j, scenario_name_);
  fmt::format_to(std::back_inserter(j), R"(,"hz":{},"buckets":{},"max":{},"cpus":{},)", hz_, buckets_, max_, cpus_);
  // Row C2: the kernel has the chaintoolong counter (conntrack -S shows it).
  if (core_.profile().stat_chaintoolong) j += R"("chaintoolong":true,)";
  // 5.19+ (kernel profile row L1): no per-CPU lists, one ecache dying list
  // per namespace. Written only then (the page defaults to v5.10's lists).
  if (core_.profile().redelivery != ctcore::ct_redelivery::kPcpuDying) j += R"("lists":"ecache",)";
  std::vector<std::string> nets = nets_;
  for (size_t i = 0; i < core_.net_count(); ++i) {
    const std::string& name = core_.net_at(static_cast<uint16_t>(i)).name;
    if (i < nets.size())
      nets[i] = name;
    else
      nets.push_back(name);
  }
  j += R"("nets":[)";
  for (size_t i = 0; i < nets.size(); ++i) {
    if (i > 0) j += ',';
    string_value(j, nets[i]);
  }
  j += R"(],"listeners":[)";
  for (size_t l = 0; l < gauges_.listener_count(); ++l) {
    if (l > 0) j += ',';
    string_value(j, gauges_.listener_name(l));
  }
  fmt::format_to(std::back_inserter(j), R"(],"left_out":{{"conns":{},"records":{},"narrative":{},"after_ns":{}}},)",
                 left_out, records_left_out,
                 narrative_total_ > narrative_.size() ? narrative_total_ - narrative_.size() : 0, cut_at_);
  j += R"("texts":[)";
  for (size_t i = 0; i < texts_.size(); ++i) {
    if (i > 0) j += ',';
    string_value(j, texts_[i]);
  }
  j += "],";
  // Records, one column per field, times and narrative offsets as deltas.
  std::vector<int64_t> col;
  auto column = [&](const char* key, auto get, bool delta) {
    col.clear();
    int64_t prev = 0;
    for (const Record* r : out_records) {
      const int64_t v = get(*r);
      col.push_back(delta ? v - prev : v);
      prev = v;
    }
    nums.add(fmt::format("rec.{}", key), col);
  };
  column(
      "t", [](const Record& r) { return r.t; }, true);
  column(
      "k", [](const Record& r) { return int64_t{r.kind}; }, false);
  column(
      "c", [](const Record& r) { return int64_t{r.conn}; }, true);
  column(
      "p", [](const Record& r) { return static_cast<int64_t>(r.packet); }, true);
  column(
      "a", [](const Record& r) { return int64_t{r.arg}; }, false);
  column(
      "x", [](const Record& r) { return int64_t{r.text}; }, false);
  // Past the kept narrative an offset says only "left out": all the same.
  const auto kept_narrative = static_cast<int64_t>(narrative_.size());
  column(
      "b", [&](const Record& r) { return std::min(static_cast<int64_t>(r.narrative), kept_narrative); }, true);
  // Conns: [id, net, proto, orig, reply], kept ones only.
  j += R"("conns":[)";
  bool first = true;
  for (uint32_t id = 1; id < conns_.size(); ++id) {
    if (!kept[id]) continue;
    const ConnInfo& ci = conns_[id];
    if (ci.last.stage == kUnknown && ci.orig.empty()) continue;  // never seen
    fmt::format_to(std::back_inserter(j), "{}[{},{},{},", first ? "" : ",", id, ci.net, ci.proto);
    string_value(j, ci.orig);
    j += ',';
    string_value(j, ci.reply);
    j += ']';
    first = false;
  }
  // The streams below are flat arrays of entries that start with their
  // record, as the difference from the previous entry's (they are sorted).
  std::vector<int64_t> flat;
  int64_t prev_rec = 0;
  auto rec_delta = [&](uint32_t rec) {
    const int64_t d = int64_t{new_index[rec]} - prev_rec;
    prev_rec = new_index[rec];
    return d;
  };
  // Conn states: rec, conn, stage, list, cpu, use, state.
  for (const StateChange& s : states_) {
    if (s.conn < kept.size() && !kept[s.conn]) continue;
    flat.insert(flat.end(), {rec_delta(s.rec), s.conn, s.s.stage, s.s.list, s.s.cpu, s.s.use, s.s.state});
  }
  j += "],";
  nums.add("states", flat);
  // Chains: rec, bucket, length, nodes...
  flat.clear();
  prev_rec = 0;
  for (const ChainChange& c : chains_) {
    flat.insert(flat.end(), {rec_delta(c.rec), c.bucket, static_cast<int64_t>(c.nodes.size())});
    flat.insert(flat.end(), c.nodes.begin(), c.nodes.end());
  }
  nums.add("chains", flat);
  // Walks: rec, bucket, match + 1, length, nodes... (kept records only).
  flat.clear();
  prev_rec = 0;
  for (const Walk& w : walks_) {
    if (!keep(records_[w.rec])) continue;
    flat.insert(flat.end(), {rec_delta(w.rec), w.bucket, w.match + 1, static_cast<int64_t>(w.nodes.size())});
    flat.insert(flat.end(), w.nodes.begin(), w.nodes.end());
  }
  nums.add("walks", flat);
  auto reindexed = [&](const std::vector<uint64_t>& v, size_t stride) {
    std::vector<int64_t> o(v.begin(), v.end());
    prev_rec = 0;
    for (size_t i = 0; i < o.size(); i += stride) o[i] = rec_delta(static_cast<uint32_t>(o[i]));
    return o;
  };
  nums.add("stats", reindexed(stat_changes_, 5));
  nums.add("counts", reindexed(count_changes_, 3));
  nums.add("listener_gauges", reindexed(listener_changes_, 4));
  nums.add("gc", gc_runs_);
  j += R"("narrative":)";
  string_value(j, narrative_);
  j += R"(,"numbers":)";
  j += nums.index();
  j += "}\n";
  *numbers = nums.bytes();
  return j;
}

void HtmlWriter::finish() {
  explain_->finish();
  if (!cut() && !records_.empty()) {
    const auto last = static_cast<uint32_t>(records_.size() - 1);
    flush_buckets(last);
    flush_gauges(last);
  }
  {
    std::string rest = narrative_out_.drain_memory();
    if (narrative_.size() < kNarrativeBudget)
      narrative_.append(rest, 0, std::min(rest.size(), kNarrativeBudget - narrative_.size()));
    narrative_total_ += rest.size();
  }
  // The template's holes: the style, the log (its JSON and its numbers:
  // each inflated size and deflated bytes), the script.
  const std::string_view page = explorer_assets::kPage;
  std::string numbers;
  const std::string data = data_json(&numbers);
  const std::string size = std::to_string(data.size()), numbers_size = std::to_string(numbers.size());
  const std::string packed = deflate_base64(data), numbers_packed = deflate_base64(numbers);
  const struct {
    std::string_view hole;
    std::string_view fill;
  } holes[] = {{"/*CTSIM_STYLE*/", explorer_assets::kStyle},
               {"/*CTSIM_DATA_SIZE*/", size},
               {"/*CTSIM_DATA*/", packed},
               {"/*CTSIM_NUMBERS_SIZE*/", numbers_size},
               {"/*CTSIM_NUMBERS*/", numbers_packed},
               {"/*CTSIM_SCRIPT*/", explorer_assets::kScript}};
  size_t at = 0;
  for (const auto& h : holes) {
    const size_t pos = page.find(h.hole, at);
    if (pos == std::string_view::npos) continue;  // explorer_page_test checks that every hole is there
    out_.write(page.substr(at, pos - at));
    out_.write(h.fill);
    at = pos + h.hole.size();
  }
  out_.write(page.substr(at));
}

}  // namespace ctsim
