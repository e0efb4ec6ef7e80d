// The JSONL trace (schema 1; the full schema is docs/TRACE_SCHEMA.md).
//
// Every record starts with "t", "jiffies", "kind"; then, where they apply,
// "net", "cpu", "conn"; then the kind's own fields, always in the same
// order. Integers only. The writer formats straight into its output file's
// buffer (no JSON library, no per-record copy or allocation on this path);
// it exists only when a trace was asked for, so with tracing off no
// formatting happens at all.
//
// Threading: single-threaded.
#ifndef CTSIM_SIM_OUTPUT_TRACE_WRITER_H_
#define CTSIM_SIM_OUTPUT_TRACE_WRITER_H_

#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/nf_conntrack_core.h"
#include "core/nf_nat_core.h"
#include "core/observer.h"
#include "sim/engine/engine.h"
#include "sim/engine/text_buffer.h"
#include "sim/output/output_file.h"
#include "sim/scenario/packet_notation.h"
#include "sim/scenario/scenario.h"

// word()'s promise, checked where assertions are on (Debug, the sanitizer builds).
#ifdef NDEBUG
#define CTSIM_TRACE_ASSERT_WORD(w) ((void)0)
#else
#define CTSIM_TRACE_ASSERT_WORD(w) assert(!::ctsim::needs_json_escape(w))
#endif

namespace ctsim {

constexpr int kTraceSchema = 1;
// Appends `s` as a JSON string literal (quotes and escapes included).
void append_json_string_escaped(TextBuffer& buf, std::string_view s);
// True iff `s` holds a '"', a '\\' or a control character (below 0x20):
// eight bytes at a time. Exact as a yes/no: a subtraction's borrow can
// flag a byte only above a byte that is one of those.
inline bool needs_json_escape(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto flagged = [](uint64_t x) {
    const uint64_t q = x ^ (kOnes * '"'), b = x ^ (kOnes * '\\');
    return (((x - kOnes * 0x20) | (q - kOnes) | (b - kOnes)) & ~x & ~q & ~b & kHigh) != 0;
  };
  const char* p = s.data();
  const size_t n = s.size();
  if (n >= 8) {
    uint64_t w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      if (flagged(w)) return true;
    }
    std::memcpy(&w, p + n - 8, 8);  // the tail, overlapping
    return flagged(w);
  }
  if (n >= 4) {  // the two overlapping halves as one word
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return flagged(a | (uint64_t{b} << 32));
  }
  for (size_t i = 0; i < n; ++i)
    if (p[i] == '"' || p[i] == '\\' || static_cast<unsigned char>(p[i]) < 0x20) return true;
  return false;
}

[[gnu::always_inline]] inline void append_json_string(TextBuffer& buf, std::string_view s) {
  // Most strings (names, hooks, reasons) need no escaping: copied whole.
  if (needs_json_escape(s)) return append_json_string_escaped(buf, s);
  char* p = buf.tail(s.size() + 2);
  *p = '"';
  TextBuffer::copy(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
  buf.set_end(p + s.size() + 2);
}

class TraceWriter : public ctcore::Observer {
 public:
  TraceWriter(OutputFile& out, const Engine& engine, const ctcore::Conntrack& core)
      : out_(out), buf_(out.buffer()), engine_(engine), core_(core) {}

  // The header line (call once, first). `kernel` is the profile's name and `kernel_overrides`
  // the scenario's switch overrides (name, value), written only when present. `hash_rnd` is
  // ctsim::hash_rnd_text(): a number, or (`hash_rnd_is_key`) 32 hex digits written as a string.
  void header(std::string_view scenario, uint32_t hz, uint64_t seed, uint64_t initial_jiffies, std::string_view kernel,
              const std::vector<std::pair<std::string, std::string>>& kernel_overrides, uint32_t buckets, uint32_t max,
              std::string_view hash_rnd, bool hash_rnd_is_key, uint16_t cpus);

  // Records that are not core callbacks.
  void pkt(const ctcore::net& n, uint16_t cpu, uint64_t id, std::string_view hook, const ctcore::Packet& skb,
           std::string_view path);
  // A verdict with a rule's text as its reason (escaped as needed).
  void verdict(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, uint64_t id, std::string_view hook,
               std::string_view verdict, std::string_view reason);
  // A verdict by a core function `by` (null: none). `verdict` and `by` are
  // string literals and `hook` a view of one (ctsim's own words: static
  // storage, nothing to escape), so the record's tail after "id" is kept
  // by their addresses: the same addresses are the same text.
  void verdict_by(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn* ct, uint64_t id, std::string_view hook,
                  const char* verdict, const char* by) {
    const VerdictTail* tail = nullptr;
    for (const VerdictTail& e : verdict_tails_)
      if (e.hook == hook.data() && e.verdict == verdict && e.by == by) tail = &e;
    if (tail == nullptr && (tail = verdict_tail_slow(hook, verdict, by)) == nullptr)
      return TraceWriter::verdict(n, cpu, ct, id, hook, verdict, by != nullptr ? by : "");
    memo_ready(id_text_, "id", id);
    char* p = head("verdict", &n, cpu, ct ? ct->id : 0, sizeof id_text_.text + sizeof tail->text);
    std::memcpy(p, id_text_.text, sizeof id_text_.text);
    p += id_text_.size;
    std::memcpy(p, tail->text, sizeof tail->text);
    buf_.set_end(p + tail->size);
    out_.commit();
  }
  void event(const ctcore::net& n, const ctcore::nf_conn& ct, std::string_view listener, std::string_view type,
             unsigned events, bool delivered);
  void listener_read(const ctcore::net& n, std::string_view listener, uint32_t delivered, bool overrun);
  // The action's record: what it is and its arguments (`found`: what a
  // delete found).
  void action(const ActionSpec& a, std::optional<bool> found);
  // A frame of a capture that was not replayed (`frame`: its 1-based
  // number in the file, as Wireshark counts; `reason`: a FrameSkip name).
  void skipped(std::string_view capture, uint64_t frame, std::string_view reason);
  // `list`: null for the table, else "unconfirmed" or "dying".
  void snapshot(const ctcore::net* only, const std::vector<const ctcore::nf_conn*>& conns, const char* list = nullptr);
  // The chain-length histogram of the whole table: histogram[k] = buckets
  // whose chain holds k nodes (both directions of every conn count).
  void chains(const std::vector<uint64_t>& histogram);
  // A conn's NAT binding was decided: `manip` "dst" or "src"; `mapped`
  // false for a null binding (no rule matched).
  // A NAT binding: `rule` is the verdict word of the rule that chose it
  // ("" for the null binding), `range` the range as the rule writes it.
  void nat(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, std::string_view manip, std::string_view rule,
           std::string_view range, const ctcore::nf_nat_decision& why);
  // An ICMP error about a NATed conn, before and after its translation.
  void nat_icmp(const ctcore::net& n, uint16_t cpu, const ctcore::nf_conn& ct, std::string_view manip,
                const ctcore::Packet& before, const ctcore::Packet& after);
  void stats(const ctcore::net& n, uint16_t cpu, const ctcore::ip_conntrack_stat& st);
  void end(uint64_t packets, uint64_t conns_created, uint64_t conns_freed, uint64_t events,
           const ctcore::ip_conntrack_stat& total);

  // Whether every gc_worker run gets a record, or only runs that reaped or
  // early-dropped something (the default: an idle table would otherwise
  // write eight records a second).
  void set_all_gc(bool all) { all_gc_ = all; }

  // ctcore::Observer
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

 private:
  // A record's head: `{"t":T,"jiffies":J,"kind":"KIND"`, then "net",
  // "cpu", "conn" where given. Kinds are literals.
  template <size_t N>
  [[gnu::always_inline]] void begin(const char (&kind)[N], const ctcore::net* n, int cpu, uint32_t conn) {
    buf_.set_end(head(kind, n, cpu, conn, 0));
  }
  // The same, through a local cursor: every memo the head copies is made
  // current first (formatted only when its value changed), then the
  // pieces are copied with one capacity test, none of them reloading the
  // buffer's end. Returns the cursor just past the head, with room for
  // `more` bytes; the caller writes them and calls buf_.set_end().
  template <size_t N>
  [[gnu::always_inline]] char* head(const char (&kind)[N], const ctcore::net* n, int cpu, uint32_t conn,
                                     size_t more) {
    static_assert(N <= kKindRoom, "kinds are short words");
    // Engine's own jiffies(), not through the core's Clock: no virtual call.
    const int64_t now = engine_.now();
    const uint32_t jiffies = static_cast<uint32_t>(engine_.Engine::jiffies());
    if (now != prefix_now_ || jiffies != prefix_jiffies_ || prefix_size_ == 0) time_head_slow(now, jiffies);
    if (n != nullptr && (net_text_size_ == 0 || !same_name(n->name))) {
      net_slow(*n);
      if (net_text_size_ == 0) return head_unkept({kind, N - 1}, *n, cpu, conn, more);
    }
    if (conn != 0) memo_ready(conn_text_, "conn", conn);
    char* p = buf_.tail(kHeadRoom + more);
    std::memcpy(p, prefix_, kPrefixRoom);
    p += prefix_size_;
    std::memcpy(p, kind, N - 1);
    p[N - 1] = '"';
    p += N;
    if (n != nullptr) {
      std::memcpy(p, net_text_, kNetRoom);
      p += net_text_size_;
    }
    if (cpu >= 0) {
      std::memcpy(p, ",\"cpu\":", 7);
      p = TextBuffer::put_uint(p + 7, static_cast<uint32_t>(cpu));
    }
    if (conn != 0) {
      std::memcpy(p, conn_text_.text, sizeof conn_text_.text);
      p += conn_text_.size;
    }
    return p;
  }
  // head() when the namespace's name is too long to keep: appended.
  char* head_unkept(std::string_view kind, const ctcore::net& n, int cpu, uint32_t conn, size_t more);
  // Makes prefix_ the head of (now, jiffies): `{"t":T,"jiffies":J,"kind":"`.
  void time_head_slow(int64_t now, uint32_t jiffies);
  // Makes net_text_ `,"net":"NAME"` for n's name (net_text_size_ 0 if it
  // does not fit). Formatted at the buffer's end and taken back.
  void net_slow(const ctcore::net& n);
  // True iff `name` is net_name_: short names (the usual) by two
  // overlapping 8-byte words, inline.
  [[gnu::always_inline]] bool same_name(const std::string& name) const {
    const size_t n = name.size();
    if (n != net_name_.size()) return false;
    if (n >= 4 && n < 8) {
      uint32_t a0, a1, b0, b1;
      std::memcpy(&a0, name.data(), 4);
      std::memcpy(&a1, name.data() + n - 4, 4);
      std::memcpy(&b0, net_name_.data(), 4);
      std::memcpy(&b1, net_name_.data() + n - 4, 4);
      return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n < 8 || n > 16) return std::memcmp(name.data(), net_name_.data(), n) == 0;
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, name.data(), 8);
    std::memcpy(&a1, name.data() + n - 8, 8);
    std::memcpy(&b0, net_name_.data(), 8);
    std::memcpy(&b1, net_name_.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  [[gnu::always_inline]] void finish() {
    buf_.literal("}\n");
    out_.commit();
  }
  // `,"KEY":` then the value. Keys are literals (nothing to escape; their
  // length known at compile time): the whole key is one fixed-size move,
  // except num()'s string_view overload for names from a table.
  template <size_t N>
  [[gnu::always_inline]] void key(const char (&k)[N]) {
    char* p = buf_.tail(N + 3);
    std::memcpy(p, ",\"", 2);
    std::memcpy(p + 2, k, N - 1);
    std::memcpy(p + N + 1, "\":", 2);
    buf_.set_end(p + N + 3);
  }
  // The cursor forms of key() and word(), for records written through
  // head()'s cursor: `,"KEY":` is N + 3 bytes, `,"KEY":"WORD"` N + 5 + the
  // word's.
  template <size_t N>
  [[gnu::always_inline]] static char* put_key(char* p, const char (&k)[N]) {
    std::memcpy(p, ",\"", 2);
    std::memcpy(p + 2, k, N - 1);
    std::memcpy(p + N + 1, "\":", 2);
    return p + N + 3;
  }
  template <size_t N>
  [[gnu::always_inline]] static char* put_word(char* p, const char (&k)[N], std::string_view w) {
    CTSIM_TRACE_ASSERT_WORD(w);
    std::memcpy(p, ",\"", 2);
    std::memcpy(p + 2, k, N - 1);
    std::memcpy(p + N + 1, "\":\"", 3);
    TextBuffer::copy(p + N + 4, w.data(), w.size());
    p[N + 4 + w.size()] = '"';
    return p + N + 5 + w.size();
  }
  // A string value that may need escaping (names from the scenario, rule text).
  template <size_t N>
  [[gnu::always_inline]] void str(const char (&k)[N], std::string_view value) {
    key(k);
    append_json_string(buf_, value);
  }
  // A string value from ctsim's own vocabulary (hook, path and verdict
  // words, state names: letters, digits and '_' only): nothing to escape,
  // so no scan. `,"KEY":"WORD"` in one reserved span.
  template <size_t N>
  [[gnu::always_inline]] void word(const char (&k)[N], std::string_view w) {
    CTSIM_TRACE_ASSERT_WORD(w);
    char* p = buf_.tail(N + 5 + w.size());
    std::memcpy(p, ",\"", 2);
    std::memcpy(p + 2, k, N - 1);
    std::memcpy(p + N + 1, "\":\"", 3);
    TextBuffer::copy(p + N + 4, w.data(), w.size());
    p[N + 4 + w.size()] = '"';
    buf_.set_end(p + N + 5 + w.size());
  }
  template <size_t N>
  [[gnu::always_inline]] void num(const char (&k)[N], int64_t value) {
    key(k);
    buf_.append_int(value);
  }
  void num(std::string_view key, int64_t value);
  // `,"KEY":N` for a value that repeats in the records that follow one
  // another (a conn's id, a packet's): formatted when it differs from the
  // last one, else copied.
  struct NumText {
    uint64_t value = 0;
    uint8_t size = 0;  // 0: nothing kept yet
    char text[39] = {};
  };
  // Makes m the text of `,"KEY":value`.
  template <size_t N>
  [[gnu::always_inline]] void memo_ready(NumText& m, const char (&k)[N], uint64_t value) {
    static_assert(N + 3 + TextBuffer::kUintRoom <= sizeof m.text, "the key and a number's room fit");
    if (m.value == value && m.size != 0) return;
    char* p = m.text;
    std::memcpy(p, ",\"", 2);
    std::memcpy(p + 2, k, N - 1);
    std::memcpy(p + N + 1, "\":", 2);
    p = TextBuffer::put_uint(p + N + 3, value);
    m.value = value;
    m.size = static_cast<uint8_t>(p - m.text);
  }
  template <size_t N>
  [[gnu::always_inline]] void memo_num(NumText& m, const char (&k)[N], uint64_t value) {
    memo_ready(m, k, value);
    buf_.append_memo(m.text, m.size);
  }
  template <size_t N>
  [[gnu::always_inline]] void boolean(const char (&k)[N], bool value) {
    key(k);
    if (value)
      buf_.literal("true");
    else
      buf_.literal("false");
  }
  template <size_t N>
  [[gnu::always_inline]] void null(const char (&k)[N]) {
    key(k);
    buf_.literal("null");
  }
  template <size_t N>
  void tuple_str(const char (&k)[N], const ctcore::nf_conntrack_tuple& t);
  // `,"status":[...]`: the text of recent status values is kept (a
  // direct-mapped memo checked against the whole value), so a conn's
  // records copy it.
  void status_list(uint16_t status);
  void format_status_list(uint16_t status);
  void conn_state(const ctcore::nf_conn& ct);
  // The conn's state word; a null view if its protocol has none (then
  // the value is null).
  std::string_view state_word(const ctcore::nf_conn& ct) const;
  uint32_t timeout_secs(const ctcore::nf_conn& ct) const;

  OutputFile& out_;
  TextBuffer& buf_;  // out_'s: records are formatted in place
  // The records' common head at (prefix_now_, prefix_jiffies_): at most
  // 5 + 20 + 11 + 10 + 9 = 55 bytes, kept in a 64-byte array so that it is
  // copied as one fixed-size move.
  static constexpr size_t kPrefixRoom = 64;
  char prefix_[kPrefixRoom] = {};
  size_t prefix_size_ = 0;
  int64_t prefix_now_ = 0;
  uint32_t prefix_jiffies_ = 0;
  // `,"jiffies":J,"kind":"` for jiffies_text_of_ (jiffies change far less
  // often than the time): at most 11 + 10 + 9 = 30 bytes (48: a number's
  // room while it is formatted in place).
  char jiffies_text_[48] = {};
  size_t jiffies_text_size_ = 0;
  uint32_t jiffies_text_of_ = 0;
  NumText conn_text_, id_text_;
  // `,"net":"NAME"` for net_name_ (the last namespace a record named),
  // net_text_size_ bytes (0: none yet, or too long to keep: then every
  // record formats it).
  static constexpr size_t kNetRoom = 64;
  // head()'s room: the prefix, the kind and its quote, the namespace,
  // `,"cpu":N` (a number's room) and the conn.
  static constexpr size_t kKindRoom = 16;
  static constexpr size_t kHeadRoom = kPrefixRoom + kKindRoom + kNetRoom + 7 + TextBuffer::kUintRoom + sizeof(NumText::text);
  std::string net_name_;
  char net_text_[kNetRoom] = {};
  size_t net_text_size_ = 0;
  // status_list()'s memo: kStatusEntries texts of `,"status":[...]`.
  struct StatusText {
    uint32_t status = ~0u;  // the value, or ~0u: empty
    uint8_t size = 0;
    char text[123] = {};
  };
  static constexpr size_t kStatusEntries = 32;
  StatusText status_text_[kStatusEntries];
  // status_list()'s memo made to hold `status` (formatted at the buffer's
  // end and taken back); null if its text is too long to keep.
  const StatusText* status_ready(uint16_t status);
  // verdict_by()'s memo: `,"hook":"H","verdict":"V","reason":"R"}\n` for
  // the last kVerdictTails (hook, verdict, by) addresses (a path's two or
  // three verdict steps). hook null: empty.
  struct VerdictTail {
    const char* hook = nullptr;
    const char* verdict = nullptr;
    const char* by = nullptr;
    uint8_t size = 0;
    char text[127] = {};
  };
  static constexpr size_t kVerdictTails = 4;
  VerdictTail verdict_tails_[kVerdictTails];
  size_t verdict_tail_next_ = 0;  // the slot the next new tail takes
  // verdict_by()'s tail when it is not kept: formatted (at the buffer's
  // end, taken back) and kept, replacing the oldest; null if too long to
  // keep.
  const VerdictTail* verdict_tail_slow(std::string_view hook, const char* verdict, const char* by);
  // The packet notation's heads, kept across records (tuples, packets).
  NotationHeadCache heads_;
  const Engine& engine_;
  const ctcore::Conntrack& core_;
  bool all_gc_ = false;
};

std::string json_string(std::string_view s);

}  // namespace ctsim

#endif  // CTSIM_SIM_OUTPUT_TRACE_WRITER_H_
