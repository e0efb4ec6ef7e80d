// check_invariants(): the structural truths of nf_conntrack_core.h, checked
// from scratch (tests call it after every event).
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/nf_conntrack_core.h"

namespace ctcore {

namespace {

// What the walks found of one conn, kept in a side table indexed by the
// conn's slab slot (NfConnSlab::slot_of): a million-conn table is checked in
// a few linear passes (--check-every on a soak), with no tree of pointers,
// and every "first" error is the first in slot order, which depends on the
// run's allocations only, never on addresses.
struct Seen {
  const nf_conn* ct = nullptr;
  // Where the conn was found: 'u' unconfirmed, 't' table, 'd' dying,
  // 'e' the ecache dying list (5.19+), 'p' on no list, held by packets
  // (5.19+); 0 not found (yet).
  char place = 0;
  uint8_t nodes = 0;  // table nodes seen: bit 0 ORIGINAL, bit 1 REPLY
  bool held = false;  // in skb_refs (its first entry counts)
  uint32_t skb = 0;   // references packets hold
};

// The side table lives across calls (tests and --check run the checker
// after every event: a fresh table the size of the slab each time would cost
// more than the walk). Only the entries a call touched are reset, on every
// way out, so each call starts from an empty table.
class SeenTable {
 public:
  SeenTable(std::vector<Seen>& seen, std::vector<size_t>& touched, size_t slots) : seen_(seen), touched_(touched) {
    if (seen_.size() < slots) seen_.resize(slots);
    touched_.clear();
  }
  ~SeenTable() {
    for (size_t i : touched_) seen_[i] = Seen{};
    touched_.clear();
  }
  SeenTable(const SeenTable&) = delete;
  SeenTable& operator=(const SeenTable&) = delete;
  Seen& at(size_t slot, const nf_conn* ct) {
    Seen& e = seen_[slot];
    if (e.ct == nullptr) touched_.push_back(slot);
    e.ct = ct;
    return e;
  }
  // Every touched entry, in slot order: by a sort of the touched slots when
  // they are few, by a scan of the whole table when they are many.
  template <class Fn>
  std::string each(Fn fn) {
    if (touched_.size() * 16 < seen_.size()) {
      std::sort(touched_.begin(), touched_.end());
      for (size_t i : touched_)
        if (auto err = fn(seen_[i]); !err.empty()) return err;
    } else {
      for (const Seen& e : seen_)
        if (e.ct != nullptr)
          if (auto err = fn(e); !err.empty()) return err;
    }
    return {};
  }

 private:
  std::vector<Seen>& seen_;
  std::vector<size_t>& touched_;
};

}  // namespace

std::string Conntrack::check_invariants(const std::vector<std::pair<const nf_conn*, uint32_t>>& skb_refs) const {
  thread_local std::vector<Seen> seen_storage;
  thread_local std::vector<size_t> touched_storage;
  SeenTable seen(seen_storage, touched_storage, slab_.slots());
  uint16_t nets_end = 0;
  for (const auto& np : nets_) nets_end = std::max<uint16_t>(nets_end, static_cast<uint16_t>(np->index + 1));
  std::vector<uint32_t> per_net(nets_end);
  auto at = [&](const nf_conn* ct) -> Seen& { return seen.at(slab_.slot_of(ct), ct); };

  auto claim = [&](const nf_conn* ct, char where) -> std::string {
    Seen& e = at(ct);
    if (e.place != 0) {
      if (e.place == 't' && where == 't') return {};
      return fmt::format("conn {} is on two lists ({} and {})", ct->id, e.place, where);
    }
    e.place = where;
    if (ct->net >= per_net.size())
      return fmt::format("conn {} of namespace index {}, which does not exist", ct->id, ct->net);
    ++per_net[ct->net];
    return {};
  };

  for (const auto& np : nets_) {
    const net& n = *np;
    for (uint16_t cpu = 0; cpu < cpus_; ++cpu) {
      const ct_pcpu& p = n.pcpu[cpu];
      // A per-CPU list's back links: each conn's list_pprev is where the
      // pointer to its ORIGINAL node sits.
      const hlist_nulls_node* const* pprev = &p.unconfirmed.first;
      hlist_nulls_walk unconfirmed(p.unconfirmed.first);
      for (hlist_nulls_node* node : unconfirmed) {
        const nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
        const bool linked_here = ct->list_pprev == pprev;
        pprev = &node->next;
        if (!linked_here) return fmt::format("conn {}: broken back link on an unconfirmed list", ct->id);
        if (nf_ct_is_confirmed(ct)) return fmt::format("conn {} unconfirmed but CONFIRMED", ct->id);
        if (ct->cpu != cpu || ct->net != n.index) return fmt::format("conn {} on the wrong unconfirmed list", ct->id);
        if (auto e = claim(ct, 'u'); !e.empty()) return e;
      }
      if (unconfirmed.nulls() != UNCONFIRMED_NULLS_VAL)
        return fmt::format("net {} cpu {}: unconfirmed list ends in the wrong nulls", n.name, cpu);
      pprev = &p.dying.first;
      hlist_nulls_walk dying(p.dying.first);
      for (hlist_nulls_node* node : dying) {
        const nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
        const bool linked_here = ct->list_pprev == pprev;
        pprev = &node->next;
        if (!linked_here) return fmt::format("conn {}: broken back link on a dying list", ct->id);
        // v5.10 nf_ct_resolve_clash() parks a confirm-clash loser on the
        // dying list without setting DYING; it was never CONFIRMED.
        if (!nf_ct_is_dying(ct) && nf_ct_is_confirmed(ct))
          return fmt::format("conn {} on a dying list but not DYING", ct->id);
        if (ct->cpu != cpu || ct->net != n.index) return fmt::format("conn {} on the wrong dying list", ct->id);
        if (auto e = claim(ct, 'd'); !e.empty()) return e;
      }
      if (dying.nulls() != DYING_NULLS_VAL)
        return fmt::format("net {} cpu {}: dying list ends in the wrong nulls", n.name, cpu);
      if (!profile_.unconfirmed_list && !is_a_nulls(p.unconfirmed.first))
        return fmt::format("net {} cpu {}: an unconfirmed list under a profile without one", n.name, cpu);
      if (profile_.redelivery != ct_redelivery::kPcpuDying && !is_a_nulls(p.dying.first))
        return fmt::format("net {} cpu {}: a per-CPU dying list under a profile without one", n.name, cpu);
    }
    // 5.19+ (row L1): the ecache dying list holds killed conns whose DESTROY
    // failed, and nothing else.
    const hlist_nulls_node* const* pprev = &n.ecache_dying_list.first;
    hlist_nulls_walk ecache(n.ecache_dying_list.first);
    for (hlist_nulls_node* node : ecache) {
      const nf_conn* ct = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
      const bool linked_here = ct->list_pprev == pprev;
      pprev = &node->next;
      if (!linked_here) return fmt::format("conn {}: broken back link on the ecache dying list", ct->id);
      if (profile_.redelivery == ct_redelivery::kPcpuDying)
        return fmt::format("conn {} on the ecache dying list under a profile without one", ct->id);
      if (!nf_ct_is_dying(ct) || !nf_ct_is_confirmed(ct) || ct->ecache.state != NFCT_ECACHE_DESTROY_FAIL)
        return fmt::format("conn {} on the ecache dying list but not a confirmed conn whose DESTROY failed", ct->id);
      if (ct->net != n.index) return fmt::format("conn {} on the wrong ecache dying list", ct->id);
      if (auto e = claim(ct, 'e'); !e.empty()) return e;
    }
    if (ecache.nulls() != DYING_NULLS_VAL)
      return fmt::format("net {}: the ecache dying list ends in the wrong nulls", n.name);
  }

  for (uint32_t b = 0; b < htable_size_; ++b) {
    hlist_nulls_walk walk(hash_[b].head.first);
    uint32_t chain = 0;
    for (hlist_nulls_node* node : walk) {
      ++chain;
      const nf_conntrack_tuple_hash* h = hnnode_to_tuplehash(node);
      const nf_conn* ct = nf_ct_tuplehash_to_ctrack(h);
      const uint32_t kept = h->tuple.dst.dir == IP_CT_DIR_ORIGINAL ? ct->hashed_at.orig : ct->hashed_at.reply;
      if (kept != b)
        return fmt::format("conn {} dir {} in bucket {} but its hashed_at says {}", ct->id, h->tuple.dst.dir, b, kept);
      if (!nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct))
        return fmt::format("conn {} in the table but not CONFIRMED or DYING", ct->id);
      const uint32_t raw = hash_conntrack_raw(h->tuple, nf_ct_net(ct));
      const uint32_t want = scale_hash(raw);
      if (!hash_[b].hint.may_hold(raw))
        return fmt::format("conn {} dir {} in bucket {} but not in its hint's hash bits", ct->id, h->tuple.dst.dir, b);
      if (want != b)
        return fmt::format("conn {} dir {} in bucket {} but hashes to {}", ct->id, h->tuple.dst.dir, b, want);
      const unsigned bit = 1u << h->tuple.dst.dir;
      Seen& e = at(ct);
      if (e.nodes & bit) return fmt::format("conn {} linked twice", ct->id);
      e.nodes = static_cast<uint8_t>(e.nodes | bit);
      if (auto err = claim(ct, 't'); !err.empty()) return err;
      if (jiffies32_before(ct->timeout, hash_[b].hint.bound(now32())))
        return fmt::format("conn {} expires at {}, before bucket {}'s bound {}", ct->id, ct->timeout, b,
                           hash_[b].hint.bound(now32()));
    }
    if (walk.nulls() != b) return fmt::format("bucket {} ends in nulls {}", b, walk.nulls());
    const BucketHint& hint = hash_[b].hint;
    if (hint.knows_nodes() ? chain != hint.nodes() : chain < BucketHint::kManyNodes)
      return fmt::format("bucket {} holds {} nodes, its hint says {}", b, chain,
                         hint.knows_nodes() ? hint.nodes() : BucketHint::kManyNodes);
  }
  if (auto err = seen.each([](const Seen& e) -> std::string {
        if (e.nodes == 0) return {};
        const unsigned want = e.ct->test_bit(IPS_NAT_CLASH_BIT) ? 2u : 3u;
        if (e.nodes != want) return fmt::format("conn {} has nodes {} in the table, want {}", e.ct->id, e.nodes, want);
        return {};
      });
      !err.empty())
    return err;

  for (const auto& [ct, cnt] : skb_refs) {
    Seen& e = at(ct);
    if (e.held) continue;
    e.held = true;
    e.skb = cnt;
  }
  // 5.19+: an unconfirmed conn (no unconfirmed list) or a killed one whose
  // DESTROY went out (no per-CPU dying list) is on no list: only packets
  // hold it.
  for (const auto& [ct, cnt] : skb_refs) {
    if (at(ct).place != 0) continue;
    const bool unlisted_unconfirmed = !nf_ct_is_confirmed(ct) && !profile_.unconfirmed_list;
    const bool unlisted_dead =
        (nf_ct_is_dying(ct) || !nf_ct_is_confirmed(ct)) && profile_.redelivery != ct_redelivery::kPcpuDying;
    if (!unlisted_unconfirmed && !unlisted_dead) continue;  // reported below
    if (ct->list_pprev != nullptr) return fmt::format("conn {} on no list but with a back link", ct->id);
    if (auto err = claim(ct, 'p'); !err.empty()) return err;
  }
  uint64_t in_table = 0;
  if (auto err = seen.each([&](const Seen& e) -> std::string {
        if (e.place == 0) return {};
        const nf_conn* ct = e.ct;
        uint32_t want = e.skb;
        if (e.place == 't' || e.place == 'e') ++want;
        if (e.place == 'd' && ct->ecache.state == NFCT_ECACHE_DESTROY_FAIL) ++want;
        if (ct->use != want) return fmt::format("conn {} has use {} but {} references exist", ct->id, ct->use, want);
        if (ct->use == 0) return fmt::format("conn {} reachable with use 0", ct->id);
        in_table += e.place == 't' ? 1 : 0;
        return {};
      });
      !err.empty())
    return err;
  for (const auto& [ct, cnt] : skb_refs) {
    if (at(ct).place == 0) return fmt::format("a packet holds conn {} which is on no list", ct->id);
  }

  uint64_t total = 0;
  for (const auto& np : nets_) {
    const uint32_t want = per_net[np->index];
    if (np->count != want) return fmt::format("net {} count {} but {} conns exist", np->name, np->count, want);
    total += want;
  }
  if (total != slab_.in_use()) return fmt::format("{} conns allocated but {} on lists", slab_.in_use(), total);
  if (in_table != table_conns_)
    return fmt::format("{} conns in the table but the count says {}", in_table, table_conns_);
  return {};
}

}  // namespace ctcore
