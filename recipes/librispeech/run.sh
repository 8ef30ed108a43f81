#!/usr/bin/env bash
# LibriSpeech (CC BY 4.0): real read speech at scale. Unidirectional character CTC LSTM and GRU that
# `gatescope stream` runs, a word trigram LM from the training transcripts, WER on dev/test clean and other with
# and without the LM, and the robustness and memory-analysis reports on real speech.
#
#   recipes/librispeech/run.sh [--subset mini|100|360|960] [--librispeech DIR] [--devices N] [--jobs J]
#
# --subset mini: Mini LibriSpeech (openslr 31: train-clean-5, dev-clean-2), a laptop CPU's size; give its
#   unpacked LibriSpeech/ folder with --librispeech DIR.
# --subset 100|360|960: train-clean-100 (+ train-clean-360 (+ train-other-500)); without --librispeech DIR the
#   subsets are downloaded from openslr 12 and checked against the MD5 sums openslr publishes
#   (gatescope download, conf/downloads.yaml). --devices N trains on N GPUs with Lightning's DDP.
# Expected figures for such models are in recipes/librispeech/README.md. Outputs go under recipes/librispeech/
# downloads/, data/ and exp/ (safe to delete).
set -euo pipefail

stage=0
stop_stage=100
jobs=2
subset=mini
librispeech=
devices=1
progress=true

. "$(dirname "$0")/../parse_options.sh"
case $subset in
  mini) train_sets="train_clean_5"; dev=dev_clean_2; tests="dev_clean_2" ;;
  100) train_sets="train_clean_100"; dev=dev_clean; tests="dev_clean dev_other test_clean test_other" ;;
  360) train_sets="train_clean_100 train_clean_360"; dev=dev_clean; tests="dev_clean dev_other test_clean test_other" ;;
  960) train_sets="train_clean_100 train_clean_360 train_other_500"; dev=dev_clean
       tests="dev_clean dev_other test_clean test_other" ;;
  *) echo "run.sh: --subset must be mini, 100, 360 or 960, got $subset" >&2; exit 2 ;;
esac
if [ -n "$librispeech" ]; then
  [ -d "$librispeech" ] || { echo "run.sh: --librispeech $librispeech: no such directory" >&2; exit 2; }
  librispeech=$(cd "$librispeech" && pwd)
elif [ "$subset" = mini ]; then
  echo "run.sh: --subset mini needs --librispeech DIR (Mini LibriSpeech from openslr.org/31, unpacked)" >&2; exit 2
fi
cd "$(dirname "$0")"
. ../path.sh
present() { for split in "$@"; do [ ! -d "data/$split" ] || printf '%s ' "$split"; done; }  # sets a copy lacks
quiet=$([ "$progress" = true ] || echo --quiet)
log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [librispeech] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  if [ -n "$librispeech" ]; then
    log "Stage 0: Kaldi data dirs from $librispeech"
    gatescope prepare librispeech "$librispeech" data $quiet
  else
    log "Stage 0: download (pinned MD5s) and Kaldi data dirs"
    for name in $train_sets $tests; do
      resource=librispeech-$(echo "$name" | tr _ -)
      gatescope download "$resource" --out downloads --extract $quiet
      gatescope prepare librispeech "downloads/$resource/LibriSpeech" data $quiet
    done
  fi
  set -- $train_sets
  if [ $# -gt 1 ]; then
    gatescope combine-data data/train $(printf "data/%s " $train_sets)
  else
    rm -rf data/train && cp -r "data/$1" data/train
  fi
fi

[ ! -d data ] || tests=$(present $tests)
if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: word trigram LM from the training transcripts -> data/lang"
  cut -d' ' -f2- data/train/text > data/lm_text.txt
  gatescope lm --text data/lm_text.txt --order 3 --out data/lang --words-from data/train
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: 40-dim fbank and CMVN stats"
  for split in train $tests; do
    gatescope features data/$split --jobs $jobs $quiet
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: train unidirectional character CTC LSTM and GRU (conf/{lstm,gru}.yaml) on $devices device(s)"
  ddp=$([ "$devices" -gt 1 ] && echo "devices=$devices strategy=ddp" || true)
  for model in lstm gru; do
    gatescope train --config conf/$model.yaml --out exp/$model --auto-resume progress_bar=$progress \
      valid_dir=data/$dev $ddp
  done
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: tune the LM weight on $dev, then WER on $tests without and with the LM"
  for model in lstm gru; do
    gatescope tune-lm --model exp/$model --data data/$dev --lang data/lang $quiet
    for split in $tests; do
      gatescope decode --model exp/$model --data data/$split
      gatescope decode --model exp/$model --data data/$split --lang data/lang
    done
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  last=$(echo $tests | awk '{print $NF}')
  log "Stage 5: robustness (PocketSphinx anchor) and memory analysis on $last"
  gatescope robustness --model exp/lstm --model exp/gru --data data/$last --out exp/robustness \
    --noise white,pink,babble,reverb --snr clean,20,10,5,0 --jobs $jobs $quiet
  gatescope analyze --model exp/lstm --model exp/gru --data data/$last --out exp/analysis $quiet
  log "Reports: $PWD/exp/robustness/report.html and $PWD/exp/analysis/report.html"
fi
