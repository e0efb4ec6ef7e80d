// gc_worker: the periodic reaper of expired conns (v5.10: no per-conn
// timers; a slice of the table per run, interval adapting to what it finds).
//
// Mirrors: net/netfilter/nf_conntrack_core.c gc_worker(),
//          gc_worker_skip_ct(), gc_worker_can_early_drop() (v5.10.13).
// Split out of nf_conntrack_core.cc for size only.
#include <algorithm>

#include "core/nf_conntrack_core.h"
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

bool gc_worker_skip_ct(const nf_conn* ct) { return !nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct); }

bool gc_worker_can_early_drop(const nf_conn* ct) {
  if (!ct->test_bit(IPS_ASSURED_BIT)) return true;
  const nf_conntrack_l4proto& l4 = nf_ct_l4proto_find(ct->protonum());
  return l4.can_early_drop != nullptr && l4.can_early_drop(ct);
}

}  // namespace

// One run: `htable_size / 128` buckets (at least one) after the last one
// scanned, wrapping; buckets whose hint shows no expired conn are counted,
// the others walked. A walk that kills a conn through its ORIGINAL node
// follows it onto the dying list and ends that bucket early, as the
// kernel's does (it does not restart: "gc is best-effort").
void Conntrack::gc_worker() {
  const uint32_t hz_ = hz();
  const uint32_t min_interval = std::max(hz_ / GC_MAX_BUCKETS_DIV, 1u);
  const uint32_t goal = std::max(htable_size_ / GC_MAX_BUCKETS_DIV, 1u);  // at least one bucket
  uint32_t i = gc_.last_bucket;
  uint32_t buckets = 0, expired_count = 0, scanned = 0, early_dropped = 0;
  const uint32_t max95 = gc_.early_drop ? max_ / 100u * 95u : 0;
  set_this_cpu(0);               // work items run on CPU 0 in ctsim
  const uint32_t now = now32();  // the clock does not move during a run
  // After a long pause (only possible when the core is driven without its
  // work running as scheduled) the hints' time bounds may have wrapped:
  // walk one full cycle exactly, which makes every bound exact again.
  if (now - gc_.last_run >= kHintGcGap) gc_.resync_left = htable_size_;
  gc_.last_run = now;

  // The exact walk of one bucket, in chain order (kills happen here).
  auto scan_bucket = [&](uint32_t b) {
    for (hlist_nulls_node* node : hlist_nulls_walk(hash_[b].head.first)) {
      nf_conn* tmp = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
      ++scanned;
      if (tmp->test_bit(IPS_OFFLOAD_BIT)) continue;  // no offload in ctsim
      if (nf_ct_is_expired(tmp, now)) {
        nf_ct_gc_expired(tmp, DeathReason::kGc);
        ++expired_count;
        continue;
      }
      if (max95 == 0 || gc_worker_skip_ct(tmp)) continue;
      if (nf_ct_net(tmp).count < max95) continue;
      if (tmp->use == 0) continue;
      nf_conntrack_get(tmp);
      if (gc_worker_skip_ct(tmp)) {
        nf_ct_put(tmp);
        continue;
      }
      if (gc_worker_can_early_drop(tmp)) {
        nf_ct_kill(tmp, DeathReason::kEarlyDrop);
        ++early_dropped;
      }
      nf_ct_put(tmp);
    }
  };

  while (buckets < goal) {
    if (++i >= htable_size_) i = 0;
    ++buckets;
    // With no early drop pending, the exact walk of a bucket in which no
    // conn has expired only counts its nodes: the hint gives that count
    // without touching them (nf_conntrack_bucket_hint.h).
    // Not in v5.10 (bucket hint): no early drop, nothing expired here: a walk only counts nodes.
    if (!exact_walks_ && max95 == 0 && gc_.resync_left == 0 && hash_[i].hint.none_expired(now)) {
      scanned += hash_[i].hint.nodes();
      continue;
    }
    scan_bucket(i);
    hint_recount(i);
    if (gc_.resync_left != 0) --gc_.resync_left;
  }

  if (gc_.exiting) return;

  const uint32_t ratio = scanned != 0 ? expired_count * 100 / scanned : 0;
  if (ratio > GC_EVICT_RATIO) {
    gc_.next_gc_run = min_interval;
  } else {
    const uint32_t max = 16 * hz_ / GC_MAX_BUCKETS_DIV;  // GC_MAX_SCAN_JIFFIES / DIV
    gc_.next_gc_run = std::min(gc_.next_gc_run + min_interval, max);
  }
  gc_.last_bucket = i;
  gc_.early_drop = false;
  hint_trust_until_ = gc_.resync_left == 0 ? now + kHintGcGap : now;
  if (obs_ != nullptr) obs_->on_gc(scanned, expired_count, buckets, early_dropped, gc_.next_gc_run);
  wq_.queue_delayed_work(&gc_.dwork, gc_.next_gc_run);
}

}  // namespace ctcore
