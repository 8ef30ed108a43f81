#!/usr/bin/env bash
# The embedded default recipe: synthetic TIMIT-style corpus -> Kaldi data dirs -> features -> LSTM and GRU CTC
# models of equal size -> decoding -> summary table. (Robustness and analysis stages come with their issues.)
#
#   recipes/synth/run.sh [--stage N] [--stop-stage N] [--jobs J] [--speakers S] [--utts-per-speaker U] [--seed X]
#                        [--progress true|false]
#
# Outputs go under recipes/synth/data/ and exp/ (safe to delete). Every stage can be re-run; finished work is kept.
set -euo pipefail

stage=0
stop_stage=100
jobs=2
speakers=40
test_speakers=8
utts_per_speaker=25
seed=0
progress=true

. "$(dirname "$0")/../parse_options.sh"

cd "$(dirname "$0")"
. ../path.sh
corpus=data/corpus

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [synth] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: synthetic corpus -> $corpus"
  gatescope corpus synth $corpus --speakers $speakers --test-speakers $test_speakers \
    --utts-per-speaker $utts_per_speaker --seed $seed --jobs $jobs
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: Kaldi data dirs (train/dev/test, validated) -> data/"
  gatescope prepare timit $corpus data
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: 40-dim fbank, CMVN stats and frame labels"
  for split in train dev test; do
    gatescope features data/$split --jobs $jobs
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: validate the data dirs with their features"
  for split in train dev test; do
    gatescope validate-data data/$split
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: train a unidirectional LSTM and a GRU of equal parameter count (conf/synth_{lstm,gru}.yaml)"
  for model in lstm gru; do
    gatescope train --config ../../conf/synth_$model.yaml --out exp/$model --auto-resume progress_bar=$progress
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: decode dev and test (greedy and beam 8), PER on 39 phones"
  for model in lstm gru; do
    for split in dev test; do
      gatescope decode --model exp/$model --data data/$split
    done
    gatescope decode --model exp/$model --data data/test --beam 8
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "Stage 6: summary"
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi
