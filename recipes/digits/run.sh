#!/usr/bin/env bash
# Real recorded speech: the Free Spoken Digit Dataset (CC BY-SA 4.0), its recordings/ folder given by --fsdd DIR.
# Word-level CTC over the ten digit words; trained on three speakers, tested on the fourth (speaker-disjoint).
#
#   recipes/digits/run.sh [--fsdd DIR] [--test-speaker theo] [--stage N] [--stop-stage N] [--jobs J] [--noise-dir DIR]
#
# Stage 4 writes a noise-robustness report with PocketSphinx (its own US-English model, restricted to the ten
# words) decoding the same noisy audio as an anchor.
#
# Outputs go under recipes/digits/data/ and exp/ (safe to delete).
set -euo pipefail

stage=0
stop_stage=100
jobs=2
fsdd=
test_speaker=theo
progress=true
noise_dir=

. "$(dirname "$0")/../parse_options.sh"
[ -n "$fsdd" ] || { echo "run.sh: --fsdd DIR is required (the Free Spoken Digit Dataset's recordings/ folder)" >&2; exit 2; }
for name in fsdd noise_dir; do  # folders given on the command line, made absolute before the recipe cds
  dir=${!name}
  [ -z "$dir" ] || [ -d "$dir" ] || { echo "run.sh: --${name//_/-} $dir: no such directory" >&2; exit 2; }
  [ -z "$dir" ] || printf -v "$name" '%s' "$(cd "$dir" && pwd)"
done

cd "$(dirname "$0")"
. ../path.sh

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [digits] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: data dirs from $fsdd (test speaker: $test_speaker)"
  gatescope prepare digits "$fsdd" data --test-speaker "$test_speaker"
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: 8 kHz fbank (23 bins), CMVN stats"
  for split in train dev test; do
    gatescope features data/$split --jobs $jobs sample_rate=8000 num_mel_bins=23
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: train LSTM and GRU word-CTC models"
  for model in lstm gru; do
    gatescope train --config conf/$model.yaml --out exp/$model --auto-resume progress_bar=$progress
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: WER on the held-out speaker"
  for model in lstm gru; do
    gatescope decode --model exp/$model --data data/test
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: noise-robustness report with the PocketSphinx anchor (babble from the training speakers)"
  noises=white,pink,babble
  if [ -n "$noise_dir" ]; then
    noises=$noises,file:$noise_dir
  else
    log "recorded-noise condition skipped (pass --noise-dir DIR with recorded noises)"
  fi
  quiet=$([ "$progress" = true ] || echo --quiet)
  gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/robustness \
    --noise $noises --snr clean,20,10,5,0 --babble-data data/train $quiet
fi
