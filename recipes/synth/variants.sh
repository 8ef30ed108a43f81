#!/usr/bin/env bash
# Greff et al.'s LSTM variant study in miniature, on the embedded corpus: every cell kind trained with the same
# budget (epochs, layers, units, seed) from conf/variants.yaml, then decoded on the core test set.
# Writes exp/variants/results.md: cell, parameter count, test PER.
#
#   recipes/synth/variants.sh [--kinds "lstm gru rnn np nig nfg nog niaf noaf cifg fgr lazy"] [key=value ...]
#
# Run recipes/synth/run.sh --stop-stage 3 first (corpus, data dirs, features). Overrides apply to every kind,
# e.g. max_epochs=10 hidden_size=128 for a quicker study.
set -euo pipefail

kinds="lstm gru rnn np nig nfg nog niaf noaf cifg fgr lazy"
. "$(dirname "$0")/../parse_options.sh"

cd "$(dirname "$0")"
. ../path.sh

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') [variants] $*"; }

experiments=()
for kind in $kinds; do
  out=exp/variants/$kind
  log "training $kind"
  gatescope train --config conf/variants.yaml --out $out --auto-resume cell=$kind progress_bar=false "$@"
  gatescope decode --model $out --data data/test
  experiments+=($out)
done
gatescope results "${experiments[@]}" | tee exp/variants/results.md
