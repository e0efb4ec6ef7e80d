#!/usr/bin/env bash
# The differential suite (issue 15, docs/VERIFY.md): `ctsim verify` on every
# scenario of tests/kernel/, one at a time (they share the kernel's GC and
# the machine-wide nf_conntrack_max), under the profile of `uname -r`.
# Fails, printing verify's report, when ctsim and the kernel disagree on one.
#   tests/kernel_verify.sh CTSIM DIR
#   tests/kernel_verify.sh CTSIM DIR --expect-differ
# The second form is for DIR/known-differences/ (its README says why each
# differs): it fails when one of them agrees, or crashes (exit above 2).
# Exit 77 (skipped, saying why) where kernel-run cannot run: not root, no
# namespaces, no nf_conntrack, or a kernel no profile stands for.
set -uo pipefail
CTSIM=$1 DIR=$2 EXPECT=${3:-}
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v conntrack >/dev/null; then
  echo "skipped: kernel-run needs root, nft and conntrack (.ci/install-deps installs them)"; exit 77
fi
if ! ip netns add ctsim-probe-$$ 2>/dev/null; then echo "skipped: cannot create network namespaces here"; exit 77; fi
ip netns del ctsim-probe-$$
shopt -s nullglob
scenarios=("$DIR"/*.json)
[ ${#scenarios[@]} -gt 0 ] || { echo "FAIL: no scenario in $DIR"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=() start=$(date +%s)
for s in "${scenarios[@]}"; do
  t0=$(date +%s.%N)
  "$CTSIM" verify "$s" --quiet >"$out" 2>&1; rc=$?
  # A scenario marked as a real race ("verify": {"compare": "counts"}) may
  # not race on a given try (the two CPUs' packets one after the other):
  # up to two more tries, said so.
  if [ $rc = 1 ] && [ -z "$EXPECT" ] && grep -q '"compare": *"counts"' "$s"; then
    for try in 2 3; do
      echo "race:     $(basename "$s") differed on try $((try - 1)); trying again"
      "$CTSIM" verify "$s" --quiet >"$out" 2>&1; rc=$?
      [ $rc = 1 ] || break
    done
  fi
  took=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
  if [ "$EXPECT" = --expect-differ ]; then
    case $rc in
      1|2) echo "differs as known: $(basename "$s") (exit $rc, ${took}s)"; grep -m3 -E "^differs|cannot play|^  " "$out" ;;
      0) echo "AGREES NOW: $(basename "$s"): move it back to tests/kernel/ and out of the README"; failed+=("$s") ;;
      *) echo "ERROR $rc: $(basename "$s") (${took}s)"; cat "$out"; failed+=("$s") ;;
    esac
    continue
  fi
  case $rc in
    0) echo "agree:    $(basename "$s") (${took}s)" ;;
    1) echo "DIFFER:   $(basename "$s") (${took}s)"; cat "$out"; failed+=("$s") ;;
    *) echo "ERROR $rc: $(basename "$s") (${took}s)"; cat "$out"; failed+=("$s") ;;
  esac
done
echo "kernel_verify: ${#scenarios[@]} scenarios on $(uname -r) in $(( $(date +%s) - start ))s; ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
