#!/usr/bin/env bash
# Memory per model version: runs scripts/cluster.sh's topology with a fast trainer (a new version
# every few seconds) under a steady click and query load (`mic chaos`, no disruptions) until the
# serving silos have swapped to at least --versions new versions, sampling every process's RSS.
# Prints one row per sample (version served, RSS MiB of each silo and the trainer) and a last line
#   soak: versions A→B (N swaps), silo RSS first→last MiB (max growth over the last half X MiB), trainer first→last MiB
#
#   scripts/soak.sh --versions 30            # ~6-8 minutes on 2 cores
# Options: --versions N (30), --interval hh:mm:ss between trainer updates (00:00:05), --rate clicks/s (300).
# Uses its own cluster folder and ports (MIC_CLUSTER_DIR=.cluster-soak, MIC_CLUSTER_PORT_OFFSET=200).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=30; INTERVAL=00:00:05; RATE=300
while [ $# -gt 0 ]; do
  case "$1" in
    --versions) VERSIONS=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$VERSIONS" =~ ^[0-9]+$ ]] && [ "$VERSIONS" -ge 2 ] || { echo "soak.sh: --versions '$VERSIONS' must be a whole number ≥ 2" >&2; exit 2; }

export MIC_CLUSTER_DIR=${MIC_CLUSTER_DIR:-$(pwd)/.cluster-soak}
export MIC_CLUSTER_PORT_OFFSET=${MIC_CLUSTER_PORT_OFFSET:-200}
export MIC_CLUSTER_TRAINER_INTERVAL=$INTERVAL
DIR=$MIC_CLUSTER_DIR
CLUSTER="bash scripts/cluster.sh"
$CLUSTER down >/dev/null 2>&1 || true
rm -rf "$DIR/redis" "$DIR/logs" "$DIR/models/store"
$CLUSTER up >/dev/null
trap '$CLUSTER down >/dev/null 2>&1 || true' EXIT

port() { echo $(($1 + MIC_CLUSTER_PORT_OFFSET)); }
rss() { local p; p=$(cat "$DIR/pids/$1.pid"); ps -o rss= -p "$p" | awk '{printf "%.0f", $1/1024}'; }
served() { curl -fsS -m 2 "http://127.0.0.1:$(port 8081)/v1/model" | python3 -c 'import json,sys; print(json.load(sys.stdin)["servingVersion"])'; }

dotnet src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll chaos --bootstrap-file "$DIR/kafka.bootstrap" \
  --silos "http://127.0.0.1:$(port 8081),http://127.0.0.1:$(port 8082),http://127.0.0.1:$(port 8083)" \
  --seconds 3600 --rate "$RATE" --query-rate 20 --users 20000 --settle 0 > "$DIR/logs/soak-load.log" 2>&1 &
LOAD=$!
first=$(served); start=$SECONDS
printf '%6s %7s %8s %8s %8s %8s\n' "t (s)" version silo-1 silo-2 silo-3 trainer
samples=()
while :; do
  v=$(served || echo "?")
  row=$(printf '%6d %7s %8s %8s %8s %8s' $((SECONDS - start)) "$v" "$(rss silo-1)" "$(rss silo-2)" "$(rss silo-3)" "$(rss trainer)")
  echo "$row"; samples+=("$row")
  [ "$v" != "?" ] && [ $((v - first)) -ge "$VERSIONS" ] && break
  [ $((SECONDS - start)) -lt 3000 ] || { echo "soak.sh: fewer than $VERSIONS versions after 50 minutes" >&2; break; }
  sleep 10
done
kill $LOAD 2>/dev/null || true
printf '%s\n' "${samples[@]}" | python3 -c '
import sys
rows=[l.split() for l in sys.stdin if l.strip()]
half=rows[len(rows)//2:]
silos=[[int(r[i]) for r in rows] for i in (2,3,4)]
growth=max(max(int(r[i]) for r in half)-int(half[0][i]) for i in (2,3,4))
print(f"soak: versions {rows[0][1]}→{rows[-1][1]} ({int(rows[-1][1])-int(rows[0][1])} swaps), silo RSS {max(s[0] for s in silos)}→{max(s[-1] for s in silos)} MiB (max growth over the last half {growth} MiB), trainer {rows[0][5]}→{rows[-1][5]} MiB")
'
