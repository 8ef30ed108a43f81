#!/usr/bin/env bash
# The embedded default recipe: synthetic TIMIT-style corpus -> Kaldi data dirs -> features -> LSTM and GRU CTC
# models of equal size -> decoding -> summary table -> noise-robustness report -> memory analysis.
#
#   recipes/synth/run.sh [--stage N] [--stop-stage N] [--jobs J] [--speakers S] [--utts-per-speaker U] [--seed X]
#                        [--progress true|false] [--noise-dir DIR] [--mct true|false] [--fsdd DIR]
#                        [--backends espeak,flite,piper|auto|...]
#
# The robustness report's recorded-noise condition uses --noise-dir DIR (recorded noises, e.g. Speech Commands'
# _background_noise_ folder, CC BY 4.0), else one recording of it downloaded from a pinned source (3 MB, SHA-256);
# offline, that condition is skipped with one line.
#
# Stage 5's real-speech check: every model streams the real recordings of the Free Spoken Digit Dataset and is
# scored at phone level (column "PER real (FSDD)" of the results). FSDD is downloaded (release v1.0.10, pinned by
# its git tree hash, 15 MB) unless --fsdd DIR gives its recordings/ folder; offline, the check is skipped in one line.
#
# --mct true also trains multi-condition (noise-augmented) twins, exp/lstm_mct and exp/gru_mct (half the training
# utterances mixed on the fly with white, pink or babble noise at 0-20 dB; 40 epochs, as noisy data takes longer
# to leave the all-blank start), and puts them in the robustness report.
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
mct=false
backends=espeak,flite,piper  # festival measured worse on real speech here, Piper better (README "Real speech")
fsdd=  # real recordings for the real-speech check (FSDD's recordings/ folder); none: the check is skipped
noise_dir=  # a folder of recorded noises for the robustness stage; none: that condition is skipped

. "$(dirname "$0")/../parse_options.sh"
for name in fsdd noise_dir; do  # folders given on the command line, made absolute before the recipe cds
  dir=${!name}
  [ -z "$dir" ] || [ -d "$dir" ] || { echo "run.sh: --${name//_/-} $dir: no such directory" >&2; exit 2; }
  [ -z "$dir" ] || printf -v "$name" '%s' "$(cd "$dir" && pwd)"
done

cd "$(dirname "$0")"
. ../path.sh
corpus=data/corpus
models="lstm gru"
[ "$mct" = true ] && models="$models lstm_mct gru_mct"

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [synth] $*"; }
stage_name=
stage_started=$SECONDS
begin() {  # begin N TITLE: the stage's line, after the wall time of the stage before it
  finish_stage
  stage_name="Stage $1"; stage_started=$SECONDS
  log "Stage $1: $2"
}
finish_stage() { [ -z "$stage_name" ] || log "$stage_name done in $((SECONDS - stage_started)) s"; stage_name=; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  begin 0 "synthetic corpus -> $corpus"
  if [[ ",$backends," == *,flite,* ]] && ! command -v flite > /dev/null; then
    backends=$(echo ",$backends," | sed 's/,flite,/,/; s/^,//; s/,$//')
    log "flite is not installed: the corpus is spoken by $backends (make setup installs flite as root)"
  fi
  gatescope corpus synth $corpus --speakers $speakers --test-speakers $test_speakers --backends $backends \
    --utts-per-speaker $utts_per_speaker --seed $seed --jobs $jobs
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  begin 1 "Kaldi data dirs (train/dev/test, validated) -> data/"
  gatescope prepare timit $corpus data
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  begin 2 "narrow-band MFCC (conf/features.yaml), CMVN stats and frame labels"
  for split in train dev test; do
    gatescope features data/$split --jobs $jobs --config conf/features.yaml
  done
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  begin 3 "validate the data dirs with their features"
  for split in train dev test; do
    gatescope validate-data data/$split
  done
fi

# With --jobs 2 or more the LSTM and the GRU train (and decode) side by side, each on half the cores: two
# one-thread trainings on 2 cores finish sooner than two two-thread ones in turn (PyTorch's threads gain little on
# their small per-frame products). The LSTM runs in the background, its output in exp/lstm_<stage>.log.
threads=$(( $(nproc) / 2 )); [ "$threads" -ge 1 ] || threads=1
background=
trap '{ [ -z "$background" ] || kill "$background" || true; } 2> /dev/null' EXIT  # a failed GRU stops the LSTM
run_lstm_beside() {  # run_lstm_beside FUNCTION: FUNCTION lstm in the background and FUNCTION gru here (--jobs 1: in turn)
  if [ "$jobs" -lt 2 ]; then "$1" lstm; "$1" gru; return; fi
  mkdir -p exp
  OMP_NUM_THREADS=$threads "$1" lstm > "exp/lstm_$1.log" 2>&1 &
  background=$!
  OMP_NUM_THREADS=$threads "$1" gru
  local status=0
  wait "$background" || status=$?
  background=
  [ "$status" = 0 ] || { tail -n 20 "exp/lstm_$1.log" >&2; log "the LSTM failed (all of it: exp/lstm_$1.log)"; exit 1; }
  cat "exp/lstm_$1.log"
}

train_model() {
  gatescope train --config conf/$1.yaml --out exp/$1 --auto-resume progress_bar=$([ "$1" = gru ] && echo $progress || echo false)
}

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  begin 4 "train a unidirectional LSTM and a GRU of equal parameter count (conf/{lstm,gru}.yaml)"
  run_lstm_beside train_model
  if [ "$mct" = true ]; then
    for model in lstm gru; do
      gatescope train --config conf/$model.yaml --out exp/${model}_mct --auto-resume \
        progress_bar=$progress noise_prob=0.5 noise_types=white,pink,babble noise_snr_min=0 noise_snr_max=20 max_epochs=40
    done
  fi
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  begin 5 "decode dev and test (greedy and beam 8), PER on 39 phones"
  decode_model() {
    for split in dev test; do
      gatescope decode --model exp/$1 --data data/$split
    done
    gatescope decode --model exp/$1 --data data/test --beam 8
  }
  run_lstm_beside decode_model
  for model in $models; do
    case $model in lstm|gru) ;; *) decode_model $model ;; esac
  done
  if [ -z "$fsdd" ]; then  # no local copy: the pinned release; offline, one line and the check is skipped
    log "real-speech check: download the Free Spoken Digit Dataset (pinned release) -> downloads/fsdd"
    if gatescope download fsdd --out downloads --extract --quiet > /dev/null; then
      fsdd=$(cd downloads/fsdd/*/recordings && pwd)
    fi
  fi
  if [ -n "$fsdd" ]; then
    # each speaker's recordings streamed as one session: the online CMVN adapts to the voice and microphone
    log "real-speech check: stream the real FSDD recordings of $fsdd speaker by speaker, PER on 39 phones"
    gatescope prepare digits "$fsdd" data/fsdd
    score_fsdd() {  # the LSTM's run also scores PocketSphinx's phone loop on the same recordings (the anchor row)
      gatescope score-real --model exp/$1 --data data/fsdd/train --data data/fsdd/dev --data data/fsdd/test \
        --speaker-adapt --out exp/$1/real_fsdd --quiet $([ "$1" = lstm ] && echo --anchor pocketsphinx)
    }
    run_lstm_beside score_fsdd
    for model in $models; do
      case $model in lstm|gru) ;; *) score_fsdd $model ;; esac
    done
  else
    log "real-speech check skipped: no download (pass --fsdd DIR, or make demo FSDD=DIR, with FSDD's recordings/)"
  fi
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  begin 6 "summary"
  gatescope results $(printf "exp/%s " $models) | tee exp/results.md
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  begin 7 "noise-robustness report on the test set (white, pink, babble, recorded noise, reverb; bursts)"
  noises=white,pink,babble
  [ -n "$noise_dir" ] || log "recorded noise: download Speech Commands' doing_the_dishes.wav (3 MB, pinned SHA-256) -> downloads/noise"
  recorded=$(recorded_noise "$noise_dir")
  if [ -n "$recorded" ]; then
    noises=$noises,file:$recorded
  else
    log "recorded-noise condition skipped: no download (pass --noise-dir DIR, or make demo NOISE_DIR=DIR, with recordings such as Speech Commands' _background_noise_)"
  fi
  quiet=$([ "$progress" = true ] || echo --quiet)
  gatescope robustness $(printf -- "--model exp/%s " $models) --data data/test --out exp/robustness \
    --noise $noises,reverb --snr clean,20,10,5,0,-5 --bursts --jobs $jobs $quiet
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  begin 8 "memory analysis (forgetting speed, phone selectivity, distributions, saturation, t-SNE; Tang et al.)"
  quiet=$([ "$progress" = true ] || echo --quiet)
  gatescope analyze --model exp/lstm --model exp/gru --data data/test --out exp/analysis $quiet
  if [ -f data/fsdd/test/wav.scp ]; then  # stage 5's real recordings: the same analysis on real voices
    log "memory analysis on real speech: FSDD's test speaker at 16 kHz, aligned by PocketSphinx (gatescope align)"
    recordings=$(dirname "$(awk 'NR == 1 {print $2}' data/fsdd/test/wav.scp)")
    gatescope prepare digits --sample-rate 16000 "$recordings" data/fsdd16k > /dev/null
    gatescope align data/fsdd16k/test --quiet
    gatescope features data/fsdd16k/test --config conf/features.yaml --quiet
    gatescope analyze --model exp/lstm --model exp/gru --data data/fsdd16k/test --babble-data data/fsdd16k/dev \
      --out exp/analysis_fsdd $quiet
  fi
fi
finish_stage
log "Done in $SECONDS s. Written: $PWD/exp/results.md (results table), exp/<model>/ (checkpoints, decodes)"
[ -f exp/robustness/report.html ] && log "Robustness report: $PWD/exp/robustness/report.html"
[ -f exp/analysis/report.html ] && log "Memory analysis report: $PWD/exp/analysis/report.html"
[ -f exp/analysis_fsdd/report.html ] && log "Memory analysis on real speech (FSDD): $PWD/exp/analysis_fsdd/report.html"
exit 0
