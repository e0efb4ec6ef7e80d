#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/lists.sh OUTDIR
# Kernel profile rows L1, L3, L4 on the live kernel, for
# tests/data/kernel-lab/lists/ (see its README): which lists `conntrack -L
# unconfirmed` / `-L dying` show, what nf_conntrack_events=2 (the kernel's
# default, left as it is) does to a conn made before `conntrack -E` started,
# and what a DESTROY line carries (timeout left, TCP state).
# Lab as in nat.sh (docs/DEVELOPING.md, "Checking against a real kernel"):
# namespace kprof-lists-h writes raw packets (send.py) onto c0 (client leg)
# and s0 (server leg); namespace kprof-lists-fw forwards between f0 (clients
# 198.18.30.0/25) and f1 (server 198.18.30.200). Only 198.18.30.0/24, only in
# these namespaces, no global sysctl touched; everything is deleted on exit.
# Files in OUTDIR: E.txt (conntrack -E from +2 s), E-ts.txt (-o timestamp),
# Lu.txt / Ld.txt (conntrack -L unconfirmed / dying), L*.txt (conntrack -L),
# S.txt (conntrack -S), events-sysctl.txt, ruleset.nft, steps.txt.
set -euo pipefail
OUT=${1:?usage: lists.sh OUTDIR}
H=kprof-lists-h; FW=kprof-lists-fw
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=198.18.30.200
PIDS=(); T0=

lab_down() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
  ip netns del $H 2>/dev/null || true
  ip netns del $FW 2>/dev/null || true
}
trap lab_down EXIT

fwx() { ip netns exec $FW "$@"; }
step() { printf '%s +%.3fs %s\n' "$(date -u +%T.%N | cut -c1-12)" "$(echo "$(date +%s.%N) - $T0" | bc)" "$*" >>$OUT/steps.txt; }
# Sleeps until `s` seconds after the start, so that each step happens at the
# time the scenario gives it.
at() { local d; d=$(echo "$T0 + $1 - $(date +%s.%N)" | bc); if [ "${d:0:1}" != "-" ]; then sleep "$d"; fi; }

mkdir -p "$OUT"
rm -f "$OUT"/E.txt "$OUT"/E-ts.txt "$OUT"/L*.txt "$OUT"/S.txt "$OUT"/steps.txt "$OUT"/ruleset.nft \
      "$OUT"/events-sysctl.txt
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
ip -n $FW route add 198.18.30.0/25 dev f0
ip -n $FW route add $SERVER/32 dev f1
C0=$(ip netns exec $H cat /sys/class/net/c0/address); S0=$(ip netns exec $H cat /sys/class/net/s0/address)
F0=$(fwx cat /sys/class/net/f0/address); F1=$(fwx cat /sys/class/net/f1/address)
for a in 11 12 13; do ip -n $FW neigh add 198.18.30.$a lladdr $C0 dev f0 nud permanent; done
ip -n $FW neigh add $SERVER lladdr $S0 dev f1 nud permanent
fwx nft -f - <<EOF
table inet t {
  chain fw_chain {
    type filter hook forward priority filter;
    ct state new,established,related,invalid counter accept
  }
}
EOF
fwx nft list ruleset >$OUT/ruleset.nft
fwx sysctl net.netfilter.nf_conntrack_events >$OUT/events-sysctl.txt  # left at the kernel's default

cli() { step "client sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 $HERE/send.py c0 $F0 "$@"; }
srv() { step "server side sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 $HERE/send.py s0 $F1 "$@"; }
snap() { step "conntrack -L $2 > $1.txt"; fwx conntrack -L $2 >$OUT/$1.txt 2>/dev/null || true; }

T0=$(date +%s.%N); : >$OUT/steps.txt
# Conn 1, made before any listener exists.
at 1.0; cli udp,198.18.30.11,$SERVER,5000,53
at 1.2; srv udp,$SERVER,198.18.30.11,53,5000
# conntrack -E starts (binds) at 2 s.
at 2.0; step "conntrack -E starts"
ip netns exec $FW conntrack -E >$OUT/E.txt 2>/dev/null & PIDS+=($!)
ip netns exec $FW conntrack -E -o timestamp >$OUT/E-ts.txt 2>/dev/null & PIDS+=($!)
# Conn 2 (UDP) and conn 3 (TCP, reset by the client).
at 3.0; cli udp,198.18.30.12,$SERVER,5001,53
at 3.2; srv udp,$SERVER,198.18.30.12,53,5001
at 4.0; cli tcp,198.18.30.13,$SERVER,40000,80,S,1000,0
at 4.2; srv tcp,$SERVER,198.18.30.13,80,40000,SA,5000,1001
at 4.4; cli tcp,198.18.30.13,$SERVER,40000,80,A,1001,5001
at 4.6; cli tcp,198.18.30.13,$SERVER,40000,80,R,1001,0
at 5.0; snap Lu unconfirmed; snap Ld dying; snap L1 ""
# conntrack -D of conn 2: its DESTROY with the timeout left.
at 6.0; step "conntrack -D conn 2"; fwx conntrack -D -p udp -s 198.18.30.12 --sport 5001 >/dev/null 2>&1 || true
# Conn 3 expired at 14.6 s (CLOSE, 10 s): this dump reaps it if the GC has not.
at 16.0; snap L2 ""
# Conn 1 expired at 31.2 s: reaped by this dump if not by the GC; no line.
at 33.0; snap L3 ""
step "conntrack -S > S.txt"; fwx conntrack -S >$OUT/S.txt 2>&1 || true
at 34.0; step "end"
lab_down
