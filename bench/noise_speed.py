"""Noise speed on one CPU core: mixing at an SNR, burst insertion, stream perturbation and noise generation,
in multiples of real time, over utterance-length signals (3 s at 16 kHz), side by side in one run.

    python bench/noise_speed.py [--utterances 200] [--seconds 3.0]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from common import best_time, write_result

import gatescope.noise as gn

SAMPLE_RATE = 16000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = int(args.seconds * SAMPLE_RATE)
    rng = np.random.default_rng(0)
    speech = [torch.from_numpy((0.1 * rng.standard_normal(n)).astype(np.float32)) for _ in range(args.utterances)]
    noise = gn.colored("pink", 30 * SAMPLE_RATE, seed=1)
    audio_s = args.utterances * args.seconds

    def mix_all(active_only: bool) -> None:
        for i, s in enumerate(speech):
            gn.mix(s, noise[i * 997 :], 5.0, active_only=active_only)

    def bursts() -> None:
        for s in speech:
            gn.insert_burst(s, noise, start_s=1.0, dur_s=0.3, snr_db=None)

    def stream() -> None:
        perturber = gn.StreamPerturber(noise=noise, snr_db=5.0, bursts=gn.BurstSchedule(1.0, 0.3, 0.5))
        for s in speech:
            for chunk in s.split(1600):  # 100 ms chunks
                perturber.process(chunk)

    def generate() -> None:
        for i in range(args.utterances):
            gn.colored("pink", n, seed=i)

    timings = {
        "mix": best_time(lambda: mix_all(False)),
        "mix_active_only": best_time(lambda: mix_all(True)),
        "insert_burst": best_time(bursts),
        "stream_100ms_chunks": best_time(stream),
        "colored_pink_generation": best_time(generate),
    }
    write_result(
        "noise_speed",
        {
            "audio_seconds": audio_s,
            "seconds": {k: round(v, 4) for k, v in timings.items()},
            "x_real_time_per_core": {k: round(audio_s / v, 1) for k, v in timings.items()},
            "target_x_real_time": 200,
        },
    )


if __name__ == "__main__":
    main()
