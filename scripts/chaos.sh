#!/usr/bin/env bash
# Chaos against the deployed topology (scripts/cluster.sh): while `mic chaos` produces a known click
# stream and queries candidates at fixed rates (HTTP through whichever serving silo is alive, and
# the sample service's Orleans client), this script, at random moments, kill -9s a serving silo and
# starts it again, kill -9s the trainer silo and starts it again, restarts Redis once (AOF on), and
# pauses the broker process (SIGSTOP/SIGCONT). Then every user's history is read back and compared
# with what the broker acknowledged. The last line is exactly:
#   chaos: produced N, applied N, lost 0, duplicated 0, unconfirmed 0, queries Q, failed F, restarts R
#
#   scripts/chaos.sh --seconds 90            # the short run of the test command (~2 min 10 s)
#   scripts/chaos.sh --seconds 600 --keep    # a long run; --keep leaves the cluster up afterwards
# Options: --seconds N (default 90), --rate clicks/s (300), --query-rate per path (20), --seed N, --keep.
# It uses its own cluster folder and ports (MIC_CLUSTER_DIR=.cluster-chaos, MIC_CLUSTER_PORT_OFFSET=100)
# and starts from an empty Redis and a new broker each run. Exit code 0 only when lost, duplicated,
# unconfirmed (clicks the broker never acknowledged) and failed are all 0.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=90; RATE=300; QUERY_RATE=20; SEED=$RANDOM; KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --query-rate) QUERY_RATE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$SECONDS_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_RUN" -ge 30 ] || { echo "chaos.sh: --seconds '$SECONDS_RUN' must be a whole number ≥ 30" >&2; exit 2; }

export MIC_CLUSTER_DIR=${MIC_CLUSTER_DIR:-$(pwd)/.cluster-chaos}
export MIC_CLUSTER_PORT_OFFSET=${MIC_CLUSTER_PORT_OFFSET:-100}
DIR=$MIC_CLUSTER_DIR
CLUSTER="bash scripts/cluster.sh"
MIC="dotnet src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll"
RANDOM=$SEED
say() { echo "chaos.sh $(date -u +%T): $*"; }

# A fresh run: empty Redis, new broker, no published versions (the bootstrap model is kept).
$CLUSTER down >/dev/null 2>&1 || true
rm -rf "$DIR/redis" "$DIR/logs" "$DIR/models/store" "$DIR/restarts" "$DIR/chaos.json"
$CLUSTER up
trap '[ "$KEEP" = 1 ] || $CLUSTER down >/dev/null 2>&1 || true' EXIT

port() { echo $(($1 + MIC_CLUSTER_PORT_OFFSET)); }
SILOS="http://127.0.0.1:$(port 8081),http://127.0.0.1:$(port 8082),http://127.0.0.1:$(port 8083)"
SERVICE="http://127.0.0.1:$(port 8090)"
NAMES="redis kafka silo-1 silo-2 silo-3 trainer sample"
rss() { # NAME → resident MiB of its process
  local p; p=$(cat "$DIR/pids/$1.pid" 2>/dev/null || true)
  [ -n "$p" ] && ps -o rss= -p "$p" 2>/dev/null | awk '{printf "%.0f", $1/1024}' || echo "-"
}
declare -A RSS_START
for n in $NAMES; do RSS_START[$n]=$(rss "$n"); done

restarts=0
echo 0 > "$DIR/restarts"
restarted() { restarts=$((restarts + 1)); echo "$restarts" > "$DIR/restarts"; }

$MIC chaos --bootstrap-file "$DIR/kafka.bootstrap" --silos "$SILOS" --service "$SERVICE" \
  --seconds "$SECONDS_RUN" --rate "$RATE" --query-rate "$QUERY_RATE" --seed "$SEED" \
  --restarts-file "$DIR/restarts" --out "$DIR/chaos.json" > "$DIR/logs/chaos-load.log" 2>&1 &
LOAD=$!
tail -n +1 -f "$DIR/logs/chaos-load.log" --pid=$LOAD | grep --line-buffered -v '^chaos: produced ' &
TAIL=$!

# The disruptions, in a shuffled order, spread over the run; a long run repeats the cycle (Redis
# is restarted once). Each waits until what it restarted is ready again before the next one.
kill_serving() {
  local s="silo-$((RANDOM % 3 + 1))"
  say "kill -9 $s"; $CLUSTER kill9 "$s"
  sleep $((RANDOM % 4 + 2)); $CLUSTER start "$s"; restarted
  $CLUSTER ready "$s" 180 >/dev/null && say "$s is back"
}
kill_trainer() {
  say "kill -9 trainer"; $CLUSTER kill9 trainer
  sleep $((RANDOM % 4 + 2)); $CLUSTER start trainer; restarted
  $CLUSTER ready trainer 180 >/dev/null && say "trainer is back"
}
restart_redis() {
  say "restart Redis"; $CLUSTER stop redis; sleep 1; $CLUSTER start redis; restarted
  $CLUSTER ready redis 30 >/dev/null && say "Redis is back"
}
pause_broker() {
  local p; p=$(cat "$DIR/pids/kafka.pid")
  local t=$((RANDOM % 4 + 3))
  say "SIGSTOP the broker for $t s"; kill -STOP "$p"; sleep "$t"; kill -CONT "$p"; say "SIGCONT the broker"
}

# Every kind of disruption in every run; runs of 2 minutes or more kill a serving silo twice per cycle.
cycle=(kill_serving pause_broker kill_trainer restart_redis)
[ "$SECONDS_RUN" -lt 120 ] || cycle+=(kill_serving)
actions=()
rounds=$(( (SECONDS_RUN + 299) / 300 ))
for ((r = 0; r < rounds; r++)); do
  shuffled=$(printf '%s\n' "${cycle[@]}" | shuf --random-source=<(yes "$SEED$r"))
  for a in $shuffled; do
    if [ "$a" = restart_redis ] && [ "$r" -gt 0 ]; then a=pause_broker; fi
    actions+=("$a")
  done
done
# Each disruption itself takes ~15 s (a restarted silo must be ready again before the next one).
gap=$(( (SECONDS_RUN * 8 / 10 - 15 * ${#actions[@]}) / ${#actions[@]} ))
[ "$gap" -ge 2 ] || gap=2
start=$SECONDS
sleep $(( SECONDS_RUN / 10 ))
for a in "${actions[@]}"; do
  kill -0 $LOAD 2>/dev/null || break
  # Spread over the run: half a gap plus up to a gap of jitter before each disruption.
  jitter=$(( gap / 2 + (gap > 1 ? RANDOM % gap : 0) ))
  sleep "$jitter"
  [ $((SECONDS - start)) -lt $((SECONDS_RUN - 5)) ] || break
  $a
done

set +e
wait $LOAD; rc=$?
set -e
kill $TAIL 2>/dev/null || true
echo "RSS MiB (start → end):"
for n in $NAMES; do printf '  %-8s %6s → %s\n' "$n" "${RSS_START[$n]}" "$(rss "$n")"; done
say "logs: $DIR/logs; counts: $DIR/chaos.json"
grep '^chaos: produced ' "$DIR/logs/chaos-load.log" | tail -n 1
exit $rc
