# The kernel lab's shared part, sourced by nat.sh and lifecycle.sh (rules in
# docs/DEVELOPING.md, "Checking against a real kernel"): namespace $H writes
# raw packets (send.py) onto c0 (client leg) and s0 (server leg); namespace
# $FW forwards between f0 (clients, 198.18.0.0/24) and f1 (servers,
# 198.18.1.0/24). Only 198.18.0.0/15, only in these namespaces; everything is
# deleted on exit (the caller sets `trap lab_down EXIT`).
#
# The caller sets H, FW, HERE, SERVER, ROUTER before sourcing, and may set
# LAB_EVENTS (nf_conntrack_events in $FW; default 1, "" = the kernel's own).
PIDS=(); TCPD=(); OUT=; T0=; F0=; F1=; DMESG0=0
LAB_EVENTS=${LAB_EVENTS-1}

lab_down() {
  for p in "${TCPD[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${TCPD[@]}" "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=(); TCPD=()
  ip netns del $H 2>/dev/null || true
  ip netns del $FW 2>/dev/null || true
}

fwx() { ip netns exec $FW "$@"; }
step() { printf '%s +%.3fs %s\n' "$(date -u +%T.%N | cut -c1-12)" "$(echo "$(date +%s.%N) - $T0" | bc)" "$*" >>$OUT/steps.txt; }

# lab_up OUT NFT_NAT_RULES F1_ADDR...: fresh namespaces, the nat table given
# as nft text (table ip nat), f1's addresses (in this order, each /32),
# recorders started. The filter chain accepts everything but makes conntrack run.
lab_up() {
  OUT=$1; local nat=$2; shift 2
  # remove only what this script writes (OUTDIR may also hold scenario.json etc.)
  mkdir -p "$OUT"
  rm -f "$OUT"/E.txt "$OUT"/E-id.txt "$OUT"/E-ts.txt "$OUT"/E.err "$OUT"/L*.txt "$OUT"/S*.txt \
        "$OUT"/ruleset.nft "$OUT"/steps.txt "$OUT"/dmesg.txt "$OUT"/f0.* "$OUT"/f1.*
  T0=$(date +%s.%N); : >$OUT/steps.txt
  ip netns add $H; ip netns add $FW
  ip -n $H link add c0 type veth peer name f0 netns $FW
  ip -n $H link add s0 type veth peer name f1 netns $FW
  for i in c0 s0; do ip -n $H link set $i up; done
  ip netns exec $H nft add table inet t
  ip netns exec $H nft 'add chain inet t out { type filter hook output priority 0; policy drop; }'
  # no IPv6 (its router solicitations and MLD reports would only be noise)
  for n in $H $FW; do
    ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  for i in c0 s0; do ip netns exec $H sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
  for i in f0 f1; do fwx sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done
  fwx sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.f0.rp_filter=0 net.ipv4.conf.f1.rp_filter=0
  for a in "$@"; do ip -n $FW addr add "$a/32" dev f1; done
  for i in f0 f1 lo; do ip -n $FW link set $i up; done
  fwx sysctl -qw net.ipv4.ip_forward=1
  ip -n $FW route add 198.18.0.0/24 dev f0
  ip -n $FW route add 198.18.1.0/24 dev f1
  local c0 s0 a
  c0=$(ip netns exec $H cat /sys/class/net/c0/address); s0=$(ip netns exec $H cat /sys/class/net/s0/address)
  F0=$(fwx cat /sys/class/net/f0/address); F1=$(fwx cat /sys/class/net/f1/address)
  for a in $(seq 10 29); do ip -n $FW neigh add 198.18.0.$a lladdr $c0 dev f0 nud permanent; done
  for a in $SERVER $ROUTER; do ip -n $FW neigh add $a lladdr $s0 dev f1 nud permanent; done
  fwx nft -f - <<EOF
table inet t {
  chain fw_chain {
    type filter hook forward priority filter;
    ct state new,established,related,invalid counter accept
  }
}
$nat
EOF
  fwx nft list ruleset >$OUT/ruleset.nft
  if [ -n "$LAB_EVENTS" ]; then fwx sysctl -qw net.netfilter.nf_conntrack_events=$LAB_EVENTS; fi
  # started with ip netns exec directly (not the fwx function) so that $! is
  # the recorder itself and lab_finish can stop it by its PID
  ip netns exec $FW conntrack -E >$OUT/E.txt 2>$OUT/E.err & PIDS+=($!)
  ip netns exec $FW conntrack -E -o id >$OUT/E-id.txt 2>/dev/null & PIDS+=($!)
  ip netns exec $FW conntrack -E -o timestamp >$OUT/E-ts.txt 2>/dev/null & PIDS+=($!)
  for i in f0 f1; do
    ip netns exec $FW tcpdump -U -n -i $i -w $OUT/$i.pcap 2>$OUT/$i.err & TCPD+=($!)
  done
  DMESG0=$(dmesg | wc -l)
  sleep 1
  step "lab up: f1 addresses: $*"
}

# lab_finish: final table and counters, stop the recorders, write the texts.
lab_finish() {
  sleep 1
  snap L; stats S
  step "end"
  sleep 0.5
  for p in "${TCPD[@]}" "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${TCPD[@]}" "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=(); TCPD=()
  for i in f0 f1; do tcpdump -nv -r $OUT/$i.pcap >$OUT/$i.txt 2>/dev/null || true; rm -f $OUT/$i.pcap $OUT/$i.err; done
  dmesg | tail -n +$((DMESG0 + 1)) | grep -E 'ate my IP|nf_conntrack|nf_nat|(^|[^[:alnum:]])f[01]([^[:alnum:]]|$)' | grep -v promiscuous >$OUT/dmesg.txt || true
  # E.err holds conntrack's closing count line; keep it only if it says more
  grep -v 'flow events have been shown' $OUT/E.err >/dev/null || rm -f $OUT/E.err
  lab_down
}

# client leg and server leg senders, pinned to CPU 0 so that every packet is
# handled on CPU 0 (veth delivers on the sending CPU): conntrack -S row 0.
cli() { step "client sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 $HERE/send.py c0 $F0 "$@"; sleep 0.2; }
srv() { step "server side sends $*"; ip netns exec $H taskset -c 0 /usr/bin/python3 $HERE/send.py s0 $F1 "$@"; sleep 0.2; }
snap() { step "conntrack -L > $1.txt"; fwx conntrack -L >$OUT/$1.txt 2>/dev/null || true; fwx conntrack -L -o id >$OUT/$1-id.txt 2>/dev/null || true; }
stats() { step "conntrack -S > $1.txt"; fwx conntrack -S >$OUT/$1.txt 2>&1 || true; }

