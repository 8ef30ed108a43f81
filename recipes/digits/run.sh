#!/usr/bin/env bash
# Digits that stream: unidirectional (streamable) LSTM and GRU word-CTC models over the ten digit words, trained on
# synthetic spoken digits and digit strings from many voices (eSpeak NG, flite, festival and Piper, recipes/digits/conf/
# digits_lexicon.yaml) plus the real training speakers of the Free Spoken Digit Dataset (CC BY-SA 4.0, its
# recordings/ folder given by --fsdd DIR, else downloaded: release v1.0.10, pinned by its git tree hash), and tested
# on FSDD's held-out speaker, clean and under noise, with PocketSphinx's digit grammar decoding the same noisy audio
# as the anchor.
#
#   recipes/digits/run.sh [--fsdd DIR] [--test-speaker theo] [--stage N] [--stop-stage N] [--jobs J]
#                         [--noise-dir DIR] [--synth-speakers S]
#
# Then:  gatescope stream --model recipes/digits/exp/gru --wav some_digit.wav
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
synth_speakers=48  # synthetic voices (eSpeak NG, flite, festival and Piper in turn, where installed), 30 prompts each

. "$(dirname "$0")/../parse_options.sh"
for name in fsdd noise_dir; do  # folders given on the command line, made absolute before the recipe cds
  dir=${!name}
  [ -z "$dir" ] || [ -d "$dir" ] || { echo "run.sh: --${name//_/-} $dir: no such directory" >&2; exit 2; }
  [ -z "$dir" ] || printf -v "$name" '%s' "$(cd "$dir" && pwd)"
done

cd "$(dirname "$0")"
. ../path.sh

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [digits] $*"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  if [ -z "$fsdd" ]; then  # no local copy: the pinned release, downloaded once (a one-line error offline)
    log "Stage 0: download the Free Spoken Digit Dataset (pinned release) -> downloads/fsdd"
    gatescope download fsdd --out downloads --extract $([ "$progress" = true ] || echo --quiet)
    fsdd=$(cd downloads/fsdd/*/recordings && pwd)
  fi
  log "Stage 0: synthetic spoken digits ($synth_speakers voices) and the FSDD data dirs (test speaker: $test_speaker)"
  gatescope corpus synth data/synth_corpus --lexicon conf/digits_lexicon.yaml --speakers $synth_speakers \
    --test-speakers 2 --utts-per-speaker 30 --sample-rate 8000 --jobs $jobs --quiet > /dev/null
  gatescope prepare timit data/synth_corpus data/synth --sample-rate 8000 --quiet
  for split in train dev test; do cp data/synth/$split/text.wrd data/synth/$split/text; done  # word targets
  gatescope prepare digits "$fsdd" data/fsdd --test-speaker "$test_speaker"
  gatescope combine-data data/train data/synth/train data/synth/dev data/synth/test data/fsdd/train
  rm -rf data/dev data/test
  cp -r data/fsdd/dev data/dev
  cp -r data/fsdd/test data/test
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
  log "Stage 3: WER on the held-out speaker: offline, and streamed after 0.5 s of silence (as a microphone hears it)"
  for model in lstm gru; do
    gatescope decode --model exp/$model --data data/test
    # FSDD's clips start at the word's first sample; a model that decides at its first frame fails behind silence.
    # Each recording on its own (online CMVN from the training statistics), then as one session of the speaker's
    # recordings (the online CMVN adapts to the voice and microphone, as a live session at a microphone does).
    gatescope score-real --model exp/$model --data data/test --lead-silence 0.5 --out exp/$model/real_lead_silence \
      $([ "$progress" = true ] || echo --quiet)
    gatescope score-real --model exp/$model --data data/test --lead-silence 0.5 --speaker-adapt \
      --out exp/$model/real_session $([ "$progress" = true ] || echo --quiet) \
      $([ "$model" = gru ] && echo --anchor pocketsphinx)  # and PocketSphinx's digit grammar on the same audio
    # The task's grammar, as PocketSphinx decodes it: one digit per recording (the best path with one word).
    gatescope decode --model exp/$model --data data/test --max-words 1
    gatescope score-real --model exp/$model --data data/test --lead-silence 0.5 --speaker-adapt --max-words 1 \
      --out exp/$model/real_session_1word $([ "$progress" = true ] || echo --quiet)
  done
  gatescope results exp/lstm exp/gru | tee exp/results.md
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: noise-robustness report, one digit per recording, with the PocketSphinx anchor's same grammar"
  quiet=$([ "$progress" = true ] || echo --quiet)
  noises=white,pink,babble
  recorded=$(recorded_noise "$noise_dir")  # --noise-dir, else one pinned recording downloaded (recipes/path.sh)
  if [ -n "$recorded" ]; then
    noises=$noises,file:$recorded
  else
    log "recorded-noise condition skipped: no download (pass --noise-dir DIR with recorded noises)"
  fi
  gatescope robustness --model exp/lstm --model exp/gru --data data/test --out exp/robustness \
    --noise $noises --snr clean,20,10,5,0 --babble-data data/train --max-words 1 $quiet
fi
