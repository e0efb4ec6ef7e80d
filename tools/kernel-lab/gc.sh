#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/gc.sh OUTDIR [FLOWS [GAP]]
# GC timing on the live kernel, for tests/data/kernel-lab/gc/ (see its README):
# FLOWS (default 3, at most 20) unreplied UDP flows (one packet each), GAP
# seconds apart (default 7), forwarded through namespace
# kprof-gc-fw, and `conntrack -E -o timestamp` there until the GC has reaped
# all three (each DESTROY comes from a GC sweep: nothing else reads the table;
# the script never runs `conntrack -L`, which would reap expired entries).
# Lab as in nat.sh: namespace kprof-gc-h writes raw packets (send.py) onto c0
# (client leg) and s0 (server leg); kprof-gc-fw forwards between f0
# (clients, 198.18.20.0/25) and f1 (server, 198.18.20.128/25). Only
# 198.18.20.0/24, only in these namespaces, no global sysctl touched;
# everything is deleted on exit.
# Files in OUTDIR: E-ts.txt (conntrack -E -o timestamp), steps.txt (what the
# script did, with epoch times, and the kernel's jiffies once), ruleset.nft.
set -euo pipefail
OUT=${1:?usage: gc.sh OUTDIR [FLOWS [GAP]]}; FLOWS=${2:-3}; GAP=${3:-7}
[ "$FLOWS" -ge 1 ] && [ "$FLOWS" -le 20 ] || { echo "gc.sh: FLOWS must be 1..20" >&2; exit 2; }
H=kprof-gc-h; FW=kprof-gc-fw
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=198.18.20.200
PIDS=()

lab_down() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  ip netns del $H 2>/dev/null || true
  ip netns del $FW 2>/dev/null || true
}
trap lab_down EXIT

fwx() { ip netns exec $FW "$@"; }
step() { printf '%s %s\n' "$(date +%s.%N | cut -c1-17)" "$*" >>"$OUT/steps.txt"; }

mkdir -p "$OUT"
rm -f "$OUT/E-ts.txt" "$OUT/steps.txt" "$OUT/ruleset.nft"
: >"$OUT/steps.txt"
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
fwx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.f0.rp_filter=0 net.ipv4.conf.f1.rp_filter=0
for i in f0 f1 lo; do ip -n $FW link set $i up; done
fwx sysctl -qw net.ipv4.ip_forward=1
ip -n $FW route add 198.18.20.0/25 dev f0
ip -n $FW route add 198.18.20.128/25 dev f1
c0=$(ip netns exec $H cat /sys/class/net/c0/address); s0=$(ip netns exec $H cat /sys/class/net/s0/address)
F0=$(fwx cat /sys/class/net/f0/address)
for a in $(seq 11 $((10 + FLOWS))); do ip -n $FW neigh add 198.18.20.$a lladdr "$c0" dev f0 nud permanent; done
ip -n $FW neigh add $SERVER lladdr "$s0" dev f1 nud permanent
fwx nft -f - <<EOF
table inet t {
  chain fw_chain {
    type filter hook forward priority filter;
    ct state new counter accept
  }
}
EOF
fwx nft list ruleset >"$OUT/ruleset.nft"
fwx sysctl -qw net.netfilter.nf_conntrack_events=1
ip netns exec $FW conntrack -E -o timestamp >"$OUT/E-ts.txt" 2>/dev/null & PIDS+=($!)
sleep 1
step "lab up; uname -r $(uname -r)"
# The jiffies counter next to the wall clock (read-only): the GC's sleep is
# a timer, which the timer wheel fires on a multiple of its level's
# granularity in absolute jiffies (512 jiffies for 16 to 130 s at HZ=250).
step "$(grep -m1 '^jiffies:' /proc/timer_list)"
for k in $(seq 1 "$FLOWS"); do
  step "client sends udp,198.18.20.$((10 + k)),$SERVER,$((40000 + k)),53"
  ip netns exec $H /usr/bin/python3 "$HERE/send.py" c0 "$F0" "udp,198.18.20.$((10 + k)),$SERVER,$((40000 + k)),53"
  [ "$k" = "$FLOWS" ] || sleep "$GAP"
done
# wait for every DESTROY (at most 200 s)
for _ in $(seq 200); do
  [ "$(grep -c DESTROY "$OUT/E-ts.txt" || true)" -ge "$FLOWS" ] && break
  sleep 1
done
step "end"
sleep 0.5
lab_down
