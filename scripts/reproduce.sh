#!/usr/bin/env bash
# The whole reproduction (docs/REPRODUCTION.md), resumable: Beauty then Sports in the paper's reading,
# then both in the in-batch reading. Re-running it continues where it stopped: finished runs are files
# under results/reproduce/<name>/runs, copied to docs/reproduction/<name>/runs to commit, and read back
# from there on a fresh clone. Data from ${MIC_DATA:-../shared/data}.
#   bash scripts/reproduce.sh            # everything, in the foreground
#   nohup bash scripts/reproduce.sh &    # in the background; progress in results/reproduce/<name>.log
#   bash scripts/reproduce.sh --report   # only rewrite the tables (and copy them to docs/reproduction)
# Never rebuild while it runs: it runs the mic binary it copied to results/reproduce/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
D=$(realpath "${MIC_DATA:-../shared/data}")/amazon-s3rec-beauty-sports-toys
OUT=results/reproduce
mkdir -p "$OUT"
if [ "${1:-}" != "--report" ] || [ ! -x "$OUT/bin/mic" ]; then
  source scripts/prereqs.sh
  dotnet build src/MIC.Streaming.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
  rm -rf "$OUT/bin" && cp -r src/MIC.Streaming.Cli/bin/Release/net10.0 "$OUT/bin"
fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
extra=()
[ "${1:-}" = "--report" ] && extra=(--report-only)
run() { # name, file, reading options...
  local name=$1 file=$2; shift 2
  local doc="docs/reproduction/$name"
  if [ ${#extra[@]} -gt 0 ] && ! ls "$doc"/runs/*.json "$OUT/$name"/runs/*.json >/dev/null 2>&1; then
    echo "[$(date +%H:%M:%S)] $name: no finished runs; nothing to report"
    return 0
  fi
  echo "[$(date +%H:%M:%S)] $name" | tee -a "$OUT/$name.log"
  # Finished runs and tuned baselines are committed under docs/reproduction/<name>: a fresh clone
  # resumes from them instead of training them again.
  mkdir -p "$OUT/$name/runs" "$doc/runs"
  cp -n "$doc"/runs/*.json "$OUT/$name/runs/" 2>/dev/null || true
  if [ -f "$doc/baselines.json" ]; then cp -n "$doc/baselines.json" "$OUT/$name/"; fi
  "$OUT/bin/mic" reproduce --data "$D/$file" --format s3rec --out "$OUT/$name" "$@" "${extra[@]}" >> "$OUT/$name.log" 2>&1
  cp "$OUT/$name"/REPRODUCTION.md "$OUT/$name"/*.csv "$doc"/
  cp "$OUT/$name"/*.png "$doc"/ 2>/dev/null || true
  cp "$OUT/$name"/runs/*.json "$doc/runs/" 2>/dev/null || true
  if [ -f "$OUT/$name/baselines.json" ]; then cp "$OUT/$name/baselines.json" "$doc/"; fi
}
run beauty-paper Beauty.txt
run sports-paper Sports_and_Outdoors.txt
# The levers set their own objective, so they are trained once, in the paper's reading's folders.
inbatch=(--objective inbatch --same-side pairwise --support-warmup 0 --random-routing --only table2,table3,figure4,pieces,lambda)
run beauty-inbatch Beauty.txt "${inbatch[@]}"
run sports-inbatch Sports_and_Outdoors.txt "${inbatch[@]}"
echo "reproduce: done; tables under docs/reproduction/"
