#include "core/nf_conntrack_kernel_profile.h"

#include <array>
#include <string>

namespace ctcore {

namespace {

constexpr const char* kHashWords[] = {"jhash2", "siphash_struct", "siphash_4u64", "siphash_tuple"};
constexpr const char* kSizingWords[] = {"5.10", "5.15"};
constexpr const char* kGcWords[] = {"slices", "whole_table", "autotune", "autotune_mean"};
constexpr const char* kRedeliveryWords[] = {"pcpu_dying", "list_one_per_run", "list_10ms"};
constexpr const char* kWindowWords[] = {"invalid", "overshoot_accept", "ignore"};
constexpr const char* kReinitWords[] = {"5.10", "5.17", "5.18"};
constexpr const char* kScopeWords[] = {"netns", "global"};

// One accessor pair per member; enums go through their underlying value.
#define CT_SWITCH(member, row, words, is_bool, lo, hi)                                                    \
  kernel_profile_switch {                                                                                 \
    #member, row, words, is_bool, lo, hi,                                                                 \
        [](const kernel_profile& p) { return static_cast<uint32_t>(p.member); },                          \
        [](kernel_profile& p, uint32_t v) { p.member = static_cast<decltype(p.member)>(v); }        \
  }
constexpr std::span<const char* const> kNoWords{};

const std::array kSwitches = {
    CT_SWITCH(hash, "H1-H3", kHashWords, false, 0, std::size(kHashWords) - 1),
    CT_SWITCH(chain_max_base, "C1", kNoWords, false, 0, 1000),
    CT_SWITCH(chain_max_rand, "C1", kNoWords, false, 0, 1000),
    CT_SWITCH(stat_chaintoolong, "C2", kNoWords, true, 0, 1),
    CT_SWITCH(repeat_counts_invalid, "C3", kNoWords, true, 0, 1),
    CT_SWITCH(sizing, "S1", kSizingWords, false, 0, std::size(kSizingWords) - 1),
    CT_SWITCH(gc, "G1-G3", kGcWords, false, 0, std::size(kGcWords) - 1),
    CT_SWITCH(unconfirmed_list, "L1", kNoWords, true, 0, 1),
    CT_SWITCH(redelivery, "L1-L2", kRedeliveryWords, false, 0, std::size(kRedeliveryWords) - 1),
    CT_SWITCH(events_default, "L3", kNoWords, false, 1, 2),
    CT_SWITCH(listener_scope, "L3", kScopeWords, false, 0, std::size(kScopeWords) - 1),
    CT_SWITCH(destroy_timeout_protoinfo, "L4", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_rst_rework, "T1", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_syn_sent_no_renew, "T2", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_reinit, "T3", kReinitWords, false, 0, std::size(kReinitWords) - 1),
    CT_SWITCH(tcp_keep_liberal, "T4", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_window, "T5", kWindowWords, false, 0, std::size(kWindowWords) - 1),
    CT_SWITCH(tcp_bad_fin_rst_timeout, "T6", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_challenge_ack, "T7", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_syn_retrans_wscale, "T9", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_rst_unack_timeout, "T10", kNoWords, true, 0, 1),
    CT_SWITCH(tcp_rst_direction_check, "T10", kNoWords, true, 0, 1),
    CT_SWITCH(udp_stream_assured, "U1", kNoWords, true, 0, 1),
    CT_SWITCH(icmpv6_redirect_related, "I1", kNoWords, true, 0, 1),
    CT_SWITCH(icmpv6_mrd_untracked, "I2", kNoWords, true, 0, 1),
    CT_SWITCH(clash_reverse, "K1", kNoWords, true, 0, 1),
    CT_SWITCH(gre_allow_clash, "K2", kNoWords, true, 0, 1),
    CT_SWITCH(generic_allow_clash, "K2", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_init_closed, "P1", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_closed_init_no_renew, "P2", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_established_merged, "P3", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_abort_own_vtag, "P4", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_shutdown_3s, "P5", kNoWords, true, 0, 1),
    CT_SWITCH(sctp_init_collision, "P6", kNoWords, true, 0, 1),
    CT_SWITCH(dccp_tracker, "D1", kNoWords, true, 0, 1),
};
#undef CT_SWITCH

// The releases, each built from the one before it so that a profile lists
// only what changed (the change table's "First mainline" and backport
// columns; docs/KERNELS.md).
struct Profiles {
  std::array<kernel_profile_entry, 11> all;

  Profiles() {
    const kernel_profile v510{};

    kernel_profile v515 = v510;  // 5.15.0
    v515.hash = ct_hash_form::kSiphashStruct;
    v515.chain_max_base = 8;
    v515.chain_max_rand = 24;
    v515.stat_chaintoolong = true;
    v515.sizing = ct_sizing::kV515;
    v515.gc = ct_gc_mode::kWholeTable;
    v515.destroy_timeout_protoinfo = true;
    v515.tcp_rst_rework = true;
    v515.tcp_syn_sent_no_renew = true;

    kernel_profile v515late = v515;  // 5.15.y as of 2026 (5.15.212+)
    v515late.udp_stream_assured = true;       // 5.15.3
    v515late.tcp_keep_liberal = true;         // 5.15.y
    v515late.gc = ct_gc_mode::kAutotuneMean;  // G2 in 5.15.34, G3 in 5.15.75
    v515late.tcp_window = ct_tcp_window::kOvershootAccept;  // 5.15.68
    v515late.chain_max_base = 50;                           // 5.15.103
    v515late.chain_max_rand = 30;
    v515late.repeat_counts_invalid = false;  // C3
    v515late.icmpv6_redirect_related = true;  // I1
    v515late.generic_allow_clash = true;      // K2, found in 5.15.212+
    v515late.sctp_closed_init_no_renew = true;  // P2, 5.15.y of 2022-02
    v515late.sctp_established_merged = true;    // P3, P4: 5.15.y of 2023-01
    v515late.sctp_abort_own_vtag = true;
    v515late.sctp_shutdown_3s = true;     // P5, 5.15.y of 2023-08
    v515late.sctp_init_collision = true;  // P6, 5.15.134

    kernel_profile v61 = v515;  // 6.1.0
    v61.repeat_counts_invalid = false;
    v61.gc = ct_gc_mode::kAutotuneMean;
    v61.unconfirmed_list = false;
    v61.redelivery = ct_redelivery::kListOnePerRun;
    v61.events_default = 2;
    v61.tcp_reinit = ct_tcp_reinit::kV518;
    v61.tcp_keep_liberal = true;
    v61.tcp_window = ct_tcp_window::kIgnore;
    v61.tcp_bad_fin_rst_timeout = true;
    v61.udp_stream_assured = true;
    v61.sctp_closed_init_no_renew = true;  // P2 (5.17)

    kernel_profile v61late = v61;  // 6.1.y as of 2026 (6.1.192)
    v61late.tcp_challenge_ack = true;                     // 6.1.9
    v61late.listener_scope = ct_listener_scope::kGlobal;  // 6.1.18
    v61late.chain_max_base = 50;                          // 6.1.20
    v61late.chain_max_rand = 30;
    v61late.tcp_syn_retrans_wscale = true;   // 6.1.77
    v61late.icmpv6_redirect_related = true;  // I1
    v61late.generic_allow_clash = true;      // 6.1.165
    v61late.redelivery = ct_redelivery::kList10ms;  // 6.1.178
    v61late.tcp_rst_direction_check = true;         // 6.1.176
    v61late.sctp_established_merged = true;  // P3, P4: 6.1.y of 2023-01
    v61late.sctp_abort_own_vtag = true;
    v61late.sctp_shutdown_3s = true;     // P5, 6.1.y of 2023-08
    v61late.sctp_init_collision = true;  // P6, 6.1.y of 2023-10

    kernel_profile v66 = v61;  // 6.6.0
    v66.hash = ct_hash_form::kSiphashTuple;
    v66.chain_max_base = 50;
    v66.chain_max_rand = 30;
    v66.listener_scope = ct_listener_scope::kGlobal;
    v66.tcp_challenge_ack = true;
    v66.icmpv6_redirect_related = true;
    v66.gre_allow_clash = true;
    v66.sctp_established_merged = true;  // P3, P4 (6.2)
    v66.sctp_abort_own_vtag = true;
    v66.sctp_shutdown_3s = true;     // P5 (6.5)
    v66.sctp_init_collision = true;  // P6 (6.6-rc5)

    kernel_profile v66late = v66;  // 6.6.y as of 2026 (6.6.150)
    v66late.tcp_syn_retrans_wscale = true;  // 6.6.16
    v66late.redelivery = ct_redelivery::kList10ms;
    v66late.generic_allow_clash = true;

    kernel_profile v612 = v66;  // 6.12.0
    v612.tcp_syn_retrans_wscale = true;
    v612.icmpv6_mrd_untracked = true;
    v612.clash_reverse = true;

    kernel_profile v612late = v612;  // 6.12.y as of 2026 (6.12.118)
    v612late.generic_allow_clash = true;       // 6.12.75
    v612late.tcp_rst_direction_check = true;   // 6.12.93
    v612late.redelivery = ct_redelivery::kList10ms;  // 6.12.97
    v612late.tcp_rst_unack_timeout = true;     // 6.12.117

    // 6.18.0: as 6.12.0 but for D1. What else changed between them is not
    // modelled: L6's event timestamps (timestamps are not), G4 (no
    // flowtables), Y3's log wording.
    kernel_profile v618 = v612;
    v618.dccp_tracker = false;  // D1: no DCCP tracker (checked on 6.18.44)

    kernel_profile v618late = v618;  // the live 6.18.44 this project checks against
    v618late.tcp_rst_direction_check = true;  // T10's direction fix, 6.18.35
    v618late.generic_allow_clash = true;      // K2, seen on the live 6.18.44 (tests/kernel/generic-clash-race)

    all = {{
        {"5.10", "v5.10.0-5.10.19, the reference (kernel-facts); the default", v510},
        {"5.15", "v5.15.0 (Ubuntu 22.04's base)", v515},
        {"5.15-late", "5.15.y as of 2026 (5.15.212 and later)", v515late},
        {"6.1", "v6.1.0 (Debian 12's base)", v61},
        {"6.1-late", "6.1.y as of 2026 (Debian's 6.1.192)", v61late},
        {"6.6", "v6.6.0", v66},
        {"6.6-late", "6.6.y as of 2026 (6.6.150)", v66late},
        {"6.12", "v6.12.0 (Debian 13's base)", v612},
        {"6.12-late", "6.12.y as of 2026 (Debian's 6.12.118)", v612late},
        {"6.18", "v6.18.0", v618},
        {"6.18-late", "6.18.y as of 2026 (6.18.44, the live kernel of docs/KERNELS.md's checks)", v618late},
    }};
  }
};

const Profiles& profiles() {
  static const Profiles p;
  return p;
}

}  // namespace

std::span<const kernel_profile_switch> kernel_profile_switches() { return kSwitches; }

const kernel_profile_switch* kernel_profile_switch_find(std::string_view name) {
  for (const kernel_profile_switch& sw : kSwitches)
    if (name == sw.name) return &sw;
  return nullptr;
}

std::span<const kernel_profile_entry> kernel_profiles() { return profiles().all; }

const kernel_profile_entry* kernel_profile_find(std::string_view name) {
  for (const kernel_profile_entry& e : profiles().all)
    if (name == e.name) return &e;
  return nullptr;
}

std::string kernel_profile_switch_value(const kernel_profile_switch& sw, const kernel_profile& p) {
  const uint32_t v = sw.get(p);
  if (!sw.words.empty()) return v < sw.words.size() ? sw.words[v] : std::to_string(v);
  if (sw.is_bool) return v != 0 ? "true" : "false";
  return std::to_string(v);
}

}  // namespace ctcore
