#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/enobufs.sh -> /tmp/lab/out2/E.{txt,err}
# ENOBUFS: a stopped `conntrack -E` with a small buffer overruns.
set -euo pipefail
H=ctsimlab-h; FW=ctsimlab-fw; OUT=/tmp/lab/out2
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
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
ip -n $FW route add 198.18.0.1/32 dev f0
ip -n $FW route add 198.18.0.2/32 dev f1
C0=$(ip netns exec $H cat /sys/class/net/c0/address); S0=$(ip netns exec $H cat /sys/class/net/s0/address)
F0=$(ip netns exec $FW cat /sys/class/net/f0/address)
ip -n $FW neigh add 198.18.0.1 lladdr $C0 dev f0 nud permanent
ip -n $FW neigh add 198.18.0.2 lladdr $S0 dev f1 nud permanent
ip netns exec $FW nft add table inet t
ip netns exec $FW nft 'add chain inet t fw_chain { type filter hook forward priority 0; }'
ip netns exec $FW nft 'add rule inet t fw_chain ct state new,established,related,invalid counter accept'
ip netns exec $FW sysctl -qw net.netfilter.nf_conntrack_events=1
ip netns exec $FW conntrack -E -e NEW -b 2048 >$OUT/E.txt 2>$OUT/E.err & PIDS+=($!)
sleep 1
kill -STOP "${PIDS[0]}"
specs=(); for p in $(seq 10000 10199); do specs+=(udp,198.18.0.1,198.18.0.2,$p,53); done
ip netns exec $H /usr/bin/python3 "$(dirname "$0")"/send.py c0 $F0 "${specs[@]}"
sleep 0.5
kill -CONT "${PIDS[0]}"
sleep 1
