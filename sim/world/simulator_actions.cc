// Simulator, part 3: what the scenario's actions do to the world (sysctl
// writes, flush, delete, namespaces, listeners); snapshots and statistics
// are the outputs' to write.
#include "sim/world/simulator.h"

#include <algorithm>

#include "core/nf_nat_masquerade.h"

namespace ctsim {

void Simulator::run_action(const ActionSpec& a) {
  using Kind = ActionSpec::Kind;
  core_->set_this_cpu(0);  // actions are user commands, run on CPU 0
  // The namespace an action names, or null when it names none or it is gone.
  auto net_named = [&](const std::string& name) -> ctcore::net* {
    const std::optional<uint16_t> ni = name.empty() ? std::nullopt : find_net(name);
    return ni ? &core_->net_at(*ni) : nullptr;
  };
  switch (a.kind) {
    case Kind::kSysctl:
      outputs_->action(a);
      if (a.key == "nf_conntrack_max") {
        core_->set_nf_conntrack_max(static_cast<uint32_t>(a.value));
      } else if (ctcore::net* n = net_named(a.netns)) {
        ctcore::nf_conntrack_sysctl_write(n->sysctl, *a.sysctl.info, a.value, scenario_.hz);
      }
      return;
    case Kind::kFlush:
      outputs_->action(a);
      core_->nf_conntrack_flush(net_named(a.netns));
      return;
    case Kind::kDelete: {
      ctcore::net* n = net_named(a.netns);
      const ctcore::nf_conntrack_tuple t = ctcore::ctnetlink_parse_tuple(a.tuple, core_->profile());
      ctcore::nf_conntrack_tuple_hash* h = n != nullptr ? core_->nf_conntrack_find_get(*n, 0, t) : nullptr;
      outputs_->action(a, h != nullptr);
      if (h != nullptr) {
        ctcore::nf_conn* ct = ctcore::nf_ct_tuplehash_to_ctrack(h);
        core_->nf_ct_delete(ct, 0, 0, ctcore::DeathReason::kDelete);
        core_->nf_ct_put(ct);
      }
      return;
    }
    case Kind::kNetnsAdd: {
      outputs_->action(a);
      ctcore::net& n = core_->net_add(a.name, a.hash_mix);
      for (const SysctlSetting& s : a.sysctls)
        ctcore::nf_conntrack_sysctl_write(n.sysctl, *s.info, s.value, scenario_.hz);
      n.event_cb = listeners_.get();
      return;
    }
    case Kind::kNetnsDel: {
      outputs_->action(a);
      const std::optional<uint16_t> ni = find_net(a.name);
      if (!ni || !core_->net_at(*ni).alive) return;
      // Its listeners close with it; packets it still holds are dropped.
      for (Listener& l : listeners_->all())
        if (l.net == ni) l.stalled = true;
      pool_.for_each_live([&](InFlight& f) {
        if (f.net != *ni) return;
        core_->nf_reset_ct(f.skb);
        f.dead = true;
      });
      core_->net_exit(core_->net_at(*ni));
      return;
    }
    case Kind::kListenerStall:
    case Kind::kListenerResume:
      outputs_->action(a);
      if (Listener* l = listeners_->find(a.name)) l->stalled = a.kind == Kind::kListenerStall;
      return;
    case Kind::kSnapshot: {
      outputs_->action(a);
      // conntrack -L runs whether or not anything is written: its dump
      // kills the expired conns it walks past (ctnetlink_dump_table).
      ctcore::net* only = net_named(a.netns);
      std::vector<const ctcore::nf_conn*> conns;
      auto take = [&](const ctcore::nf_conn& ct) { conns.push_back(&ct); };
      if (a.list == ActionSpec::SnapshotList::kTable)
        core_->for_each_conn_in_table(only, take);
      else
        core_->for_each_conn_on_list(only, a.list == ActionSpec::SnapshotList::kDying, take);
      outputs_->snapshot(only, conns, a.list);
      outputs_->stats(false);
      return;
    }
    case Kind::kStats:
      outputs_->action(a);
      outputs_->stats(true);
      return;
    case Kind::kAddrAdd:
    case Kind::kAddrDel: {
      outputs_->action(a);
      const std::optional<uint16_t> ni = find_net(a.netns);
      if (!ni) return;
      std::vector<InterfaceAddress>& addrs = iface_addrs(*ni);
      const auto it = std::find(addrs.begin(), addrs.end(), a.address);
      if (a.kind == Kind::kAddrAdd) {
        if (it == addrs.end()) addrs.push_back(a.address);
        return;
      }
      if (it == addrs.end()) return;  // ip addr del of an absent address: nothing happens
      addrs.erase(it);
      // The inet address notifier: conns masqueraded to it are killed.
      ctcore::nf_nat_masquerade_addr_removed(*core_, core_->net_at(*ni), kOutIfindex, a.address.l3num,
                                             a.address.addr);
      return;
    }
  }
}

}  // namespace ctsim
