#!/usr/bin/env bash
# The deployed topology as processes on one machine (no Docker): Redis with AOF, a Kafka-protocol
# broker (`mic kafka`, librdkafka's mock cluster), three serving silos and one trainer silo (the
# real mic-silo executable, configured through the same Section__Key variables the chart and
# compose set), a bootstrap model in a shared model store, and the sample service that queries the
# silos' grains through the Orleans client (src/MIC.Streaming.Client).
#
#   scripts/cluster.sh up        build if needed, start what is not running, wait until ready
#   scripts/cluster.sh status    one line per process: pid, alive, ready
#   scripts/cluster.sh down      stop exactly the processes this script started (by pid)
#   scripts/cluster.sh clean     down, then delete the cluster folder (Redis data, models, logs)
#   scripts/cluster.sh kill9 NAME | start NAME | stop NAME   one process (used by scripts/chaos.sh)
#
# NAME is redis, kafka, silo-1, silo-2, silo-3, trainer or sample. Everything lives under
# $MIC_CLUSTER_DIR (default .cluster/): logs/, pids/, redis/, models/, kafka.bootstrap.
# Ports: Redis $MIC_CLUSTER_REDIS_PORT (6390); silo-N HTTP 808N, silo port 1111N, gateway 3000N;
# trainer HTTP 8084, 11114, 30004; sample service HTTP 8090. Override with MIC_CLUSTER_PORT_OFFSET.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${MIC_CLUSTER_DIR:-$ROOT/.cluster}
OFFSET=${MIC_CLUSTER_PORT_OFFSET:-0}
REDIS_PORT=$((${MIC_CLUSTER_REDIS_PORT:-6390} + OFFSET))
MIC="$ROOT/src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll"
SILO="$ROOT/src/MIC.Streaming.Silo/bin/Release/net10.0/mic-silo.dll"
SAMPLE="$ROOT/samples/MIC.Streaming.SampleService/bin/Release/net10.0/mic-sample-service.dll"
SERVING=(silo-1 silo-2 silo-3)
ALL=(redis kafka "${SERVING[@]}" trainer sample)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

http_port() { # HTTP port of a silo or the sample service
  case "$1" in
    silo-*) echo $((8080 + ${1#silo-} + OFFSET)) ;;
    trainer) echo $((8084 + OFFSET)) ;;
    sample) echo $((8090 + OFFSET)) ;;
  esac
}
index() { case "$1" in silo-*) echo "${1#silo-}" ;; trainer) echo 4 ;; esac; }
pid_of() { cat "$DIR/pids/$1.pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
log() { echo "cluster: $*"; }

ready() { # the process answers what its users need
  case "$1" in
    redis) redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG ;;
    kafka) [ -s "$DIR/kafka.bootstrap" ] ;;
    sample) curl -fsS -m 2 "http://127.0.0.1:$(http_port sample)/health" >/dev/null 2>&1 ;;
    *) curl -fsS -m 2 "http://127.0.0.1:$(http_port "$1")/health/ready" >/dev/null 2>&1 ;;
  esac
}

wait_ready() { # NAME SECONDS
  local deadline=$((SECONDS + $2))
  until ready "$1"; do
    if ! alive "$1"; then
      log "$1 exited; the end of its log ($DIR/logs/$1.log):"; tail -n 20 "$DIR/logs/$1.log" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$1 not ready after $2 s; see $DIR/logs/$1.log"; return 1
    fi
    sleep 0.5
  done
}

silo_env() { # the chart's / compose's settings for one silo, as Section__Key variables
  local i; i=$(index "$1")
  echo "Urls=http://127.0.0.1:$(http_port "$1")"
  echo "Silo__Clustering=Redis"
  echo "Silo__Storage=Redis"
  echo "Silo__Redis=127.0.0.1:$REDIS_PORT"
  echo "Silo__ClusterId=mic-local"
  echo "Silo__SiloPort=$((11110 + i + OFFSET))"
  echo "Silo__GatewayPort=$((30000 + i + OFFSET))"
  echo "Silo__ModelStore=$DIR/models/store"
  echo "Serving__BootstrapCheckpoint=$DIR/models/bootstrap"
  echo "Kafka__BootstrapServers=$(cat "$DIR/kafka.bootstrap")"
  echo "Kafka__Topic=mic.clicks"
  echo "Kafka__DeadLetterTopic=mic.clicks.dlq"
  echo "Silo__Membership__ProbeTimeout=00:00:02"
  echo "Silo__Membership__NumMissedProbesLimit=2"
  if [ "$1" = trainer ]; then
    echo "Silo__Roles=trainer"
    echo "Trainer__UpdateInterval=${MIC_CLUSTER_TRAINER_INTERVAL:-00:00:20}"
    echo "Trainer__Threads=1"
  fi
}

start() {
  local name=$1
  if alive "$name"; then return 0; fi
  mkdir -p "$DIR/logs" "$DIR/pids"
  local out="$DIR/logs/$name.log"
  echo "--- start $(date -u +%FT%TZ)" >> "$out"
  case "$name" in
    redis)
      mkdir -p "$DIR/redis"
      # AOF on, fsync every write: a restarted Redis has every flush the silos were told succeeded.
      redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" --appendonly yes --appendfsync always \
        --save "" --daemonize no --logfile "" >> "$out" 2>&1 &
      ;;
    kafka)
      rm -f "$DIR/kafka.bootstrap"
      dotnet "$MIC" kafka --brokers 1 --topic mic.clicks:8 --topic mic.clicks.dlq:1 --bootstrap-file "$DIR/kafka.bootstrap" >> "$out" 2>&1 &
      ;;
    sample)
      # Run from the binary's folder, as the images do (WORKDIR /app): appsettings.json is read from there.
      (cd "$(dirname "$SAMPLE")" && exec env "Urls=http://127.0.0.1:$(http_port sample)" "Mic__Redis=127.0.0.1:$REDIS_PORT" \
        "Mic__ClusterId=mic-local" dotnet "$SAMPLE") >> "$out" 2>&1 &
      ;;
    silo-*|trainer)
      local vars; mapfile -t vars < <(silo_env "$name")
      (cd "$(dirname "$SILO")" && exec env "${vars[@]}" dotnet "$SILO") >> "$out" 2>&1 &
      ;;
    *) log "unknown process '$name' (one of: ${ALL[*]})"; return 2 ;;
  esac
  echo $! > "$DIR/pids/$name.pid"
}

stop() { # SIGTERM, then SIGKILL after 30 s
  local name=$1 p; p=$(pid_of "$name")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$DIR/pids/$name.pid"
}

kill9() {
  local p; p=$(pid_of "$1")
  [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  rm -f "$DIR/pids/$1.pid"
}

build() {
  if [ ! -f "$MIC" ] || [ ! -f "$SILO" ] || [ ! -f "$SAMPLE" ] || [ "${MIC_CLUSTER_BUILD:-0}" = 1 ]; then
    log "building (Release)"
    dotnet build MIC.Streaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
  fi
}

up() {
  command -v redis-server >/dev/null || { log "redis-server is missing: source scripts/prereqs.sh"; exit 1; }
  build
  mkdir -p "$DIR/models"
  start redis; wait_ready redis 20
  start kafka; wait_ready kafka 30
  if [ ! -f "$DIR/models/bootstrap/manifest.json" ]; then
    log "training the bootstrap model (built-in synthetic data; ~1 min)"
    dotnet "$MIC" train --epochs "${MIC_CLUSTER_BOOTSTRAP_EPOCHS:-2}" --checkpoint "$DIR/models/bootstrap" \
      --out "$DIR/models/bootstrap-results" > "$DIR/logs/bootstrap-model.log" 2>&1 \
      || { log "bootstrap training failed; see $DIR/logs/bootstrap-model.log"; exit 1; }
  fi
  for s in "${SERVING[@]}" trainer; do start "$s"; done
  for s in "${SERVING[@]}" trainer; do wait_ready "$s" 180; done
  start sample; wait_ready sample 60
  status
}

status() {
  local name p state
  for name in "${ALL[@]}"; do
    p=$(pid_of "$name")
    if alive "$name"; then
      ready "$name" && state=ready || state="not ready"
      case "$name" in
        redis) printf '%-8s pid %-7s %-9s redis 127.0.0.1:%s\n' "$name" "$p" "$state" "$REDIS_PORT" ;;
        kafka) printf '%-8s pid %-7s %-9s bootstrap %s\n' "$name" "$p" "$state" "$(cat "$DIR/kafka.bootstrap" 2>/dev/null)" ;;
        *) printf '%-8s pid %-7s %-9s http://127.0.0.1:%s\n' "$name" "$p" "$state" "$(http_port "$name")" ;;
      esac
    else
      printf '%-8s %-11s stopped\n' "$name" ""
    fi
  done
}

down() {
  local name
  # Reverse start order: clients and silos first (they flush to Redis and commit to Kafka), then the broker and Redis.
  for name in sample trainer "${SERVING[@]}" kafka redis; do stop "$name"; done
  log "stopped (state kept in $DIR; 'clean' deletes it)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  clean) down; rm -rf "$DIR"; log "deleted $DIR" ;;
  start) start "$2" ;;
  stop) stop "$2" ;;
  kill9) kill9 "$2" ;;
  ready) wait_ready "$2" "${3:-120}" ;;
  env) silo_env "$2" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
