#!/usr/bin/env bash
# WSJ-style word recognition: character CTC LSTM and GRU, a trigram LM (modified Kneser-Ney) and lexicon-constrained
# beam search, WER on dev93 and eval92 with and without the LM, then the robustness and memory-analysis reports.
# Runs on the embedded WSJ-style corpus by default; give --wsj0 (and --wsj1) for the real LDC corpus.
#
#   recipes/wsj/run.sh [--wsj0 DIR --wsj1 DIR] [--lm-text FILE] [--stage N] [--stop-stage N] [--jobs J]
#                      [--speakers S] [--utts-per-speaker U] [--progress true|false]
#
# Outputs go under recipes/wsj/data/ and exp/ (safe to delete). Every stage can be re-run.
set -euo pipefail

stage=0
stop_stage=100
jobs=2
wsj0=
wsj1=
lm_text=       # LM training text (default: the embedded corpus's held-out text, or the training transcripts)
speakers=40
utts_per_speaker=25
progress=true

. "$(dirname "$0")/../parse_options.sh"

cd "$(dirname "$0")"
. ../path.sh

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [wsj] $*"; }
quiet=$([ "$progress" = true ] || echo --quiet)
train=train_si284
if [ -z "$wsj0" ]; then
  corpus=data/corpus
  wsj0=$corpus
  wsj1=$corpus
  lm_text=${lm_text:-$corpus/lm/lm_text.txt}
fi

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ] && [ "$wsj0" = data/corpus ]; then
  log "Stage 0: embedded WSJ-style corpus -> data/corpus"
  gatescope corpus wsj-synth data/corpus --speakers $speakers --utts-per-speaker $utts_per_speaker --jobs $jobs $quiet
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: Kaldi data dirs from the LDC layout -> data/{train_si84,train_si284,dev93,eval92}"
  gatescope prepare wsj "$wsj0" ${wsj1:+"$wsj1"} data $quiet
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: trigram LM (modified Kneser-Ney) and character lexicon -> data/lang"
  if [ -z "$lm_text" ]; then  # real WSJ without an LM text: the training transcripts
    cut -d' ' -f2- data/$train/text > data/lm_text_from_train.txt
    lm_text=data/lm_text_from_train.txt
  fi
  gatescope lm --text "$lm_text" --order 3 --out data/lang --words-from data/$train
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: 40-dim fbank and CMVN stats"
  for split in $train dev93 eval92; do
    gatescope features data/$split --jobs $jobs $quiet
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: train character CTC LSTM and GRU of equal size (conf/{lstm,gru}.yaml)"
  for model in lstm gru; do
    gatescope train --config conf/$model.yaml --out exp/$model --auto-resume progress_bar=$progress \
      train_dir=data/$train
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: tune the LM weight and word score on dev93, then decode dev93 and eval92 without and with the LM"
  for model in lstm gru; do
    gatescope tune-lm --model exp/$model --data data/dev93 --lang data/lang $quiet
    for split in dev93 eval92; do
      gatescope decode --model exp/$model --data data/$split
      gatescope decode --model exp/$model --data data/$split --lang data/lang
    done
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "Stage 6: noise-robustness report on eval92 (greedy decoding; the PocketSphinx anchor runs in the digits recipe)"
  gatescope robustness --model exp/lstm --model exp/gru --data data/eval92 --out exp/robustness \
    --noise white,pink,babble --snr clean,20,10,5,0 --anchor none $quiet
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  log "Stage 7: memory analysis on eval92 (forgetting speed, distributions, saturation; no phone labels here)"
  gatescope analyze --model exp/lstm --model exp/gru --data data/eval92 --out exp/analysis $quiet
  log "Reports: $PWD/exp/robustness/report.html and $PWD/exp/analysis/report.html"
fi
