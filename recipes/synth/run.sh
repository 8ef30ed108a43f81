#!/usr/bin/env bash
# The embedded default recipe: synthetic TIMIT-style corpus -> Kaldi data dirs -> features.
# (Training, decoding and the robustness/analysis report stages come with the training issue.)
#
#   recipes/synth/run.sh [--stage N] [--stop-stage N] [--jobs J] [--speakers S] [--utts-per-speaker U] [--seed X]
#
# Outputs go under recipes/synth/data/ (safe to delete). Every stage can be re-run; finished work is kept.
set -euo pipefail

stage=0
stop_stage=100
jobs=2
speakers=16
test_speakers=4
utts_per_speaker=30
seed=0

while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --speakers) speakers=$2; shift 2 ;;
    --test-speakers) test_speakers=$2; shift 2 ;;
    --utts-per-speaker) utts_per_speaker=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")"
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
  log "Done. Corpus summary: $corpus/DOC/SUMMARY.json; features: data/{train,dev,test}/feats.scp"
fi
