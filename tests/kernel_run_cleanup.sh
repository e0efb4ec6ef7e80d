#!/usr/bin/env bash
# `ctsim kernel-run` leaves nothing behind (issue 15): after a run that is
# interrupted (SIGINT), one that fails (its conntrack -E killed under it),
# and one killed outright (SIGKILL, undone by the next run's clean-up),
# `ip netns list` holds nothing of it, its directory in $TMPDIR is gone, and
# the machine-wide nf_conntrack_max is back to what it was.
#   tests/kernel_run_cleanup.sh CTSIM SCENARIO
# Exit 77 (skipped, with the reason) where kernel-run cannot run.
set -uo pipefail
CTSIM=$1 SCEN=$2
MAX=/proc/sys/net/netfilter/nf_conntrack_max
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v conntrack >/dev/null; then
  echo "skipped: kernel-run needs root, nft and conntrack (.ci/install-deps installs them)"; exit 77
fi
if ! ip netns add ctsim-probe-$$ 2>/dev/null; then echo "skipped: cannot create network namespaces here"; exit 77; fi
ip netns del ctsim-probe-$$
modprobe nf_conntrack 2>/dev/null || true
[ -e $MAX ] || { echo "skipped: no nf_conntrack in this kernel"; exit 77; }
before=$(cat $MAX)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Waits until kernel-run PID has its lab up (its namespaces exist).
wait_lab() {
  for _ in $(seq 1 100); do
    ip netns list | grep -q "^ctsim-$1-n1" && return 0
    sleep 0.1
  done
  fail "kernel-run $1 never built its lab: $(cat "$log")"
}
check_clean() {
  ip netns list | grep -q "^ctsim-$1-" && fail "$2: namespaces left: $(ip netns list | grep "ctsim-$1-")"
  ls -d "${TMPDIR:-/tmp}"/ctsim-kernel-run-"$1"-* >/dev/null 2>&1 && fail "$2: its directory is left in ${TMPDIR:-/tmp}"
  [ "$(cat $MAX)" = "$before" ] || fail "$2: nf_conntrack_max is $(cat $MAX), was $before"
  echo "ok: $2: no namespace of kernel-run $1 left, nf_conntrack_max $before"
}

# 1. Ctrl-C in the middle.
"$CTSIM" kernel-run "$SCEN" --quiet >"$log" 2>&1 & pid=$!
wait_lab $pid
[ "$(cat $MAX)" = 4000000 ] || fail "the run did not set nf_conntrack_max (it is $(cat $MAX))"
kill -INT $pid; wait $pid; rc=$?
[ $rc = 130 ] || fail "interrupted run: exit $rc, expected 130: $(cat "$log")"
grep -q "interrupted" "$log" || fail "interrupted run did not say so: $(cat "$log")"
check_clean $pid "interrupted"

# 2. Its listener dies under it: a failure, exit 2, naming the listener.
"$CTSIM" kernel-run "$SCEN" --quiet >"$log" 2>&1 & pid=$!
wait_lab $pid
for _ in $(seq 1 50); do lst=$(pgrep -P $pid conntrack) && break; sleep 0.1; done
[ -n "${lst:-}" ] || fail "no conntrack -E child of kernel-run $pid"
kill -KILL $lst; wait $pid; rc=$?
[ $rc = 2 ] || fail "failed run: exit $rc, expected 2: $(cat "$log")"
grep -q "listener events" "$log" || fail "failed run did not name its listener: $(cat "$log")"
check_clean $pid "failed"

# 3. SIGKILL: nothing can run in the process; the next kernel-run undoes it.
"$CTSIM" kernel-run "$SCEN" --quiet >"$log" 2>&1 & pid=$!
wait_lab $pid
kill -KILL $pid; wait $pid 2>/dev/null
ip netns list | grep -q "^ctsim-$pid-" || fail "expected kernel-run $pid's namespaces to outlive SIGKILL"
"$CTSIM" kernel-run "$SCEN" --max-duration 1s >"$log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "max-duration" "$log" || fail "a run over --max-duration must be refused (exit 2): $rc $(cat "$log")"
grep -q "deleted namespace ctsim-$pid-" "$log" || fail "the next run did not report the clean-up: $(cat "$log")"
check_clean $pid "killed, cleaned by the next run"
