#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/run.sh   -> /tmp/lab/out/{E,E-ts,E-id,E-tsid,L,L-id,S,proc,proc-stat}.txt
# Kernel lab (see docs/TRACE_SCHEMA.md): namespaces h and fw of our own,
# 198.18.0.1 (client leg c0) <-> fw <-> 198.18.0.2 (server leg s0).
set -euo pipefail
H=ctsimlab-h; FW=ctsimlab-fw; OUT=/tmp/lab/out
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del $H 2>/dev/null || true
  ip netns del $FW 2>/dev/null || true
}
trap cleanup EXIT
rm -rf $OUT; mkdir -p $OUT
ip netns add $H; ip netns add $FW
ip -n $H link add c0 type veth peer name f0 netns $FW
ip -n $H link add s0 type veth peer name f1 netns $FW
for i in c0 s0; do ip -n $H link set $i up; done
for i in f0 f1 lo; do ip -n $FW link set $i up; done
ip netns exec $H nft add table inet t
ip netns exec $H nft 'add chain inet t out { type filter hook output priority 0; policy drop; }'
ip netns exec $FW sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.f0.rp_filter=0 net.ipv4.conf.f1.rp_filter=0
ip netns exec $FW sysctl -qw net.netfilter.nf_conntrack_events=1 2>/dev/null || true
ip -n $FW addr add 198.18.1.1/32 dev f0
ip -n $FW route add 198.18.0.1/32 dev f0
ip -n $FW route add 198.18.0.2/32 dev f1
C0=$(ip netns exec $H cat /sys/class/net/c0/address); S0=$(ip netns exec $H cat /sys/class/net/s0/address)
F0=$(ip netns exec $FW cat /sys/class/net/f0/address); F1=$(ip netns exec $FW cat /sys/class/net/f1/address)
ip -n $FW neigh add 198.18.0.1 lladdr $C0 dev f0 nud permanent
ip -n $FW neigh add 198.18.0.2 lladdr $S0 dev f1 nud permanent
ip netns exec $FW nft add table inet t
ip netns exec $FW nft 'add chain inet t fw_chain { type filter hook forward priority 0; }'
ip netns exec $FW nft 'add rule inet t fw_chain ct state new,established,related,invalid counter accept'
ip netns exec $FW sysctl -qw net.netfilter.nf_conntrack_events=1
ip netns exec $FW conntrack -E >$OUT/E.txt 2>$OUT/E.err & PIDS+=($!)
ip netns exec $FW conntrack -E -o timestamp >$OUT/E-ts.txt 2>&1 & PIDS+=($!)
ip netns exec $FW conntrack -E -o id >$OUT/E-id.txt 2>&1 & PIDS+=($!)
ip netns exec $FW conntrack -E -o timestamp,id >$OUT/E-tsid.txt 2>&1 & PIDS+=($!)
sleep 1
S="ip netns exec $H /usr/bin/python3 "$(dirname "$0")"/send.py"
$S c0 $F0 tcp,198.18.0.1,198.18.0.2,47562,80,S,1000,0
$S s0 $F1 tcp,198.18.0.2,198.18.0.1,80,47562,SA,5000,1001
$S c0 $F0 tcp,198.18.0.1,198.18.0.2,47562,80,A,1001,5001
$S c0 $F0 tcp,198.18.0.1,198.18.0.2,47562,80,PA,1001,5001,100
$S c0 $F0 udp,198.18.0.1,198.18.0.2,5353,53
$S s0 $F1 udp,198.18.0.2,198.18.0.1,53,5353
$S c0 $F0 icmp,198.18.0.1,198.18.0.2,8,4660,1
$S s0 $F1 icmp,198.18.0.2,198.18.0.1,0,4660,1
$S c0 $F0 tcp,198.18.0.1,198.18.0.2,47563,443,S,7000,0
sleep 1
ip netns exec $FW conntrack -L >$OUT/L.txt 2>$OUT/L.err || true
ip netns exec $FW conntrack -L -o id >$OUT/L-id.txt 2>&1 || true
ip netns exec $FW conntrack -S >$OUT/S.txt 2>&1 || true
ip netns exec $FW cat /proc/net/nf_conntrack >$OUT/proc.txt 2>&1 || true
ip netns exec $FW cat /proc/net/stat/nf_conntrack >$OUT/proc-stat.txt 2>&1 || true
ip netns exec $FW conntrack -D -p tcp --orig-port-dst 80 >$OUT/D.txt 2>&1 || true
ip netns exec $FW conntrack -F >$OUT/F.txt 2>&1 || true
sleep 1
