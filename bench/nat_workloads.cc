// W8: source NAT of new conns through one address (issue 16): every client
// uses source port 40000, so after the first conn to a server each new conn
// finds its port taken and nf_nat_l4proto_unique_tuple searches 1024-65535
// from a random offset. Reference in the same run: the same conns without
// NAT (W3's path), so the figure is also a ratio.
#include <algorithm>
#include <array>

#include "bench/bench_util.h"
#include "core/nf_nat_core.h"

namespace bench {

using namespace ctcore;

namespace {

// Conn i: client 10.(i>>16).(i>>8).i port 40000 -> server 198.51.(i&1).(i>>1 & 127), UDP 53:
// 256 servers, so 1M conns use ~6% of each server's 64512 mapped ports.
Packet nat_flow(uint32_t i) {
  Packet p = flow(i);
  p.saddr.all[0] = 10u | (((i >> 16) & 0xff) << 8) | (((i >> 8) & 0xff) << 16) | ((i & 0xff) << 24);
  p.daddr.all[0] = 198u | (51u << 8) | ((i & 1u) << 16) | (((i >> 1) & 127u) << 24);
  p.sport = 40000;
  return p;
}

// What the hooks of a forwarded packet do with NAT on: conntrack, the DST
// null binding at PRE_ROUTING, SNAT at POST_ROUTING, the rewrite, confirm.
bool snat_through(Conntrack& ct, net& n, Packet p, const nf_nat_range2& range) {
  ct.nf_conntrack_in(n, 0, p, NF_INET_PRE_ROUTING);
  nf_conn* c = p.ct;
  if (c == nullptr) return false;
  if (!nf_nat_initialized(c, NF_NAT_MANIP_DST)) nf_nat_alloc_null_binding(ct, c, NF_NAT_MANIP_DST);
  if (!nf_nat_initialized(c, NF_NAT_MANIP_SRC)) nf_nat_setup_info(ct, c, range, NF_NAT_MANIP_SRC);
  nf_nat_packet(c, CTINFO2DIR(p.ctinfo), NF_NAT_MANIP_SRC, p, ct.profile());
  const bool ok = ct.nf_conntrack_confirm(0, p) == NF_ACCEPT;
  ct.nf_reset_ct(p);
  return ok;
}

}  // namespace

void run_w8(const Options& o) {
  const uint32_t n_conns = o.smoke ? 50000 : 1000000;
  const uint32_t buckets = nf_ct_round_buckets((n_conns + 3) / 4);
  std::printf(
      "W8 SNAT new conns: %u conns from port 40000 to 256 servers through one address, ports 1024-65535\n"
      "   (buckets %u). best of %d\n",
      n_conns, buckets, o.reps);
  nf_nat_range2 range;
  range.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
  range.min_addr.all[0] = 192u | (0u << 8) | (2u << 16) | (1u << 24);
  range.max_addr = range.min_addr;
  range.min_proto = 1024;
  range.max_proto = 65535;
  double best_nat = 1e300, best_plain = 1e300, allocs = 0;
  uint64_t found = 0;
  for (int r = 0; r < o.reps; ++r) {
    {
      Table t(0, 42 + static_cast<uint64_t>(r), buckets, false);
      t.ct->set_nf_conntrack_max(0);
      const uint64_t a0 = allocations();
      uint32_t ok = 0;
      const auto t0 = SteadyClock::now();
      for (uint32_t i = 0; i < n_conns; ++i) ok += snat_through(*t.ct, *t.n, nat_flow(i), range);
      best_nat = std::min(best_nat, seconds_since(t0) * 1e9 / n_conns);
      allocs = static_cast<double>(allocations() - a0) / n_conns;
      if (ok != n_conns) std::printf("!! %u of %u confirmed\n", ok, n_conns);
      found = 0;
      for (const ct_pcpu& c : t.n->pcpu) found += c.stat.found;
    }
    {
      Table t(0, 42 + static_cast<uint64_t>(r), buckets, false);
      t.ct->set_nf_conntrack_max(0);
      const auto t0 = SteadyClock::now();
      for (uint32_t i = 0; i < n_conns; ++i) packet_through(*t.ct, *t.n, nat_flow(i));
      best_plain = std::min(best_plain, seconds_since(t0) * 1e9 / n_conns);
    }
  }
  print_figure("reference: the same new conns without NAT", best_plain, "ns/conn", "-", true);
  print_figure("new + SNAT + confirm", best_nat, "ns/conn", "-", true);
  print_figure("ratio SNAT / no NAT", best_nat / best_plain, "x", "-", true);
  print_figure("taken candidates per conn (found)", static_cast<double>(found) / n_conns, "", "-", true);
  print_figure("heap allocations per new conn (slab and NAT-extension growth)", allocs, "allocs", "-", true);
}

}  // namespace bench
