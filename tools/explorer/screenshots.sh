#!/usr/bin/env bash
# The explorer's screenshots in docs/img/ (docs/EXPLORER.md, README.md):
# the seed walk-through's page at the SYN-ACK, conn 1 selected, one PNG per
# view (the page's `view=` fragment shows one view alone) and one of the
# whole page, taken by Debian's headless chromium.
#
#   tools/explorer/screenshots.sh [CTSIM]      (make explorer-screenshots)
#
# Every chromium gets a fresh profile in a temporary directory, removed at
# exit; `timeout` stops a chromium that hangs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ctsim=${1:-build/ctsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ctsim" run scenarios/seed-walkthrough.json --html "$tmp/seed.html" --quiet
"$ctsim" run scenarios/incidents/table-full.json --html "$tmp/full.html" --quiet

shot() {  # shot OUTPUT.png WIDTH HEIGHT URL
  timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-breakpad \
    --hide-scrollbars --user-data-dir="$tmp/profile" --window-size="$2,$3" --screenshot="$1" "$4" \
    >/dev/null 2>&1
  echo "screenshots: $1 ($(stat -c %s "$1") bytes)"
}
# The SYN-ACK of the walk-through: conn 1's REPLY node third in bucket 154.
at="pkt=4&sel=1"
for view in lanes table lists counters narrative; do
  shot "docs/img/explorer-$view.png" 760 380 "file://$tmp/seed.html#$at&view=$view"
done
# The charts of table-full, at its end: the table full, the drops.
shot docs/img/explorer-charts.png 760 480 "file://$tmp/full.html#rec=999999&view=charts"
shot docs/img/explorer.png 1280 900 "file://$tmp/seed.html#$at"
