#!/usr/bin/env bash
# Runs `mic eval baseline` (ComiRec protocol, seed 2020) on every public dataset under
# ${MIC_DATA:-../shared/data} and prints a markdown table with wall times. Used for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
D=$(realpath "${MIC_DATA:-../shared/data}")
OUT=${OUT:-results/baselines}
dotnet build src/MIC.Streaming.Cli -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
mic() { dotnet src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll "$@"; }
declare -A ARGS=(
  [beauty]="--data $D/amazon-s3rec-beauty-sports-toys/Beauty.txt --format s3rec"
  [sports]="--data $D/amazon-s3rec-beauty-sports-toys/Sports_and_Outdoors.txt --format s3rec"
  [grocery]="--data $D/amazon-grocery-rechorus/train.csv --format csv --columns user=user_id,item=item_id,time=time --delimiter tab"
  [movielens]="--data $D/movielens-latest-small-2016 --format movielens"
  [books]="--data $D/amazon-books-comirec-sample/book_train_head.txt --format comirec"
  [taobao]="--data $D/taobao-userbehavior-head/UserBehavior_head814users.csv --format taobao --max-len 50"
)
echo "| dataset | model | test users | R@20 | NDCG@20 | HR@20 | R@50 | NDCG@50 | HR@50 | wall (s, whole command) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for name in beauty sports grocery movielens books taobao; do
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  mic eval baseline ${ARGS[$name]} ${EXTRA:-} --out "$OUT/$name" >"$OUT.$name.log" 2>&1 || { echo "failed: $name (see $OUT.$name.log)" >&2; exit 1; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  tail -n +2 "$OUT/$name/results.csv" | while IFS=, read -r ds proto model users fit ev r20 n20 h20 rc20 nc20 r50 n50 h50 rest; do
    printf "| %s | %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f |\n" "$name" "$model" "$users" "$r20" "$n20" "$h20" "$r50" "$n50" "$h50" "$wall"
  done
done
