#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/udp_assured.sh OUTDIR
# Row U1 (docs/KERNELS.md) on the live kernel: when does a UDP conn become
# ASSURED, and which `conntrack -E` lines and timeouts does the kernel print
# on the way? For tests/data/kernel-lab/udp-assured/ (see its README).
# Lab as tools/kernel-lab/run.sh (docs/DEVELOPING.md, "Checking against a real
# kernel"): namespace kprof-tcp-h writes raw packets (send.py) onto c0 (client
# leg) and s0 (server leg); namespace kprof-tcp-fw forwards between f0 and f1.
# Addresses only 198.18.40.0/24 (this branch's block), only in these two
# namespaces; both are deleted on exit. No global sysctl is touched.
# Sequence (times from T0; each packet leaves ~0.1 s later, send.py's start,
# steps.txt has the real times): request at 0, reply at 0.3 s, a second
# request at 0.8 s (inside the 2 s of the stream rule), a third at 2.8 s
# (after it); then conntrack -L and -S.
# Files in OUTDIR: E.txt (conntrack -E), E-ts.txt (-o timestamp), L.txt,
# S.txt, ruleset.nft, steps.txt (what ran when), sysctl.txt (the namespace's
# nf_conntrack_events and UDP timeouts).
set -euo pipefail
OUT=${1:?usage: udp_assured.sh OUTDIR}
H=kprof-tcp-h; FW=kprof-tcp-fw
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=198.18.40.1; SERVER=198.18.40.2
PIDS=(); T0=

lab_down() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  ip netns del $H 2>/dev/null || true
  ip netns del $FW 2>/dev/null || true
}
trap lab_down EXIT

fwx() { ip netns exec $FW "$@"; }
step() { printf '+%.3fs %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*" >>"$OUT/steps.txt"; }

mkdir -p "$OUT"
rm -f "$OUT"/E.txt "$OUT"/E-ts.txt "$OUT"/L.txt "$OUT"/S.txt "$OUT"/ruleset.nft "$OUT"/steps.txt "$OUT"/sysctl.txt
T0=$(date +%s.%N); : >"$OUT/steps.txt"
ip netns add $H; ip netns add $FW
ip -n $H link add c0 type veth peer name f0 netns $FW
ip -n $H link add s0 type veth peer name f1 netns $FW
for i in c0 s0; do ip -n $H link set $i up; done
ip netns exec $H nft add table inet t
ip netns exec $H nft 'add chain inet t out { type filter hook output priority 0; policy drop; }'
for n in $H $FW; do
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
for i in c0 s0; do ip netns exec $H sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
for i in f0 f1; do fwx sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
fwx sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.f0.rp_filter=0 net.ipv4.conf.f1.rp_filter=0
for i in f0 f1 lo; do ip -n $FW link set $i up; done
ip -n $FW route add $CLIENT/32 dev f0
ip -n $FW route add $SERVER/32 dev f1
C0=$(ip netns exec $H cat /sys/class/net/c0/address); S0=$(ip netns exec $H cat /sys/class/net/s0/address)
F0=$(fwx cat /sys/class/net/f0/address); F1=$(fwx cat /sys/class/net/f1/address)
ip -n $FW neigh add $CLIENT lladdr "$C0" dev f0 nud permanent
ip -n $FW neigh add $SERVER lladdr "$S0" dev f1 nud permanent
fwx nft -f - <<EOF
table inet t {
  chain fw_chain {
    type filter hook forward priority filter;
    ct state new,established,related,invalid counter accept
  }
}
EOF
fwx nft list ruleset >"$OUT/ruleset.nft"
# The kernel's defaults are kept (nf_conntrack_events = 2 on 6.18: the
# listeners below exist before the conn, so it gets the event extension).
for k in nf_conntrack_events nf_conntrack_udp_timeout nf_conntrack_udp_timeout_stream; do
  echo "$k = $(fwx cat /proc/sys/net/netfilter/$k)" >>"$OUT/sysctl.txt"
done
ip netns exec $FW conntrack -E >"$OUT/E.txt" 2>/dev/null & PIDS+=($!)
ip netns exec $FW conntrack -E -o timestamp >"$OUT/E-ts.txt" 2>/dev/null & PIDS+=($!)
sleep 1
T0=$(date +%s.%N)
cli() { step "client sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 "$HERE/send.py" c0 "$F0" "$@"; }
srv() { step "server sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 "$HERE/send.py" s0 "$F1" "$@"; }
# sleep until $1 seconds after T0 (not at all if that is past)
until_t() {
  local d; d=$(echo "$1 - ($(date +%s.%N) - $T0)" | bc)
  if [ "$(echo "$d > 0" | bc)" = 1 ]; then sleep "$d"; fi
}
cli udp,$CLIENT,$SERVER,5353,53
until_t 0.3; srv udp,$SERVER,$CLIENT,53,5353
until_t 0.8; cli udp,$CLIENT,$SERVER,5353,53
until_t 2.8; cli udp,$CLIENT,$SERVER,5353,53
until_t 3.2
step "conntrack -L"; fwx conntrack -L >"$OUT/L.txt" 2>/dev/null || true
step "conntrack -S"; fwx conntrack -S >"$OUT/S.txt" 2>&1 || true
sleep 0.5
step "end"
lab_down
