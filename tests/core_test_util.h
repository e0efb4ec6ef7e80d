// Helpers shared by the core, GC and ecache tests: an observer that records
// deaths and frees, a search for tuples that share a bucket, and table walks
// that do not disturb the table (no lazy reaping).
#ifndef CTSIM_TESTS_CORE_TEST_UTIL_H_
#define CTSIM_TESTS_CORE_TEST_UTIL_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/nf_conntrack_ecache.h"
#include "core/observer.h"
#include "tests/core_harness.h"

namespace ctest {

// Records the ids of conns as they die and are freed, and every GC run.
class Recorder : public Observer {
 public:
  struct GcRun {
    uint32_t scanned, expired, buckets, early_dropped, next_run;
  };
  void on_dying(const nf_conn& ct, DeathReason why) override {
    dying.push_back(ct.id);
    reasons.push_back(why);
  }
  void on_free(const nf_conn& ct) override {
    freed.push_back(ct.id);
    if (watch != nullptr) count_at_free.push_back(watch->count);
  }
  // The narrative's facts, in order, as "<fn> <what> <conn id>".
  void on_status_set(const nf_conn& ct, unsigned bit, const char* fn) override {
    facts.push_back(std::string(fn) + " status bit " + std::to_string(bit) + " conn " + std::to_string(ct.id));
  }
  void on_branch(const nf_conn* ct, CtBranch b, const char* fn) override {
    facts.push_back(std::string(fn) + " branch " + std::to_string(static_cast<int>(b)) + " conn " +
                    std::to_string(ct != nullptr ? ct->id : 0));
  }
  void on_gc(uint32_t scanned, uint32_t expired, uint32_t buckets, uint32_t early_dropped, uint32_t next_run) override {
    gc.push_back({scanned, expired, buckets, early_dropped, next_run});
  }
  void on_lookup(const net&, uint16_t, const nf_conntrack_tuple&, uint32_t, uint32_t bucket, uint32_t chain,
                 const nf_conntrack_tuple_hash* match) override {
    last_bucket = bucket;
    last_chain = chain;
    last_match = match != nullptr;
  }
  bool was_freed(uint32_t id) const {
    for (uint32_t f : freed)
      if (f == id) return true;
    return false;
  }
  std::vector<uint32_t> dying, freed;
  const net* watch = nullptr;           // whose count on_free records
  std::vector<uint32_t> count_at_free;  // that count, as on_free saw it
  std::vector<std::string> facts;
  std::vector<DeathReason> reasons;
  std::vector<GcRun> gc;
  uint32_t last_bucket = 0, last_chain = 0;
  bool last_match = false;
};

// A ctnetlink stand-in that records every event mask offered.
struct EventLog : EventNotifier {
  std::vector<unsigned> masks;
  int ctnetlink_conntrack_event(unsigned events, const nf_conn&, const net&, uint32_t, int) override {
    masks.push_back(events);
    return 0;
  }
  bool saw(ip_conntrack_events e) const {
    for (unsigned m : masks)
      if (m & (1u << e)) return true;
    return false;
  }
  // True iff the last delivery carried `e`.
  bool last_has(ip_conntrack_events e) const { return !masks.empty() && (masks.back() & (1u << e)) != 0; }
};

// The confirmed conn of the packet's tuple in init, without keeping a
// reference (null if none).
inline nf_conn* find(World& w, const Packet& p) {
  nf_conntrack_tuple t;
  if (!nf_ct_get_tuple(p, &t, w.ct.profile())) return nullptr;
  nf_conntrack_tuple_hash* h = w.ct.nf_conntrack_find_get(w.init, 0, t);
  if (h == nullptr) return nullptr;
  nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
  w.ct.nf_ct_put(ct);
  return ct;
}

// Whole seconds left before ct's deadline.
inline uint32_t secs_left(World& w, const nf_conn* ct) { return nf_ct_expires(ct, w.ct.now32()) / w.ct.hz(); }

// An SCTP packet between endpoints a (port 5000) and b (port 5001), from
// a or from b: `first` is the leading chunk type, `others` further ones;
// `init_tag` is an INIT's or INIT_ACK's initiate tag.
inline Packet sctp_packet(nf_inet_addr a, nf_inet_addr b, bool from_a, uint32_t vtag, uint8_t first,
                          std::initializer_list<uint8_t> others = {}, uint32_t init_tag = 0) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.protonum = IPPROTO_SCTP_;
  p.saddr = from_a ? a : b;
  p.daddr = from_a ? b : a;
  p.sport = from_a ? 5000 : 5001;
  p.dport = from_a ? 5001 : 5000;
  p.sctp_vtag = vtag;
  p.sctp_first_chunk = first;
  p.sctp_chunks = 1u << first;
  for (uint8_t t : others) p.sctp_chunks |= 1u << t;
  p.sctp_init_tag = init_tag;
  return p;
}

// A DCCP packet of `type` between client c (port cport) and server s (port
// sport), from the client or from the server.
inline Packet dccp_packet(nf_inet_addr c, nf_inet_addr s, bool from_client, uint8_t type, uint16_t cport,
                          uint16_t sport, uint64_t seq = 0, uint64_t ack = 0) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.protonum = IPPROTO_DCCP_;
  p.saddr = from_client ? c : s;
  p.daddr = from_client ? s : c;
  p.sport = from_client ? cport : sport;
  p.dport = from_client ? sport : cport;
  p.dccp_type = type;
  p.dccp_seq = seq;
  p.dccp_ack = ack;
  return p;
}

inline Packet generic_packet(nf_inet_addr s, nf_inet_addr d, uint8_t proto = 99) {
  Packet p;
  p.l3num = NFPROTO_IPV4;
  p.saddr = s;
  p.daddr = d;
  p.protonum = proto;
  return p;
}

inline nf_conntrack_tuple tuple_of(const Packet& p) {
  nf_conntrack_tuple t;
  CT_ASSERT(nf_ct_get_tuple(p, &t, kernel_profile{}), "test packet has no tuple");
  return t;
}

inline uint32_t bucket_of(Conntrack& ct, const net& n, const Packet& p) {
  return ct.scale_hash(ct.hash_conntrack_raw(tuple_of(p), n));
}

inline uint32_t reply_bucket_of(Conntrack& ct, const net& n, const Packet& p) {
  nf_conntrack_tuple r;
  CT_ASSERT(nf_ct_invert_tuple(&r, tuple_of(p)), "no inverse");
  return ct.scale_hash(ct.hash_conntrack_raw(r, n));
}

// `k` UDP packets 10.1.0.1:sport -> 10.2.0.1:53 whose ORIGINAL tuples share
// one bucket, none of whose REPLY tuples lands in that bucket. *bucket gets
// the shared bucket. Found by searching with the real hash.
inline std::vector<Packet> colliding_udp(Conntrack& ct, const net& n, size_t k, uint32_t* bucket) {
  std::vector<std::vector<Packet>> by_bucket(ct.nf_conntrack_htable_size());
  for (uint32_t sport = 1024; sport < 65535; ++sport) {
    Packet p = udp_packet(ipv4(10, 1, 0, 1), static_cast<uint16_t>(sport), ipv4(10, 2, 0, 1), 53);
    const uint32_t b = bucket_of(ct, n, p);
    if (reply_bucket_of(ct, n, p) == b) continue;
    by_bucket[b].push_back(p);
    if (by_bucket[b].size() == k) {
      *bucket = b;
      return by_bucket[b];
    }
  }
  CT_ASSERT(false, "no colliding tuples found");
  return {};
}

// The conns whose nodes are on chain `b`, in walk order, with the direction
// of each node (conn id * 2 + dir).
inline std::vector<uint32_t> chain_walk(const Conntrack& ct, uint32_t b) {
  std::vector<uint32_t> out;
  for (const hlist_nulls_node* n : hlist_nulls_walk(ct.bucket(b).first)) {
    const auto* h = reinterpret_cast<const nf_conntrack_tuple_hash*>(n);
    out.push_back(nf_ct_tuplehash_to_ctrack(h)->id * 2 + h->tuple.dst.dir);
  }
  return out;
}

// Every conn of the table (ORIGINAL nodes, or REPLY for reply-only ones),
// expired or not, without reaping anything.
inline std::vector<const nf_conn*> table_conns(const Conntrack& ct) {
  std::vector<const nf_conn*> out;
  for (uint32_t b = 0; b < ct.nf_conntrack_htable_size(); ++b) {
    for (const hlist_nulls_node* n : hlist_nulls_walk(ct.bucket(b).first)) {
      const auto* h = reinterpret_cast<const nf_conntrack_tuple_hash*>(n);
      const nf_conn* c = nf_ct_tuplehash_to_ctrack(h);
      if (h->tuple.dst.dir == IP_CT_DIR_REPLY && !c->test_bit(IPS_NAT_CLASH_BIT)) continue;
      out.push_back(c);
    }
  }
  return out;
}

inline bool in_table(const Conntrack& ct, const nf_conn* c) {
  for (const nf_conn* x : table_conns(ct))
    if (x == c) return true;
  return false;
}

}  // namespace ctest

#endif  // CTSIM_TESTS_CORE_TEST_UTIL_H_
