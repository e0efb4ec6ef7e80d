#!/usr/bin/env bash
# Usage (root): bash tools/kernel-lab/lifecycle.sh CASE OUTDIR
#   CASE = basic | udp-stream | all   (all: each case into OUTDIR/CASE/)
# Connection life cycles on the live kernel, no NAT, for
# tests/data/kernel-lab/lifecycle/ (see its README): what ctsim's profile of
# this kernel must reproduce line for line. The lab is lab.sh's (namespaces
# ctsimlife-h and ctsimlife-fw, 198.18.0.0/15 only, deleted on exit).
# nf_conntrack_events is left at the kernel's default (LAB_EVENTS=""): the
# recorders start before any traffic, so every conn is reported.
# Files in OUTDIR: as nat.sh's (E.txt, E-id.txt, E-ts.txt, L*.txt, S*.txt,
# ruleset.nft, steps.txt, f0.txt, f1.txt, dmesg.txt).
set -euo pipefail
CASE=${1:?usage: lifecycle.sh CASE OUTDIR}; OUTDIR=${2:?usage: lifecycle.sh CASE OUTDIR}
H=ctsimlife-h; FW=ctsimlife-fw
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=198.18.1.100
ROUTER=198.18.1.254
LAB_EVENTS=""
# shellcheck source=lab.sh
. "$HERE/lab.sh"
trap lab_down EXIT

# TCP handshake and data, a UDP exchange, an ICMP echo, an unanswered SYN;
# then an in-window RST closes the TCP conn, and the lab waits until the GC
# has reaped everything (SYN_SENT's 120 s plus up to a 60 s GC sleep).
case_basic() {
  lab_up "$1" "" 198.18.1.1
  cli tcp,198.18.0.11,$SERVER,47562,80,S,1000,0
  srv tcp,$SERVER,198.18.0.11,80,47562,SA,5000,1001
  cli tcp,198.18.0.11,$SERVER,47562,80,A,1001,5001
  cli tcp,198.18.0.11,$SERVER,47562,80,PA,1001,5001,100
  cli udp,198.18.0.11,$SERVER,5353,53
  srv udp,$SERVER,198.18.0.11,53,5353
  cli icmp,198.18.0.11,$SERVER,8,4660,1
  srv icmp,$SERVER,198.18.0.11,0,4660,1
  cli tcp,198.18.0.12,$SERVER,47563,443,S,7000,0
  snap L1-established; stats S1-established
  cli tcp,198.18.0.11,$SERVER,47562,80,R,1101,0
  snap L2-after-rst
  step "wait 200 s for the GC to reap every conn"
  sleep 200
  lab_finish
}

# UDP's stream rule (5.16+): request, reply, a second request 0.5 s after
# the first (not ASSURED yet: the conn is younger than 2 s), a third at
# about 3 s (ASSURED, UPDATE event, 120 s).
case_udp_stream() {
  lab_up "$1" "" 198.18.1.1
  cli udp,198.18.0.11,$SERVER,40000,53
  srv udp,$SERVER,198.18.0.11,53,40000
  sleep 0.1
  cli udp,198.18.0.11,$SERVER,40000,53
  snap L1-before-2s
  sleep 2.2
  cli udp,198.18.0.11,$SERVER,40000,53
  lab_finish
}

run_case() {
  case $1 in
    basic) case_basic "$2" ;;
    udp-stream) case_udp_stream "$2" ;;
    *) echo "lifecycle.sh: unknown case $1" >&2; exit 2 ;;
  esac
}

if [ "$CASE" = all ]; then
  for c in basic udp-stream; do run_case $c "$OUTDIR/$c"; done
else
  run_case "$CASE" "$OUTDIR"
fi
