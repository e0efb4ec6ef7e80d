#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/hash.sh OUTDIR
# Read-outs of the live kernel for the hash/table rows (tests/data/kernel-lab/hash/,
# see its README): the default table size for this machine's memory (S1), and
# the counters' names in /proc/net/stat/nf_conntrack and `conntrack -S` (C2),
# taken inside a throw-away namespace (kprof-hash-ro) in which one UDP packet
# 198.18.10.1 -> 198.18.10.2:9 made conntrack run. Only 198.18.10.0/24, only in
# that namespace, which is deleted on exit. Changes no global sysctl.
set -euo pipefail
OUTDIR=${1:?usage: hash.sh OUTDIR}
NS=kprof-hash-ro
trap 'ip netns del $NS 2>/dev/null || true' EXIT
mkdir -p "$OUTDIR"
nsx() { ip netns exec $NS "$@"; }
ip netns add $NS
nsx ip link set lo up
nsx ip addr add 198.18.10.1/32 dev lo
nsx ip addr add 198.18.10.2/32 dev lo
nsx nft -f - <<'NFT'
table inet kprofhash {
  chain out {
    type filter hook output priority 0;
    ct state new counter
  }
}
NFT
nsx python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.18.10.1", 40000)); s.sendto(b"x", ("198.18.10.2", 9))'
uname -r >"$OUTDIR/uname.txt"
grep MemTotal /proc/meminfo >"$OUTDIR/meminfo.txt"
# The table is global: buckets and max read the same in every namespace.
nsx sh -c 'for k in nf_conntrack_buckets nf_conntrack_max; do echo "$k $(cat /proc/sys/net/netfilter/$k)"; done' >"$OUTDIR/sysctl.txt"
nsx cat /proc/net/stat/nf_conntrack >"$OUTDIR/proc-stat.txt"
nsx conntrack -S >"$OUTDIR/conntrack-S.txt"
nsx conntrack -L >"$OUTDIR/conntrack-L.txt" 2>/dev/null
