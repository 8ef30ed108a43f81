#!/usr/bin/env bash
# TIMIT recipe (LDC93S1): data dirs, 40 fbank + deltas, 4 x 320 LSTM and GRU CTC models, PER on the core test.
# Expected PER ranges from the literature are in README.md beside this script.
#
#   recipes/timit/run.sh --timit-root /path/to/TIMIT [--stage N] [--stop-stage N] [--jobs J]
#
# TIMIT_ROOT holds TRAIN/ and TEST/ (either case). Outputs go under recipes/timit/data/.
set -euo pipefail

stage=0
stop_stage=100
jobs=2
timit_root=
progress=true

. "$(dirname "$0")/../parse_options.sh"
if [ -z "$timit_root" ]; then
  echo "$0: --timit-root is required (the folder with TRAIN/ and TEST/)" >&2
  exit 2
fi
timit_root=$(cd "$timit_root" && pwd)
cd "$(dirname "$0")"
. ../path.sh

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [timit] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: Kaldi data dirs: train (462 speakers), dev (50), core test (24)"
  gatescope prepare timit "$timit_root" data
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: 40-dim fbank + delta + delta-delta, CMVN stats and frame labels"
  for split in train dev test; do
    gatescope features data/$split --jobs $jobs add_deltas=true
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: validate the data dirs with their features"
  for split in train dev test; do
    gatescope validate-data data/$split
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: train 4 x 320 LSTM and the GRU of the same size (conf/{lstm,gru}.yaml; a GPU is used if present)"
  for model in lstm gru; do
    gatescope train --config conf/$model.yaml --out exp/$model --auto-resume progress_bar=$progress
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: decode dev and core test, PER on 39 phones"
  for model in lstm gru; do
    for split in dev test; do
      gatescope decode --model exp/$model --data data/$split --beam 8
    done
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi
