#!/usr/bin/env bash
# Records the captures under tests/data/pcap/ (and scenarios/captures/) with
# tcpdump and dumpcap inside private network namespaces, and what the live
# kernel's `conntrack -E` printed for the cooked (-i any) one. Root only.
# Only 198.18.0.0/15 and 2001:db8::/32, only namespaces this script makes,
# all deleted on exit. Debian: tcpdump tshark conntrack nftables python3-scapy.
#
# Topology: namespace pcl-h holds c0 (client leg) and s0 (server leg) and
# writes raw frames on them (scapy); namespace pcl-fw forwards between f0
# and f1 with conntrack on (a ruleset that uses `ct`). pcl-cl is a real
# client (one UDP socket) behind f2 for the DNS race.
#
# usage: make-captures.sh OUTDIR
set -euo pipefail
out=$(realpath "${1:?usage: make-captures.sh OUTDIR}")
H=pcl-h FW=pcl-fw CL=pcl-cl
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in $H $FW $CL; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT
for n in $H $FW $CL; do
  ip netns add $n
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n $H link add c0 address 02:00:00:00:c0:00 type veth peer name f0 netns $FW address 02:00:00:00:f0:00
ip -n $H link add s0 address 02:00:00:00:50:00 type veth peer name f1 netns $FW address 02:00:00:00:f1:00
ip -n $CL link add e0 address 02:00:00:00:e0:00 type veth peer name f2 netns $FW address 02:00:00:00:f2:00
for i in c0 s0; do ip -n $H link set $i up; done
ip -n $CL link set e0 up
ip -n $CL link set lo up
ip -n $CL addr add 198.18.0.5/32 dev e0
ip -n $CL route add default dev e0
ip -n $CL neigh add 198.18.0.254 lladdr 02:00:00:00:f2:00 dev e0 nud permanent
ip -n $CL route replace default via 198.18.0.254 dev e0 onlink
# h sends nothing of its own.
ip netns exec $H nft -f - <<'NFT'
table inet quiet {
  chain out {
    type filter hook output priority 0; policy drop;
  }
}
NFT
for i in f0 f1 f2; do ip -n $FW link set $i up; done
ip -n $FW addr add 198.18.0.254/32 dev f2
ip netns exec $FW sysctl -qw net.ipv4.ip_forward=1
ip -n $FW route add 198.18.0.1/32 dev f0
ip -n $FW route add 198.18.0.2/32 dev f1
ip -n $FW route add 198.18.0.3/32 dev f1
ip -n $FW route add 198.18.0.5/32 dev f2
ip -n $FW neigh add 198.18.0.1 lladdr 02:00:00:00:c0:00 dev f0 nud permanent
ip -n $FW neigh add 198.18.0.2 lladdr 02:00:00:00:50:00 dev f1 nud permanent
ip -n $FW neigh add 198.18.0.3 lladdr 02:00:00:00:50:00 dev f1 nud permanent
ip -n $FW neigh add 198.18.0.5 lladdr 02:00:00:00:e0:00 dev f2 nud permanent
# Conntrack runs once a ruleset uses `ct`; the DNS service address
# 198.18.0.53 is DNATed to two backends in turn (the race incident).
ip netns exec $FW nft -f - <<'NFT'
table inet t {
  chain forwarding {
    type filter hook forward priority 0;
    ct state invalid counter accept
  }
}
table ip nat {
  chain pre {
    type nat hook prerouting priority -100;
    ip daddr 198.18.0.53 udp dport 53 dnat to numgen inc mod 2 map { 0 : 198.18.0.2, 1 : 198.18.0.3 }
  }
}
NFT

PY=/usr/bin/python3  # Debian's, which has python3-scapy
send() {  # send IFACE-PYTHON-LIST: frames written raw from pcl-h
  ip netns exec $H $PY - "$@" <<'PYEOF'
import sys, time
from scapy.all import Ether, Dot1Q, Dot1AD, IP, IPv6, TCP, UDP, ICMP, Raw, sendp, conf
conf.verb = 0
C, S = "198.18.0.1", "198.18.0.2"
cm, sm, f0, f1 = "02:00:00:00:c0:00", "02:00:00:00:50:00", "02:00:00:00:f0:00", "02:00:00:00:f1:00"
def cl(p): sendp(Ether(src=cm, dst=f0) / p, iface="c0"); time.sleep(0.01)
def sv(p): sendp(Ether(src=sm, dst=f1) / p, iface="s0"); time.sleep(0.01)
what = sys.argv[1]
if what == "tcp":
    o = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    cl(IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240, options=o))
    sv(IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, window=65160, options=o))
    cl(IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001, window=502))
    cl(IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001, window=502) / Raw(b"GET / HTTP/1.0\r\n\r\n"))
    sv(IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="A", seq=5001, ack=1019, window=509))
    cl(IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="FA", seq=1019, ack=5001, window=502))
    sv(IP(src=S, dst=C) / TCP(sport=80, dport=40000, flags="FA", seq=5001, ack=1020, window=509))
    cl(IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags="A", seq=1020, ack=5002, window=502))
elif what == "icmp-error":
    cl(IP(src=C, dst=S) / UDP(sport=41000, dport=9) / Raw(b"x" * 8))
    q = IP(src=C, dst=S) / UDP(sport=41000, dport=9) / Raw(b"x" * 8)
    sv(IP(src=S, dst=C) / ICMP(type=3, code=3) / bytes(q)[:28])
elif what == "vlan":
    sendp(Ether(src=cm, dst=f0) / Dot1Q(vlan=100) / IP(src=C, dst=S) / UDP(sport=42000, dport=53) / Raw(b"q" * 20), iface="c0")
    sendp(Ether(src=sm, dst=f1) / Dot1Q(vlan=100) / IP(src=S, dst=C) / UDP(sport=53, dport=42000) / Raw(b"a" * 40), iface="c0")
    sendp(Ether(src=cm, dst=f0) / Dot1AD(vlan=10) / Dot1Q(vlan=100) / IP(src=C, dst=S) / UDP(sport=42001, dport=53) / Raw(b"q" * 20), iface="c0")
elif what == "ipv6":
    A, B = "2001:db8::1", "2001:db8::2"
    o = [("MSS", 1440), ("SAckOK", b""), ("WScale", 7)]
    sendp(Ether(src=cm, dst=f0) / IPv6(src=A, dst=B) / TCP(sport=40001, dport=443, flags="S", seq=7, window=64800, options=o), iface="c0")
    sendp(Ether(src=sm, dst=f1) / IPv6(src=B, dst=A) / TCP(sport=443, dport=40001, flags="SA", seq=70, ack=8, window=64260, options=o), iface="c0")
    sendp(Ether(src=cm, dst=f0) / IPv6(src=A, dst=B) / TCP(sport=40001, dport=443, flags="A", seq=8, ack=71, window=507), iface="c0")
PYEOF
}

cap() {  # cap NS FILE ARGS...: tcpdump in NS until stopped
  local ns=$1 file=$2; shift 2
  ip netns exec "$ns" tcpdump -Q inout -U --time-stamp-precision=nano -w "$file" "$@" 2>/dev/null &
  pids+=($!); sleep 1
}
stop() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

mkdir -p "$out"
# 1. tcpdump -i any (Linux cooked v2) in the firewall, and the live kernel's
#    conntrack -E for the same traffic: a TCP handshake, a request, a close.
ip netns exec $FW conntrack -E > "$out/tcp-any.conntrack-E" 2>/dev/null & pids+=($!); sleep 0.5
cap $FW "$out/tcp-any.pcap" -i any
cap $FW "$out/tcp-any-sll1.pcap" -i any -y LINUX_SLL
# Ethernet, on the client leg only, with a short snaplen beside it (the
# SYN's options do not fit in 60 bytes: a truncated packet).
cap $FW "$out/tcp-eth.pcap" -i f0
cap $FW "$out/tcp-snaplen.pcap" -i f0 -s 60
send tcp
sleep 1; stop; stop; stop; stop
sleep 1; stop
# 2. pcapng from two interfaces (dumpcap), an ICMP error for a UDP packet.
ip netns exec $FW dumpcap -q -i f0 -i f1 -w "$out/icmp-error-2if.pcapng" 2>/dev/null & pids+=($!); sleep 2
send icmp-error
sleep 1; stop
# 3. VLAN and QinQ tags, IPv6: recorded on the client leg in pcl-h.
cap $H "$out/vlan.pcap" -i c0
send vlan
sleep 0.5; stop
ip netns exec $H sysctl -qw net.ipv6.conf.c0.disable_ipv6=0
cap $H "$out/ipv6.pcap" -i c0
send ipv6
sleep 0.5; stop
# 4. The DNS A/AAAA race: one UDP socket, two threads on two CPUs sending
#    at once to the DNAT service address (no server answers).
ip netns exec $FW timeout 10 tcpdump -c 4 --time-stamp-precision=nano -w "$out/dns-race.pcap" -i any udp port 53 \
  2>/dev/null & pids+=($!); sleep 1
ip netns exec $CL $PY - <<'PYEOF'
import os, socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.5", 45000))
go = threading.Barrier(2)
def q(cpu, qtype):
    os.sched_setaffinity(0, {cpu})
    msg = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00" + qtype + b"\x00\x01"
    go.wait()
    s.sendto(msg, ("198.18.0.53", 53))
ts = [threading.Thread(target=q, args=(0, b"\x00\x01")), threading.Thread(target=q, args=(1, b"\x00\x1c"))]
[t.start() for t in ts]; [t.join() for t in ts]
PYEOF
wait "${pids[-1]}" || true; unset 'pids[-1]'
ip netns exec $FW conntrack -S > "$out/dns-race.conntrack-S" 2>/dev/null || true
echo "captures written to $out"
