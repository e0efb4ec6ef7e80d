#!/usr/bin/env bash
# How long the explorer page of a 10,000-conn run takes to get ready, against
# the seed walk-through's page measured in the same run (docs/EXPLORER.md,
# "Big runs"). Each page is opened RUNS times in Debian's headless chromium,
# the two alternately (so both see the same machine load); the best run of
# each (least ready_ms) is printed with its phases, then the ratio of the
# two. Timings are ms since the navigation started, as the page writes them
# into its #test-state. A loaded machine gives larger figures: compare the
# ratio, not the milliseconds, between machines.
#
#   tools/explorer/load-time.sh [CTSIM] [RUNS]      (make explorer-load-time)
#
# Every chromium gets a fresh profile in a temporary directory, removed at
# exit; `timeout` stops a chromium that hangs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ctsim=${1:-build/ctsim}
runs=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ctsim" run scenarios/seed-walkthrough.json --html "$tmp/seed.html" --quiet
"$ctsim" run bench/scenarios/explorer-10k.json --html "$tmp/10k.html" --quiet

# The page's timings and ready_ms, as one JSON fragment (empty if the page
# did not get ready: then its test state has no timings).
open_page() {
  rm -rf "$tmp/profile"
  timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-breakpad \
    --user-data-dir="$tmp/profile" --dump-dom "file://$1" 2>/dev/null |
    grep -o '"timings":{[^}]*},"ready_ms":[0-9]*' || true
}

declare -A best line
for ((i = 0; i < runs; i++)); do
  for page in seed 10k; do
    l=$(open_page "$tmp/$page.html")
    if [[ -z $l ]]; then
      echo "load-time: $page.html did not get ready (open it in a browser: its errors are in #test-state)" >&2
      exit 1
    fi
    ready=${l##*\"ready_ms\":}
    if [[ -z ${best[$page]:-} || $ready -lt ${best[$page]} ]]; then
      best[$page]=$ready
      line[$page]=$l
    fi
  done
done
echo "best of $runs runs each, ms since navigation start:"
for page in seed 10k; do
  printf '%-5s %8s bytes: %s\n' "$page" "$(stat -c %s "$tmp/$page.html")" \
    "$(sed 's/"timings":{//; s/},"ready_ms":/ ready /; s/"//g; s/[:,]/ /g' <<<"${line[$page]}")"
done
awk -v a="${best[10k]}" -v b="${best[seed]}" 'BEGIN { printf "ready, 10k / seed: %.1f\n", a / b }'
