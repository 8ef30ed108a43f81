#!/usr/bin/env bash
# Real read speech on a laptop: CMU's AN4 census database (about an hour of real speech from 74 speakers, 16 kHz
# SPHERE; the smallest real recipe of Kaldi, ESPnet and NeMo). Character CTC LSTM and GRU, a word trigram LM from
# the training transcripts, WER with and without it, both reports, and the model to use with a real voice:
#
#   recipes/an4/run.sh --an4 DIR [--stage N] [--stop-stage N] [--jobs J]
#   gatescope stream --model recipes/an4/exp/gru --mic        # then say "ENTER SIX TWO FOUR" or spell a name
#
# --an4 DIR is the an4/ folder of CMU's an4_sphere.tar.gz
# (http://www.speech.cs.cmu.edu/databases/an4/an4_sphere.tar.gz, 64 MB; unpack it with tar xzf).
# Outputs go under recipes/an4/data/ and exp/ (safe to delete).
set -euo pipefail

stage=0
stop_stage=100
jobs=2
an4=
progress=true

. "$(dirname "$0")/../parse_options.sh"
[ -n "$an4" ] || { echo "run.sh: --an4 DIR is required (the an4/ folder of an4_sphere.tar.gz)" >&2; exit 2; }
[ -d "$an4" ] || { echo "run.sh: --an4 $an4: no such directory" >&2; exit 2; }
an4=$(cd "$an4" && pwd)
cd "$(dirname "$0")"
. ../path.sh
quiet=$([ "$progress" = true ] || echo --quiet)
log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [an4] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: Kaldi data dirs from $an4 (test speaker-disjoint as distributed; dev: 4 training speakers)"
  gatescope prepare an4 "$an4" data $quiet
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: word trigram LM (modified Kneser-Ney) from the training transcripts -> data/lang"
  cut -d' ' -f2- data/train/text > data/lm_text.txt
  gatescope lm --text data/lm_text.txt --order 3 --out data/lang --words-from data/train
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: 40-dim fbank and CMVN stats"
  for split in train dev test; do
    gatescope features data/$split --jobs $jobs $quiet
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: train unidirectional character CTC LSTM and GRU (conf/{lstm,gru}.yaml)"
  for model in lstm gru; do
    gatescope train --config conf/$model.yaml --out exp/$model --auto-resume progress_bar=$progress
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: tune the LM weight on dev, then WER on test without and with the LM"
  for model in lstm gru; do
    gatescope tune-lm --model exp/$model --data data/dev --lang data/lang $quiet
    gatescope decode --model exp/$model --data data/test
    gatescope decode --model exp/$model --data data/test --lang data/lang
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: noise-robustness report (PocketSphinx's own model as the anchor) and memory analysis on test"
  gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/robustness \
    --noise white,pink,babble,reverb --snr clean,20,10,5,0 --jobs $jobs $quiet
  gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis $quiet
  log "Reports: $PWD/exp/robustness/report.html and $PWD/exp/analysis/report.html"
  log "Stream your own voice: gatescope stream --model $PWD/exp/gru --mic"
fi
