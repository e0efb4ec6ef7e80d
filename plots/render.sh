#!/usr/bin/env bash
# Renders every chart of a saved run: plots/render.sh RUN_DIR
# RUN_DIR must hold trace.jsonl and series.csv, as `ctsim run S --plots DIR`
# leaves them (or as written with --trace DIR/trace.jsonl --series DIR/series.csv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: plots/render.sh RUN_DIR}"
ctsim="${CTSIM:-$here/../build/ctsim}"
for f in trace.jsonl series.csv; do
  [ -f "$dir/$f" ] || { echo "render.sh: $dir/$f is missing (run: ctsim run SCENARIO --plots $dir)" >&2; exit 2; }
done
"$ctsim" plot "$dir"
