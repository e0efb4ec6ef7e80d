// gc_worker: the periodic reaper of expired conns. No conn has a timer of
// its own; this work (and lookups that meet expired conns) reaps them.
//  - v5.10: a slice of 1/128 of the table per run, the interval adapting
//    to the share of expired conns found (gc_worker_slices).
//  - 5.14+ (rows G1-G3, profile switch `gc`): the whole table per cycle,
//    cut into runs of at most GC_SCAN_MAX_DURATION, then a sleep: 120 s
//    (G1), or from the average of the timeouts met (G2: halving average;
//    G3: integer running mean with a bias of 100 entries at 60 s), clamped
//    to 1..60 s (gc_worker_cycle).
//
// Mirrors: net/netfilter/nf_conntrack_core.c gc_worker(),
//          gc_worker_skip_ct(), gc_worker_can_early_drop() (v5.10.13; the
//          5.14 "collect all entries in one cycle", 5.18 "revisit gc
//          autotuning", 6.1 "revisit the gc initial rescheduling bias" and
//          "fix the gc rescheduling delay" versions for G1-G3, as in 6.18).
// Simplified: the simulated clock does not move while work runs: expiry is
//          judged at the run's start, and a 5.14+ run's length (for its
//          budget and the next delay) comes from ctsim's cost model
//          (kGcModelNsPerBucket/-Node, nf_conntrack_core.h).
// Split out of nf_conntrack_core.cc for size only.
#include <algorithm>

#include "core/nf_conntrack_core.h"
#include "core/nf_conntrack_l4proto.h"

namespace ctcore {

namespace {

bool gc_worker_skip_ct(const nf_conn* ct) { return !nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct); }

bool gc_worker_can_early_drop(const nf_conn* ct, const kernel_profile& profile) {
  if (!ct->test_bit(IPS_ASSURED_BIT)) return true;
  const nf_conntrack_l4proto& l4 = nf_ct_l4proto_find(ct->protonum(), profile);
  return l4.can_early_drop != nullptr && l4.can_early_drop(ct);
}

}  // namespace

const char* gc_run_end_name(GcRunEnd e) {
  switch (e) {
    case GcRunEnd::kCycleDone: return "cycle_done";
    case GcRunEnd::kBudget: return "budget";
    case GcRunEnd::kExpiredMax: return "expired_max";
  }
  return "?";
}

void Conntrack::gc_worker() {
  if (profile_.gc == ct_gc_mode::kSlices)
    gc_worker_slices();
  else
    gc_worker_cycle();
}

// v5.10. One run: `htable_size / 128` buckets (at least one) after the last
// one scanned, wrapping; buckets whose hint shows no expired conn are
// counted, the others walked. A walk that kills a conn through its ORIGINAL
// node follows it onto the dying list and ends that bucket early, as the
// kernel's does (it does not restart: "gc is best-effort").
void Conntrack::gc_worker_slices() {
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
      if (gc_worker_can_early_drop(tmp, profile_)) {
        if (obs_ != nullptr) {
          obs_->on_branch(tmp, CtBranch::kGcEarlyDrop, "gc_worker");
          obs_->on_ref(*tmp, +1, tmp->use, "gc_worker");
        }
        nf_ct_kill(tmp, DeathReason::kEarlyDrop);
        ++early_dropped;
        if (obs_ != nullptr) obs_->on_ref(*tmp, -1, tmp->use - 1, "gc_worker");
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

// 5.14+ (G1-G3). One run continues the cycle at gc_.next_bucket (0 starts
// a new one) and walks buckets until the cycle is done, until its budget of
// GC_SCAN_MAX_DURATION has passed (requeue at delay 0), or, under G2/G3,
// until more than GC_SCAN_EXPIRED_MAX conns were reaped or early-dropped
// (requeue in 1 jiffy, in 0 if the cycle is over GC_SCAN_INTERVAL_MAX old;
// the bucket it stopped in is walked again from its head). After a full
// cycle: sleep 120 s (G1), or the average of the clamped timeouts of every
// live node met (both directions of every conn of every namespace), clamped
// to 1..60 s, less the cycle's length (at least 1 jiffy). The early-drop
// request is cleared by every run that does not requeue at delay 0.
//
// Bucket hints: under G1 a bucket with nothing expired (and no early drop
// pending) is only counted, as in v5.10's slices; under G2/G3 every live
// node's timeout enters the average (an order-dependent integer mean), so
// a bucket is walked unless its hint's deadline bound shows 300 s or more
// left on every conn (each node then adds the clamp, 300 s: the steps are
// done without reading the nodes; the same numbers in the same order). The time
// bounds stay valid: every bucket is visited once per cycle, at most
// 120 s plus the cycle's own length apart (far below their 2^23-jiffy
// window), and a long pause still forces an exact cycle (resync_left).
void Conntrack::gc_worker_cycle() {
  const uint32_t hz_ = hz();
  const ct_gc_mode mode = profile_.gc;
  const bool autotune = mode != ct_gc_mode::kWholeTable;
  const uint32_t scan_max_duration = (GC_SCAN_MAX_DURATION_MS * hz_ + 999) / 1000;  // msecs_to_jiffies
  const uint32_t scan_expired_max = 64000u / hz_;                                   // GC_SCAN_EXPIRED_MAX
  const uint64_t interval_min = uint64_t{GC_SCAN_INTERVAL_MIN_S} * hz_;
  const uint64_t interval_max = uint64_t{GC_SCAN_INTERVAL_MAX_S} * hz_;
  const int64_t interval_clamp = int64_t{GC_SCAN_INTERVAL_CLAMP_S} * hz_;
  const uint32_t max95 = gc_.early_drop ? max_ / 100u * 95u : 0;
  set_this_cpu(0);               // work items run on CPU 0 in ctsim
  const uint32_t now = now32();  // the clock does not move during a run
  if (now - gc_.last_run >= kHintGcGap) gc_.resync_left = htable_size_;
  gc_.last_run = now;

  uint32_t i = gc_.next_bucket;
  if (autotune && i == 0) {
    // G2 starts the average at INT_MAX; G3 pretends 100 entries at 60 s.
    gc_.avg_timeout = mode == ct_gc_mode::kAutotune ? 0x7fffffffu : interval_max;
    gc_.count = GC_SCAN_INITIAL_COUNT;
    gc_.start_time = now;
  }
  uint64_t next_run = autotune ? gc_.avg_timeout : uint64_t{GC_SCAN_INTERVAL_S} * hz_;
  int64_t count = gc_.count;
  const uint32_t end_time = now + scan_max_duration;
  // The modelled time of the run so far, and "jiffies" as the kernel would
  // read them at that point.
  uint64_t model_ns = 0;
  auto jiffies_now = [&] { return now + static_cast<uint32_t>(model_ns * hz_ / 1'000'000'000u); };

  uint32_t scanned = 0, expired = 0, early_dropped = 0, buckets = 0;
  uint32_t expired_count = 0;  // the kernel's: reaps and early-drop kills
  GcRunEnd end = GcRunEnd::kCycleDone;
  bool yielded = false;
  while (i < htable_size_) {
    ++buckets;
    model_ns += kGcModelNsPerBucket;
    const BucketHint& hint = hash_[i].hint;
    // Not in v5.10 (bucket hint): G1 keeps no average, so a bucket with nothing expired (no early drop pending) is only
    // counted.
    if (!autotune && !exact_walks_ && max95 == 0 && gc_.resync_left == 0 && hint.none_expired(now)) {
      scanned += hint.nodes();
      model_ns += uint64_t{kGcModelNsPerNode} * hint.nodes();
    } else if (autotune && !exact_walks_ && max95 == 0 && gc_.resync_left == 0 && expired_count <= scan_expired_max &&
               hint.knows_nodes() && hint.nodes() != 0 &&
               static_cast<int32_t>(hint.bound(now) - now) >= static_cast<int32_t>(interval_clamp)) {
      // Not in v5.10 (bucket hint): every conn of this chain has 300 s or more left, so each node's clamped value is
      // 300 s and the walk would only repeat the average's step: do the steps without reading the nodes.
      const uint32_t nodes = hint.nodes();
      for (uint32_t k = 0; k < nodes; ++k) {
        if (mode == ct_gc_mode::kAutotune)
          next_run = (next_run + static_cast<uint64_t>(interval_clamp)) / 2u;
        else
          next_run += static_cast<uint64_t>((interval_clamp - static_cast<int64_t>(next_run)) / ++count);
      }
      scanned += nodes;
      model_ns += uint64_t{kGcModelNsPerNode} * nodes;
    } else {
      for (hlist_nulls_node* node : hlist_nulls_walk(hash_[i].head.first)) {
        nf_conn* tmp = nf_ct_tuplehash_to_ctrack(hnnode_to_tuplehash(node));
        if (tmp->test_bit(IPS_OFFLOAD_BIT)) continue;  // no offload in ctsim
        if (autotune && expired_count > scan_expired_max) {
          // Yield; this bucket is walked again from its head next run.
          gc_.next_bucket = i;
          gc_.avg_timeout = next_run;
          gc_.count = count;
          const int32_t delta_time = static_cast<int32_t>(jiffies_now() - gc_.start_time);
          next_run = delta_time < static_cast<int32_t>(interval_max) ? 1 : 0;  // re-sched at once past 60 s
          end = GcRunEnd::kExpiredMax;
          yielded = true;
          break;
        }
        ++scanned;
        model_ns += kGcModelNsPerNode;
        if (nf_ct_is_expired(tmp, now)) {
          nf_ct_gc_expired(tmp, DeathReason::kGc);
          ++expired;
          ++expired_count;
          continue;
        }
        if (autotune) {
          const int64_t left = std::clamp(static_cast<int64_t>(nf_ct_expires(tmp, now)),
                                          static_cast<int64_t>(interval_min), interval_clamp);
          if (mode == ct_gc_mode::kAutotune) {
            next_run = (next_run + static_cast<uint64_t>(left)) / 2u;
          } else {
            // The kernel's signed long arithmetic: the step truncates toward zero.
            next_run += static_cast<uint64_t>((left - static_cast<int64_t>(next_run)) / ++count);
          }
        }
        if (max95 == 0 || gc_worker_skip_ct(tmp)) continue;
        if (nf_ct_net(tmp).count < max95) continue;
        if (tmp->use == 0) continue;
        nf_conntrack_get(tmp);
        if (gc_worker_skip_ct(tmp)) {
          nf_ct_put(tmp);
          continue;
        }
        if (gc_worker_can_early_drop(tmp, profile_)) {
          if (obs_ != nullptr) {
            obs_->on_branch(tmp, CtBranch::kGcEarlyDrop, "gc_worker");
            obs_->on_ref(*tmp, +1, tmp->use, "gc_worker");
          }
          nf_ct_kill(tmp, DeathReason::kEarlyDrop);
          ++early_dropped;
          if (autotune) ++expired_count;
          if (obs_ != nullptr) obs_->on_ref(*tmp, -1, tmp->use - 1, "gc_worker");
        }
        nf_ct_put(tmp);
      }
      hint_recount(i);
      if (yielded) break;
      if (gc_.resync_left != 0) --gc_.resync_left;
    }
    ++i;
    if (static_cast<int32_t>(jiffies_now() - end_time) > 0 && i < htable_size_) {
      gc_.avg_timeout = next_run;
      gc_.count = count;
      gc_.next_bucket = i;
      next_run = 0;
      end = GcRunEnd::kBudget;
      break;
    }
  }
  if (end == GcRunEnd::kCycleDone) {
    gc_.next_bucket = 0;
    if (autotune) {
      next_run = std::clamp(next_run, interval_min, interval_max);
      // Kept for the outputs only: the next run starts a new average.
      gc_.avg_timeout = next_run;
      gc_.count = count;
      const int32_t delta_time = std::max<int32_t>(static_cast<int32_t>(jiffies_now() - gc_.start_time), 1);
      next_run = next_run > static_cast<uint64_t>(delta_time) ? next_run - static_cast<uint64_t>(delta_time) : 1;
    }
  }

  if (gc_.exiting) return;
  if (next_run != 0) gc_.early_drop = false;
  const uint32_t run_jiffies = jiffies_now() - now;
  gc_.run_end = end;
  gc_.run_jiffies = run_jiffies;
  gc_.next_gc_run = static_cast<uint32_t>(next_run);
  hint_trust_until_ = gc_.resync_left == 0 ? now + kHintGcGap : now;
  // The kernel queues next_run from the run's end (ctsim queues from its
  // start), and a delay is a timer, which the timer wheel rounds up: a
  // 60 s sleep ends on a multiple of 512 jiffies at HZ=250.
  gc_.fires_in = run_jiffies;
  if (next_run != 0) gc_.fires_in += timer_wheel_fire_delay(clock_.jiffies() + run_jiffies, next_run);
  if (obs_ != nullptr) obs_->on_gc(scanned, expired, buckets, early_dropped, gc_.next_gc_run);
  wq_.queue_delayed_work(&gc_.dwork, gc_.fires_in);
}

}  // namespace ctcore
