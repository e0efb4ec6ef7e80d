#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/nat.sh CASE OUTDIR
#   CASE = snat-collision | masquerade | port-exhaustion | icmp-error | all
#   (all: each case in its own fresh lab, into OUTDIR/CASE/)
# NAT cases on the live kernel, for tests/data/kernel-lab/nat/ (see its README).
# Same lab as run.sh (docs/DEVELOPING.md, "Checking against a real kernel"): namespace
# ctsimnat-h writes raw packets (send.py) onto c0 (client leg) and s0 (server
# leg); namespace ctsimnat-fw forwards between f0 (clients, 198.18.0.0/24)
# and f1 (servers, 198.18.1.0/24) and does the NAT. Only 198.18.0.0/15, only
# in these namespaces; everything is deleted on exit.
# Files in OUTDIR: E.txt (conntrack -E), E-id.txt (-o id), E-ts.txt
# (-o timestamp), L*.txt (conntrack -L), S*.txt (conntrack -S), ruleset.nft,
# steps.txt (what the script did, with times), f0.txt / f1.txt (tcpdump -nv of
# everything on fw's legs, in order), dmesg.txt (kernel log lines of the run).
set -euo pipefail
CASE=${1:?usage: nat.sh CASE OUTDIR}; OUTDIR=${2:?usage: nat.sh CASE OUTDIR}
H=ctsimnat-h; FW=ctsimnat-fw
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=198.18.1.100      # the one server
ROUTER=198.18.1.254      # a router on the server side (sends TTL exceeded)
# shellcheck source=lab.sh
. "$HERE/lab.sh"
trap lab_down EXIT

NATHEAD='table ip nat {
  chain nat_post {
    type nat hook postrouting priority srcnat;'

case_snat_collision() {
  lab_up "$1" "$NATHEAD
    ip daddr $SERVER snat to 198.18.1.1
  }
}" 198.18.1.1
  cli tcp,198.18.0.11,$SERVER,40000,80,S,1000,0
  cli tcp,198.18.0.12,$SERVER,40000,80,S,2000,0
  cli tcp,198.18.0.13,$SERVER,40000,80,S,3000,0
  cli tcp,198.18.0.14,$SERVER,700,80,S,4000,0
  cli tcp,198.18.0.15,$SERVER,700,80,S,5000,0
  lab_finish
}

case_masquerade() {
  lab_up "$1" "$NATHEAD
    ip saddr 198.18.0.21 snat to 198.18.1.1
    ip saddr 198.18.0.8/29 oifname \"f1\" masquerade
  }
}" 198.18.1.1 198.18.1.2
  cli tcp,198.18.0.11,$SERVER,40000,80,S,1000,0     # masquerade
  cli tcp,198.18.0.12,$SERVER,40001,80,S,2000,0     # masquerade
  cli udp,198.18.0.13,$SERVER,5000,53               # masquerade
  cli tcp,198.18.0.21,$SERVER,40002,80,S,3000,0     # snat to 198.18.1.1
  cli tcp,198.18.0.22,$SERVER,40003,80,S,4000,0     # no NAT rule matches
  snap L1-before-del
  step "ip addr del 198.18.1.1/32 dev f1"; ip -n $FW addr del 198.18.1.1/32 dev f1
  sleep 1
  snap L2-after-del1
  cli tcp,198.18.0.14,$SERVER,40000,80,S,5000,0     # masquerade, after the delete
  snap L3-after-new
  step "ip addr del 198.18.1.2/32 dev f1"; ip -n $FW addr del 198.18.1.2/32 dev f1
  sleep 1
  snap L4-after-del2
  # deleting an interface's last IPv4 address also flushes the routes through
  # it (fib_disable_ip); put the route back so that the next SYN reaches the
  # masquerade rule instead of failing routing (net unreachable from 192.0.0.8)
  step "ip route add 198.18.1.0/24 dev f1"; ip -n $FW route add 198.18.1.0/24 dev f1
  cli tcp,198.18.0.15,$SERVER,40000,80,S,6000,0     # masquerade, f1 has no address
  lab_finish
}

case_port_exhaustion() {
  lab_up "$1" "$NATHEAD
    ip daddr $SERVER tcp dport 80 snat to 198.18.1.1:1024-1025
    ip daddr $SERVER udp dport 53 snat to 198.18.1.1:1024-1025
  }
}" 198.18.1.1
  cli tcp,198.18.0.11,$SERVER,40000,80,S,1000,0
  cli tcp,198.18.0.12,$SERVER,40000,80,S,2000,0
  cli tcp,198.18.0.13,$SERVER,40000,80,S,3000,0
  snap L1-after-tcp; stats S1-after-tcp
  cli udp,198.18.0.11,$SERVER,5000,53
  cli udp,198.18.0.12,$SERVER,5000,53
  cli udp,198.18.0.13,$SERVER,5000,53
  lab_finish
}

case_icmp_error() {
  lab_up "$1" "$NATHEAD
    ip daddr $SERVER tcp dport 80 snat to 198.18.1.1:2000
    ip daddr $SERVER udp dport 53 snat to 198.18.1.1:2000
  }
}" 198.18.1.1
  # UDP query, answered by the server with port unreachable quoting the
  # query as it left fw (198.18.1.1:2000, TTL 63).
  cli udp,198.18.0.11,$SERVER,40000,53
  srv icmperr,$SERVER,198.18.1.1,3,3,udp:198.18.1.1:$SERVER:2000:53:ttl=63
  # TCP SYN sent with TTL 2: leaves fw with TTL 1, a router answers with
  # time exceeded quoting it (TTL 1).
  cli tcp,198.18.0.12,$SERVER,40000,80,S,1000,0,ttl=2
  srv icmperr,$ROUTER,198.18.1.1,11,0,tcp:198.18.1.1:$SERVER:2000:80:S:1000:0:ttl=1
  lab_finish
}

run_case() {
  case $1 in
    snat-collision) case_snat_collision "$2" ;;
    masquerade) case_masquerade "$2" ;;
    port-exhaustion) case_port_exhaustion "$2" ;;
    icmp-error) case_icmp_error "$2" ;;
    *) echo "nat.sh: unknown case $1" >&2; exit 2 ;;
  esac
}

if [ "$CASE" = all ]; then
  for c in snat-collision masquerade port-exhaustion icmp-error; do run_case $c "$OUTDIR/$c"; done
else
  run_case "$CASE" "$OUTDIR"
fi
