// Names and the assertion handler for nf_conntrack_common.h / observer.h.
#include "core/nf_conntrack_common.h"

#include <cstdio>
#include <cstdlib>

#include "core/observer.h"

namespace ctcore {

const char* const kIpsBitNames[IPS_MAX_BIT] = {
    "EXPECTED",     "SEEN_REPLY", "ASSURED",       "CONFIRMED", "SRC_NAT",   "DST_NAT", "SEQ_ADJUST", "SRC_NAT_DONE",
    "DST_NAT_DONE", "DYING",      "FIXED_TIMEOUT", "TEMPLATE",  "NAT_CLASH", "HELPER",  "OFFLOAD",    "HW_OFFLOAD",
};

static_assert(
    [] {
      for (unsigned h = 0; h < NF_INET_NUMHOOKS; ++h)
        if (kNfInetHookNames[h].hook != h) return false;
      return true;
    }(),
    "kNfInetHookNames is indexed by hook number");

const char* nf_inet_hook_name(unsigned hook) { return hook < NF_INET_NUMHOOKS ? kNfInetHookNames[hook].word : "?"; }

std::optional<nf_inet_hooks> nf_inet_hook_from_word(std::string_view word) {
  for (const NfInetHookName& h : kNfInetHookNames)
    if (word == h.word) return h.hook;
  return std::nullopt;
}

const char* const kIpctNames[IPCT_MAX] = {
    "NEW",    "RELATED", "DESTROY", "REPLY",   "ASSURED", "PROTOINFO",
    "HELPER", "MARK",    "SEQADJ",  "SECMARK", "LABEL",   "SYNPROXY",
};

const char* death_reason_name(DeathReason r) {
  switch (r) {
    case DeathReason::kTimeout: return "timeout";
    case DeathReason::kGc: return "gc";
    case DeathReason::kFlush: return "flush";
    case DeathReason::kDelete: return "delete";
    case DeathReason::kEarlyDrop: return "early_drop";
    case DeathReason::kNetns: return "netns";
    case DeathReason::kTracker: return "tracker";
    case DeathReason::kClash: return "clash";
    case DeathReason::kMasquerade: return "masquerade";
  }
  return "unknown";
}

const char* ct_list_name(CtList l) {
  switch (l) {
    case CtList::kHashOriginal: return "hash-original";
    case CtList::kHashReply: return "hash-reply";
    case CtList::kUnconfirmed: return "unconfirmed";
    case CtList::kDying: return "dying";
    case CtList::kEcacheDying: return "ecache-dying";
    case CtList::kNatBysource: return "nat-bysource";
  }
  return "unknown";
}

void ct_assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "ctsim: core invariant broken at %s:%d: %s (%s)\n", file, line, msg, expr);
  std::abort();
}

}  // namespace ctcore
