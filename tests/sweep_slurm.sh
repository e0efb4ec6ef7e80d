#!/usr/bin/env bash
# The Slurm engine of `ctsim sweep`, on a real single-node Slurm: starts
# munged, slurmctld and slurmd (Debian's munge and slurm-wlm) with a key and
# a configuration generated into a temporary folder, plans SWEEP with
# --slurm, runs the job array with `sbatch --wait`, collects, and checks that
# results.csv is byte for byte the one `ctsim sweep run --jobs 2` makes.
# Every daemon started is stopped and the folder removed, whatever happens.
#
#   tests/sweep_slurm.sh CTSIM SWEEP.json
# Exit: 0 pass, 1 fail, 77 skipped (why is printed: not root, a package
# missing, or a daemon that would not start here; CI installs and runs it).
set -u
ctsim=$1
sweep=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "starting munged and slurmd needs root"
for p in munged slurmctld slurmd sbatch sinfo scontrol parallel; do
  command -v "$p" >/dev/null || skip "$p is not installed (Debian: apt-get install munge slurm-wlm parallel)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctsim-slurm-XXXXXX") || fail "mktemp"
pidfiles=("$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munge/munged.pid")
cleanup() {
  local f pid
  for f in "${pidfiles[@]}"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
show_logs() {
  local f
  for f in "$tmp"/munge/munged.log "$tmp"/slurmctld.log "$tmp"/slurmd.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
  done
}

# munge: a fresh key, its own socket.
mkdir -m 700 "$tmp/munge"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
munged --force --socket="$tmp/munge/socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/seed" \
  || { show_logs; skip "munged would not start here"; }

# Slurm: one node (this machine), one partition, ports away from the defaults.
host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<CONF
ClusterName=ctsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=ctsim Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -f "$SLURM_CONF" || { show_logs; skip "slurmctld would not start here"; }
slurmd -f "$SLURM_CONF" || { show_logs; skip "slurmd would not start here"; }
state=""
for _ in $(seq 100); do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || { show_logs; skip "the Slurm node did not become idle (state '$state')"; }

# The same sweep, locally and as a job array.
"$ctsim" sweep run "$sweep" --out "$tmp/local" --jobs 2 --no-charts || fail "ctsim sweep run failed"
"$ctsim" sweep plan "$sweep" --out "$tmp/slurm" --slurm --throttle 2 || fail "ctsim sweep plan --slurm failed"
grep -q '^#SBATCH --array=0-[0-9]*%2$' "$tmp/slurm/sweep.sbatch" || fail "no throttled array in sweep.sbatch"
grep -q '^#SBATCH --time=' "$tmp/slurm/sweep.sbatch" || fail "no time limit in sweep.sbatch"
grep -q '^#SBATCH --mem=[0-9]*M$' "$tmp/slurm/sweep.sbatch" || fail "no memory limit in sweep.sbatch"
# Only the pilot has run: collecting now says what is missing.
if "$ctsim" sweep collect "$tmp/slurm" --no-charts 2>"$tmp/collect.err"; then fail "collect before the array ran succeeded"; fi
grep -q "have no result yet" "$tmp/collect.err" || fail "collect did not say what is missing: $(cat "$tmp/collect.err")"
# Remove the pilot's result so that every point comes from the array.
rm -f "$tmp"/slurm/points/*/result.json
sbatch --wait --chdir="$tmp/slurm" "$tmp/slurm/sweep.sbatch" || { show_logs; cat "$tmp"/slurm/slurm/*.out; fail "sbatch --wait failed"; }
"$ctsim" sweep collect "$tmp/slurm" --no-charts || { cat "$tmp"/slurm/slurm/*.out; fail "collect after the array failed"; }
cmp "$tmp/local/results.csv" "$tmp/slurm/results.csv" || fail "Slurm and GNU parallel gave different results.csv"
cmp "$tmp/local/summary.csv" "$tmp/slurm/summary.csv" || fail "Slurm and GNU parallel gave different summary.csv"
tasks=$(ls "$tmp"/slurm/slurm/*.out | wc -l)
points=$(wc -l <"$tmp/slurm/indices.txt")
[ "$tasks" = "$points" ] || fail "$tasks array task logs for $points points"
echo "PASS: $points points as a Slurm job array give the same results.csv as GNU parallel"
