#!/usr/bin/env bash
# TIMIT recipe (LDC93S1): data dirs and features from a real TIMIT copy.
# (Training and decoding stages, 4x320 LSTM/GRU on 40 fbank + deltas, come with the training issue.)
#
#   recipes/timit/run.sh --timit-root /path/to/TIMIT [--stage N] [--stop-stage N] [--jobs J]
#
# TIMIT_ROOT holds TRAIN/ and TEST/ (either case). Outputs go under recipes/timit/data/.
set -euo pipefail

stage=0
stop_stage=100
jobs=2
timit_root=

while [ $# -gt 0 ]; do
  case "$1" in
    --timit-root) timit_root=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$timit_root" ]; then
  echo "$0: --timit-root is required (the folder with TRAIN/ and TEST/)" >&2
  exit 2
fi
timit_root=$(cd "$timit_root" && pwd)
cd "$(dirname "$0")"

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
  log "Stage 2: validate the data dirs"
  for split in train dev test; do
    gatescope validate-data data/$split
  done
fi
