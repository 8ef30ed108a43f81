#!/usr/bin/env bash
# GPU figures one command away (make bench-gpu): the introspection, trainer-step and streaming benchmarks on
# CUDA, and a 1 -> N GPU DDP scaling run of the trainer when N > 1. JSON into bench/results/; on a machine
# without CUDA it says so in one line and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PY:-.venv/bin/python}
gpus=$($py -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
if [ "$gpus" = 0 ]; then
  echo "bench/gpu.sh: skipped: no CUDA device here (torch.cuda.is_available() is False)"
  exit 0
fi
echo "bench/gpu.sh: $gpus CUDA device(s): $($py -c 'import torch; print(torch.cuda.get_device_name(0))')"
$py bench/cells_speed.py --device cuda
$py bench/train_speed.py --layers 4 --hidden 320
$py bench/train_speed.py --layers 3 --hidden 256 --frame-stack 3 --batch-size 8
if [ -f recipes/synth/exp/gru/best.ckpt ]; then
  $py bench/stream_speed.py
else
  echo "bench/stream_speed.py: skipped (run make demo first for its models)"
fi
if [ "$gpus" -gt 1 ]; then
  for n in $(seq 1 "$gpus"); do
    $py bench/train_speed.py --layers 4 --hidden 320 --devices "$n" --strategy ddp
  done
fi
