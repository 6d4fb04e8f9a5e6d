#!/usr/bin/env bash
# "A model worth serving" (docs/REPRODUCTION.md): the levers of issue #19, one at a time, for the best
# encoder of the grid (ComiRec-SA, in-batch reading) on a dataset. Resumable: a lever whose output
# folder holds results is skipped. Every run: split seed 2020, train seed 2020, early stopping on 1,000
# validation users (patience 2, at most 30 epochs), test users scored once.
#   bash bench/reproduction/levers.sh Sports_and_Outdoors      # or Beauty
# Results: results/levers/<dataset>/<lever>/ (results.csv; ckpt/ the checkpoint; merge/results.csv the
# merged channel with weights chosen on validation users) and results/levers/<dataset>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?dataset file name without .txt, e.g. Sports_and_Outdoors}
D=$(realpath "${MIC_DATA:-../shared/data}")/amazon-s3rec-beauty-sports-toys
OUT=results/levers/$name
BIN=results/levers/bin
mkdir -p "$OUT"
if [ ! -x "$BIN/mic" ]; then
  source scripts/prereqs.sh
  dotnet build src/MIC.Streaming.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
  rm -rf "$BIN" && cp -r src/MIC.Streaming.Cli/bin/Release/net10.0 "$BIN"
fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
lever() { # name, options...
  local lever=$1; shift
  if ls "$OUT/$lever"/*.csv >/dev/null 2>&1; then echo "[$(date +%H:%M:%S)] $lever: done before"; return 0; fi
  echo "[$(date +%H:%M:%S)] $lever: $*" | tee -a "$OUT.log"
  "$BIN/mic" train --data "$D/$name.txt" --format s3rec --seed 2020 --train-seed 2020 --encoder comirec-sa \
    --epochs 30 --patience 2 --valid-users 1000 --out "$OUT/$lever" --checkpoint "$OUT/$lever/ckpt" "$@" >> "$OUT.log" 2>&1
  # The merged channel's weights, chosen on the validation users (a lever of its own, on the same model).
  "$BIN/mic" eval model --checkpoint "$OUT/$lever/ckpt" --tune-merge --out "$OUT/$lever/merge" >> "$OUT.log" 2>&1
}
# The grid's best (6-epoch cap there): vanilla ComiRec-SA with the in-batch softmax, now with early stopping.
lever inbatch --variant base --objective inbatch
# Sampled softmax over 10 × batch catalogue items per step (ComiRec's setting).
lever sampled10240 --variant base --objective sampled:10240
# The same + MIC (the in-batch reading's MIC: pairwise UU/II, support set from step 0).
lever inbatch-mic --variant full --objective inbatch
# The sampled softmax + MIC in the paper's reading (NT-Xent UU/II, support set after 200 warm-up steps).
lever sampled10240-mic --variant full --objective sampled:10240 --same-side ntxent --support-warmup 200
# A longer visible history for evaluation users.
lever inbatch-maxlen50 --variant base --objective inbatch --max-len 50
echo "levers: done ($OUT)"
