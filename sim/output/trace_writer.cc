#include "sim/output/trace_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "core/nf_conntrack_l4proto.h"
#include "sim/scenario/packet_notation.h"

namespace ctsim {

using ctcore::nf_conn;

void append_json_string_escaped(TextBuffer& buf, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  buf.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': buf.literal("\\\""); break;
      case '\\': buf.literal("\\\\"); break;
      case '\n': buf.literal("\\n"); break;
      case '\t': buf.literal("\\t"); break;
      case '\r': buf.literal("\\r"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          buf.literal("\\u00");
          buf.push_back(kHex[(c >> 4) & 0xf]);
          buf.push_back(kHex[c & 0xf]);
        } else {
          buf.push_back(c);
        }
    }
  }
  buf.push_back('"');
}

std::string json_string(std::string_view s) {
  TextBuffer b;
  append_json_string(b, s);
  return b.str();
}

void TraceWriter::time_head_slow(int64_t now, uint32_t jiffies) {
  // Records come in bursts at one instant: the head is formatted here once
  // per instant and copied by head() after that.
  prefix_now_ = now;
  prefix_jiffies_ = jiffies;
  if (jiffies != jiffies_text_of_ || jiffies_text_size_ == 0) {
    char* p = jiffies_text_;
    std::memcpy(p, ",\"jiffies\":", 11);
    p = TextBuffer::put_uint(p + 11, jiffies);
    std::memcpy(p, ",\"kind\":\"", 9);
    jiffies_text_of_ = jiffies;
    jiffies_text_size_ = static_cast<size_t>(p + 9 - jiffies_text_);
  }
  char* p = prefix_;
  std::memcpy(p, "{\"t\":", 5);
  p = TextBuffer::put_int(p + 5, now);
  std::memcpy(p, jiffies_text_, jiffies_text_size_);
  prefix_size_ = static_cast<size_t>(p - prefix_) + jiffies_text_size_;
}

void TraceWriter::net_slow(const ctcore::net& n) {
  // Compared by name, not by address: a namespace deleted and another made
  // at the same address is a different name.
  const size_t start = buf_.size();
  buf_.literal(",\"net\":");
  append_json_string(buf_, n.name);
  const size_t size = buf_.size() - start;
  net_name_ = n.name;
  net_text_size_ = size <= kNetRoom ? size : 0;
  if (net_text_size_ != 0) std::memcpy(net_text_, buf_.data() + start, size);
  buf_.truncate(start);
}

char* TraceWriter::head_unkept(std::string_view kind, const ctcore::net& n, int cpu, uint32_t conn, size_t more) {
  buf_.append(prefix_, prefix_size_);
  buf_.append(kind);
  buf_.push_back('"');
  buf_.literal(",\"net\":");
  append_json_string(buf_, n.name);
  if (cpu >= 0) num("cpu", cpu);
  if (conn != 0) memo_num(conn_text_, "conn", conn);
  return buf_.tail(more);
}

// Packet and tuple notation is made of protocol and ICMP/SCTP/DCCP words,
// numbers, addresses and " > [ ] : , ." only (packet_notation_format.cc):
// nothing JSON must escape, so it is formatted in place without the scan.
template <size_t N>
void TraceWriter::tuple_str(const char (&k)[N], const ctcore::nf_conntrack_tuple& t) {
  key(k);
  buf_.push_back('"');
  append_tuple_notation(buf_, t, &heads_);
  buf_.push_back('"');
}

void TraceWriter::num(std::string_view k, int64_t value) {
  buf_.literal(",\"");
  buf_.append(k);
  buf_.literal("\":");
  buf_.append_int(value);
}

void TraceWriter::status_list(uint16_t status) {
  if (const StatusText* e = status_ready(status)) {
    buf_.append_memo(e->text, e->size);
    return;
  }
  format_status_list(status);
}

const TraceWriter::StatusText* TraceWriter::status_ready(uint16_t status) {
  StatusText& e = status_text_[(status ^ (status >> 5) ^ (status >> 10)) % kStatusEntries];
  if (e.status == status) return &e;
  // Formatted at the buffer's end and taken back.
  const size_t start = buf_.size();
  format_status_list(status);
  const size_t size = buf_.size() - start;
  const bool keep = size <= sizeof e.text;
  if (keep) {
    e.status = status;
    e.size = static_cast<uint8_t>(size);
    std::memcpy(e.text, buf_.data() + start, size);
  }
  buf_.truncate(start);
  return keep ? &e : nullptr;
}

void TraceWriter::format_status_list(uint16_t status) {
  buf_.literal(",\"status\":[");
  bool first = true;
  for (unsigned bit = 0; bit < ctcore::IPS_MAX_BIT; ++bit) {
    if ((status >> bit) & 1u) {
      if (!first) buf_.push_back(',');
      buf_.literal("\"IPS_");
      buf_.append(ctcore::kIpsBitNames[bit]);
      buf_.push_back('"');
      first = false;
    }
  }
  buf_.push_back(']');
}

std::string_view TraceWriter::state_word(const nf_conn& ct) const {
  const auto& l4 = ctcore::nf_ct_l4proto_find(ct.protonum(), core_.profile());
  const char* st = l4.state_name != nullptr ? l4.state_name(ct) : nullptr;
  return st != nullptr ? std::string_view(st) : std::string_view();
}

void TraceWriter::conn_state(const nf_conn& ct) {
  const std::string_view st = state_word(ct);
  if (st.data() != nullptr)
    word("state", st);
  else
    null("state");
}

uint32_t TraceWriter::timeout_secs(const nf_conn& ct) const {
  const uint32_t left = ctcore::nf_ct_is_confirmed(&ct) ? ctcore::nf_ct_expires(&ct, core_.now32()) : ct.timeout;
  return left / core_.hz();
}

void TraceWriter::header(std::string_view scenario, uint32_t hz, uint64_t seed, uint64_t initial_jiffies,
                         std::string_view kernel,
                         const std::vector<std::pair<std::string, std::string>>& kernel_overrides, uint32_t buckets,
                         uint32_t max, std::string_view hash_rnd, bool hash_rnd_is_key, uint16_t cpus) {
  fmt::format_to(std::back_inserter(buf_), "{{\"ctsim_trace\":{},\"scenario\":", kTraceSchema);
  append_json_string(buf_, scenario);
  fmt::format_to(std::back_inserter(buf_), ",\"hz\":{},\"seed\":{},\"initial_jiffies\":{},\"kernel\":", hz, seed,
                 initial_jiffies);
  append_json_string(buf_, kernel);
  if (!kernel_overrides.empty()) {
    // Values as strings (enum words, "true"/"false", numbers): one type per
    // key whatever the switch, for consumers that read them generically.
    buf_.literal(",\"kernel_overrides\":{");
    for (size_t i = 0; i < kernel_overrides.size(); ++i) {
      if (i > 0) buf_.push_back(',');
      append_json_string(buf_, kernel_overrides[i].first);
      buf_.push_back(':');
      append_json_string(buf_, kernel_overrides[i].second);
    }
    buf_.push_back('}');
  }
  fmt::format_to(std::back_inserter(buf_), ",\"buckets\":{},\"max\":{},\"hash_rnd\":", buckets, max);
  // v5.10's seed is a number; the siphash kernels' key a string of 32 hex digits.
  if (hash_rnd_is_key) {
    append_json_string(buf_, hash_rnd);
  } else {
    buf_.append(hash_rnd);
  }
  fmt::format_to(std::back_inserter(buf_), ",\"cpus\":{}", cpus);
  finish();
}

void TraceWriter::pkt(const ctcore::net& n, uint16_t cpu, uint64_t id, std::string_view hook, const ctcore::Packet& skb,
                      std::string_view path) {
  memo_ready(id_text_, "id", id);
  char* p = head("pkt", &n, cpu, 0, sizeof id_text_.text + sizeof "hook" + 5 + hook.size() + 8);
  std::memcpy(p, id_text_.text, sizeof id_text_.text);
  p = put_word(p + id_text_.size, "hook", hook);
  std::memcpy(p, ",\"pkt\":\"", 8);
  buf_.set_end(p + 8);
  append_packet_notation(buf_, skb, &heads_);
  p = buf_.tail(1 + sizeof "path" + 5 + path.size() + 2);
  *p = '"';
  p = put_word(p + 1, "path", path);
  std::memcpy(p, "}\n", 2);
  buf_.set_end(p + 2);
  out_.commit();
}

void TraceWriter::verdict(const ctcore::net& n, uint16_t cpu, const nf_conn* ct, uint64_t id, std::string_view hook,
                          std::string_view verdict, std::string_view reason) {
  begin("verdict", &n, cpu, ct ? ct->id : 0);
  memo_num(id_text_, "id", id);
  word("hook", hook);
  word("verdict", verdict);
  str("reason", reason);
  finish();
}

const TraceWriter::VerdictTail* TraceWriter::verdict_tail_slow(std::string_view hook, const char* verdict,
                                                                const char* by) {
  const size_t start = buf_.size();
  word("hook", hook);
  word("verdict", verdict);
  word("reason", by != nullptr ? by : "");
  buf_.literal("}\n");
  const size_t size = buf_.size() - start;
  VerdictTail* kept = nullptr;
  if (size <= sizeof VerdictTail::text) {
    kept = &verdict_tails_[verdict_tail_next_];
    verdict_tail_next_ = (verdict_tail_next_ + 1) % kVerdictTails;
    kept->hook = hook.data();
    kept->verdict = verdict;
    kept->by = by;
    kept->size = static_cast<uint8_t>(size);
    std::memcpy(kept->text, buf_.data() + start, size);
  }
  buf_.truncate(start);
  return kept;
}

void TraceWriter::event(const ctcore::net& n, const nf_conn& ct, std::string_view listener, std::string_view type,
                        unsigned events, bool delivered) {
  begin("event", &n, -1, ct.id);
  str("listener", listener);
  word("type", type);
  buf_.literal(",\"events\":[");
  bool first = true;
  for (unsigned b = 0; b < ctcore::IPCT_MAX; ++b) {
    if (events & (1u << b)) {
      if (!first) buf_.push_back(',');
      buf_.literal("\"IPCT_");
      buf_.append(ctcore::kIpctNames[b]);
      buf_.push_back('"');
      first = false;
    }
  }
  buf_.push_back(']');
  boolean("delivered", delivered);
  finish();
}

void TraceWriter::listener_read(const ctcore::net& n, std::string_view listener, uint32_t delivered, bool overrun) {
  begin("listener_read", &n, -1, 0);
  str("listener", listener);
  num("messages", delivered);
  boolean("enobufs", overrun);
  finish();
}

void TraceWriter::skipped(std::string_view capture, uint64_t frame, std::string_view reason) {
  begin("skipped", nullptr, -1, 0);
  str("capture", capture);
  num("frame", static_cast<int64_t>(frame));
  str("reason", reason);
  finish();
}

void TraceWriter::action(const ActionSpec& a, std::optional<bool> found) {
  using Kind = ActionSpec::Kind;
  begin("action", nullptr, -1, 0);
  str("do", action_name(a.kind));
  switch (a.kind) {
    case Kind::kSysctl:
      str("netns", a.netns);
      str("key", a.key);
      num("value", static_cast<int64_t>(a.value));
      break;
    case Kind::kFlush:
    case Kind::kSnapshot:
      if (!a.netns.empty()) str("netns", a.netns);
      break;
    case Kind::kDelete:
      str("netns", a.netns);
      str("tuple", a.tuple_text);
      boolean("found", found.value_or(false));
      break;
    case Kind::kNetnsAdd:
      str("name", a.name);
      num("hash_mix", a.hash_mix);
      break;
    case Kind::kNetnsDel: str("name", a.name); break;
    case Kind::kListenerStall:
    case Kind::kListenerResume: str("listener", a.name); break;
    case Kind::kStats: break;
    case Kind::kAddrAdd:
    case Kind::kAddrDel:
      str("netns", a.netns);
      str("address", format_address(a.address.l3num, a.address.addr));
      break;
  }
  finish();
}

void TraceWriter::snapshot(const ctcore::net* only, const std::vector<const nf_conn*>& conns, const char* list) {
  begin("snapshot", only, -1, 0);
  if (list != nullptr) str("list", list);
  num("count", static_cast<int64_t>(conns.size()));
  buf_.literal(",\"entries\":[");
  bool first = true;
  for (const nf_conn* ct : conns) {
    if (!first) buf_.push_back(',');
    first = false;
    buf_.literal("{\"conn\":");
    buf_.append_uint(ct->id);
    str("net", core_.nf_ct_net(ct).name);
    tuple_str("orig", ct->tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple);
    tuple_str("reply", ct->tuplehash[ctcore::IP_CT_DIR_REPLY].tuple);
    conn_state(*ct);
    num("timeout", timeout_secs(*ct));
    status_list(ct->status);
    num("use", ct->use);
    buf_.push_back('}');
  }
  buf_.push_back(']');
  finish();
}

void TraceWriter::nat(const ctcore::net& n, uint16_t cpu, const nf_conn& ct, std::string_view manip,
                      std::string_view rule, std::string_view range, const ctcore::nf_nat_decision& why) {
  begin("nat", &n, cpu, ct.id);
  str("manip", manip);
  str("binding", rule.empty() ? "null" : "mapped");
  if (!rule.empty()) str("rule", rule);
  str("range", range);
  str("how", why.how);
  num("taken", why.taken);
  if (why.attempts != 0) {
    num("attempts", why.attempts);
    num("rounds", why.rounds);
  }
  tuple_str("reply", ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple);
  status_list(ct.status);
  finish();
}

void TraceWriter::nat_icmp(const ctcore::net& n, uint16_t cpu, const nf_conn& ct, std::string_view manip,
                           const ctcore::Packet& before, const ctcore::Packet& after) {
  begin("nat_icmp", &n, cpu, ct.id);
  str("manip", manip);
  buf_.literal(",\"before\":\"");
  append_packet_notation(buf_, before, &heads_);
  buf_.literal("\",\"after\":\"");
  append_packet_notation(buf_, after, &heads_);
  buf_.push_back('"');
  finish();
}

void TraceWriter::chains(const std::vector<uint64_t>& histogram) {
  begin("chains", nullptr, -1, 0);
  num("buckets", static_cast<int64_t>(core_.nf_conntrack_htable_size()));
  buf_.literal(",\"histogram\":[");
  for (size_t i = 0; i < histogram.size(); ++i) {
    if (i) buf_.push_back(',');
    buf_.append_uint(histogram[i]);
  }
  buf_.push_back(']');
  finish();
}

void TraceWriter::stats(const ctcore::net& n, uint16_t cpu, const ctcore::ip_conntrack_stat& st) {
  begin("stats", &n, cpu, 0);
  for (const ctcore::IpConntrackStatField& f : ctcore::kIpConntrackStatFields)
    if (ctcore::ip_conntrack_stat_shown(f, core_.profile().stat_chaintoolong)) num(f.name, st.*f.member);
  num("count", n.count);
  finish();
}

void TraceWriter::end(uint64_t packets, uint64_t conns_created, uint64_t conns_freed, uint64_t events,
                      const ctcore::ip_conntrack_stat& s) {
  begin("end", nullptr, -1, 0);
  num("packets", static_cast<int64_t>(packets));
  num("conns_created", static_cast<int64_t>(conns_created));
  num("conns_freed", static_cast<int64_t>(conns_freed));
  num("events", static_cast<int64_t>(events));
  buf_.literal(",\"stats\":{");
  bool first = true;
  for (const ctcore::IpConntrackStatField& f : ctcore::kIpConntrackStatFields) {
    if (!ctcore::ip_conntrack_stat_shown(f, core_.profile().stat_chaintoolong)) continue;
    if (!first) buf_.push_back(',');
    buf_.push_back('"');
    buf_.append(f.name);
    buf_.literal("\":");
    buf_.append_uint(s.*f.member);
    first = false;
  }
  buf_.push_back('}');
  finish();
}

void TraceWriter::on_lookup(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conntrack_tuple& tuple, uint32_t hash,
                            uint32_t bucket, uint32_t chain, const ctcore::nf_conntrack_tuple_hash* match) {
  const nf_conn* ct = match ? ctcore::nf_ct_tuplehash_to_ctrack(match) : nullptr;
  char* p = head("lookup", &n, cpu, ct ? ct->id : 0, sizeof "tuple" + 4);
  p = put_key(p, "tuple");
  *p = '"';
  buf_.set_end(p + 1);
  append_tuple_notation(buf_, tuple, &heads_);
  // '"', three keys of at most 6 letters and their numbers, the match.
  p = buf_.tail(1 + 3 * (sizeof "bucket" + 3 + TextBuffer::kUintRoom) + sizeof ",\"match\":\"reply\"}\n");
  *p = '"';
  p = TextBuffer::put_uint(put_key(p + 1, "hash"), hash);
  p = TextBuffer::put_uint(put_key(p, "bucket"), bucket);
  p = TextBuffer::put_uint(put_key(p, "chain"), chain);
  if (match == nullptr) {
    std::memcpy(p, ",\"match\":null}\n", 15);
    p += 15;
  } else if (match->tuple.dst.dir == ctcore::IP_CT_DIR_ORIGINAL) {
    std::memcpy(p, ",\"match\":\"orig\"}\n", 17);
    p += 17;
  } else {
    std::memcpy(p, ",\"match\":\"reply\"}\n", 18);
    p += 18;
  }
  buf_.set_end(p);
  out_.commit();
}

void TraceWriter::on_new(const nf_conn& ct) {
  begin("new", &core_.nf_ct_net(&ct), ct.cpu, ct.id);
  tuple_str("orig", ct.tuplehash[ctcore::IP_CT_DIR_ORIGINAL].tuple);
  tuple_str("reply", ct.tuplehash[ctcore::IP_CT_DIR_REPLY].tuple);
  conn_state(ct);
  num("use", ct.use);
  // nf_conntrack_events=2 (5.19+, row L3) and no listener at creation: the
  // conn has no event cache and will never report. Only then written.
  if (!ct.ecache.present && core_.nf_ct_net(&ct).sysctl.events == 2) boolean("events", false);
  finish();
}

void TraceWriter::on_confirm(const nf_conn& ct, uint32_t bucket_orig, uint32_t bucket_reply) {
  begin("confirm", &core_.nf_ct_net(&ct), ct.cpu, ct.id);
  num("bucket_orig", bucket_orig);
  num("bucket_reply", bucket_reply);
  num("timeout", timeout_secs(ct));
  num("use", ct.use);
  finish();
}

void TraceWriter::on_update(const nf_conn& ct) {
  const StatusText* status = status_ready(ct.status);
  if (status == nullptr) {  // too long a list to keep
    begin("update", &core_.nf_ct_net(&ct), -1, ct.id);
    conn_state(ct);
    status_list(ct.status);
    num("timeout", timeout_secs(ct));
    finish();
    return;
  }
  const std::string_view state = state_word(ct);
  char* p = head("update", &core_.nf_ct_net(&ct), -1, ct.id,
                 sizeof "state" + 5 + state.size() + sizeof status->text + sizeof "timeout" + 3 +
                     TextBuffer::kUintRoom + 2);
  if (state.data() != nullptr) {
    p = put_word(p, "state", state);
  } else {
    std::memcpy(p, ",\"state\":null", 13);
    p += 13;
  }
  std::memcpy(p, status->text, sizeof status->text);
  p = TextBuffer::put_uint(put_key(p + status->size, "timeout"), timeout_secs(ct));
  std::memcpy(p, "}\n", 2);
  buf_.set_end(p + 2);
  out_.commit();
}

void TraceWriter::on_invalid(const ctcore::net& n, uint16_t cpu, const ctcore::Packet& skb, const char* reason) {
  (void)skb;
  begin("invalid", &n, cpu, 0);
  str("reason", reason);
  finish();
}

void TraceWriter::on_drop(const ctcore::net& n, uint16_t cpu, const nf_conn* ct, const char* reason) {
  begin("drop", &n, cpu, ct ? ct->id : 0);
  str("reason", reason);
  finish();
}

void TraceWriter::on_clash(const nf_conn& loser, const nf_conn& winner, const char* outcome) {
  begin("clash", &core_.nf_ct_net(&loser), -1, loser.id);
  num("winner", winner.id);
  str("outcome", outcome);
  finish();
}

void TraceWriter::on_dying(const nf_conn& ct, ctcore::DeathReason reason) {
  begin("dying", &core_.nf_ct_net(&ct), -1, ct.id);
  word("reason", ctcore::death_reason_name(reason));
  finish();
}

void TraceWriter::on_destroy(const nf_conn& ct) {
  begin("destroy", &core_.nf_ct_net(&ct), -1, ct.id);
  finish();
}

void TraceWriter::on_free(const nf_conn& ct) {
  begin("free", &core_.nf_ct_net(&ct), -1, ct.id);
  finish();
}

void TraceWriter::on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped,
                        uint32_t next_run) {
  if (!all_gc_ && expired == 0 && early_dropped == 0) return;
  begin("gc", nullptr, -1, 0);
  num("scanned", scanned);
  num("expired", expired);
  num("buckets", buckets);
  num("early_dropped", early_dropped);
  num("next_run", next_run);
  // 5.14+ (rows G1-G3): where the whole-table cycle stands after this run.
  if (core_.profile().gc != ctcore::ct_gc_mode::kSlices) {
    str("ended", ctcore::gc_run_end_name(core_.gc_run_end()));
    num("next_bucket", core_.gc_next_bucket());
    if (core_.profile().gc != ctcore::ct_gc_mode::kWholeTable)
      num("avg_timeout", static_cast<int64_t>(core_.gc_avg_timeout()));
    num("run_jiffies", core_.gc_run_jiffies());
    num("fires_in", static_cast<int64_t>(core_.gc_fires_in()));
  }
  finish();
}

void TraceWriter::on_ecache_work(const ctcore::net& n, uint32_t sent, bool congested, int next_delay) {
  begin("ecache_work", &n, -1, 0);
  num("sent", sent);
  boolean("congested", congested);
  num("next_run", next_delay);
  finish();
}

}  // namespace ctsim
