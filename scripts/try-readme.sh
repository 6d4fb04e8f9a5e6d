#!/usr/bin/env bash
# Runs every `mic` example of the README the way a newcomer would type it, in a scratch folder, and
# fails on the first non-zero exit. The examples are read from README.md itself (every line of a
# ```bash block that starts with `dotnet $mic`, joined over `\` continuations), so README and script
# cannot drift apart. Two things make them run on a fresh machine in a few minutes:
#   - the scratch folder has its own ../shared/data with tiny generated files under the README's
#     file names (s3rec Beauty.txt, Taobao UserBehavior csv, MovieLens ratings.csv + movies.csv);
#   - each command gets shortening options appended (the last value of an option wins), e.g.
#     `--epochs 1` for training and small sizes for the benchmarks.
# Placeholders: `--data …` is the Beauty file; `<model store>` is the store of a short `mic demo`.
# Usage: bash scripts/try-readme.sh   (after a Release build; the test command runs it)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mic="$repo/src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll"
[ -f "$mic" ] || { echo "try-readme: $mic is missing; build first (bash scripts/test.sh does)." >&2; exit 1; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

scratch="$(mktemp -d -t mic-try-readme-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/work" "$scratch/shared/data"
cd "$scratch/work"
data="$scratch/shared/data"
started=$SECONDS

# Tiny stand-ins for the public datasets, under the README's paths (../shared/data/...).
dotnet "$mic" data generate --out gen.csv --users 300 --items 200 --seed 7 >/dev/null
mkdir -p "$data/amazon-s3rec-beauty-sports-toys" "$data/taobao-userbehavior-head" "$data/movielens-latest-small-2016"
cp gen.csv "$data/taobao-userbehavior-head/UserBehavior_head814users.csv"
# s3rec: "user item item ..." with integer ids, in time order (gen.csv is sorted by user, then time).
awk -F, '{ u=substr($1,2); i=substr($2,2)+1; if (u!=last) { if (NR>1) print line; line=(u+1); last=u } line=line" "i } END { print line }' gen.csv \
  > "$data/amazon-s3rec-beauty-sports-toys/Beauty.txt"
awk -F, 'BEGIN { print "userId,movieId,rating,timestamp" } { print substr($1,2)+1 "," substr($2,2)+1 ",4.0," $5 }' gen.csv \
  > "$data/movielens-latest-small-2016/ratings.csv"
awk -F, 'BEGIN { print "movieId,title,genres" } { seen[substr($2,2)+1]=$3 } END { for (m in seen) print m ",Movie " m "," seen[m] }' gen.csv \
  > "$data/movielens-latest-small-2016/movies.csv"

# A short live demo first: its model store stands in for `<model store>`.
echo "try-readme: mic demo (short) …"
dotnet "$mic" demo --duration 25 --demo-epochs 1 --update-interval 3 --synthetic-users 600 --synthetic-items 400 \
  --batch 256 --dim 32 --model-store demo-store --port 5091 > demo.log 2>&1 \
  || { tail -30 demo.log; echo "try-readme: FAILED: mic demo" >&2; exit 1; }

# The README's examples, continuation lines joined.
mapfile -t examples < <(awk '
  /^```bash/ { inblock=1; next }
  /^```/     { inblock=0; next }
  inblock {
    line=$0; sub(/[ \t]+#.*$/, "", line)                  # trailing comments
    if (pending != "") { line = pending " " line; pending="" }
    if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); pending=line; next }
    if (line ~ /^dotnet \$mic/) print line
  }' "$repo/README.md")
[ ${#examples[@]} -ge 10 ] || { echo "try-readme: found only ${#examples[@]} examples in README.md" >&2; exit 1; }

shorten() { # extra options per command (appended: the last value of an option wins)
  case "$1" in
    "train "*)           echo "--epochs 1 --max-steps 3 --valid-users 50 --batch 256 --dim 32" ;;
    "experiment "*)      echo "--epochs 1 --max-steps 3 --valid-users 50 --batch 256 --dim 32 --seeds 2020" ;;
    "reproduce "*)       echo "--seeds 2020 --encoders dssm --only table2 --epochs 1 --max-steps 3 --valid-users 50 --batch 256 --baselines mostpop,itemcf" ;;
    "eval baseline "*)   echo "--setting ease=200" ;;
    "bench dataset"*)    echo "--interactions 20000 --items 2000" ;;
    "bench trainer"*)    echo "--users 200 --items 300 --seconds 12 --rate 300 --qps 10 --update-interval 3 --update-budget 2 --dimension 32" ;;
    "bench train "*|"bench train") echo "--steps 2 --queries 20 --encoders dssm --variants base,full --batch 256 --dim 32" ;;
    "bench index"*)      echo "--sizes 4000 --kinds exact,ivf --data-kinds clustered --queries 20 --channels-size 4000 --swaps 5" ;;
    "bench scale"*)      echo "--items 3000 --users 3000 --shards 3 --silos 1,3 --queries 100" ;;
    "bench capacity"*)   echo "--items 3000 --users 3000 --queries 50 --ingest-events 5000 --ingest-users 500 --train-steps 1 --train-users 500 --train-items 500 --kinds-vectors 2000 --kinds ivf-flat,ivf-sq8" ;;
    "bench streaming"*)  echo "--events 4000 --users 300 --items 3000 --rps 50 --seconds 3 --fresh-rate 3000 --warmup-events 1000" ;;
    *)                   echo "" ;;
  esac
}

n=0
for example in "${examples[@]}"; do
  n=$((n + 1))
  args="${example#dotnet \$mic}"
  args="${args//--data …/--data ../shared/data/amazon-s3rec-beauty-sports-toys/Beauty.txt}"
  args="${args//<model store>/demo-store}"
  args="$(echo "$args" | sed -e 's/^ *//' -e 's/ *$//')"
  extra="$(shorten "$args")"
  echo "try-readme [$n/${#examples[@]}, $((SECONDS - started)) s]: mic $args${extra:+   (+ $extra)}"
  # shellcheck disable=SC2086  # word splitting of the README's arguments is intended
  if ! dotnet "$mic" $args $extra > "step-$n.log" 2>&1; then
    tail -30 "step-$n.log"
    echo "try-readme: FAILED (exit != 0): mic $args" >&2
    exit 1
  fi
done
echo "try-readme: all ${#examples[@]} README examples and the short demo passed in $((SECONDS - started)) s"
