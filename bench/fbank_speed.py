"""Fbank extraction speed on one core: gatescope (torchaudio Kaldi fbank) beside librosa's mel spectrogram.

Both run on the same audio in the same process, so the ratio is measured side by side.

    python bench/fbank_speed.py [--utterances 40]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch
from common import write_result

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus
from gatescope.asr.features.fbank import FeatureConfig, compute_features


def _time(fn, audios: list[np.ndarray], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for audio in audios:
            fn(audio)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utterances", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = SynthCorpusConfig(speakers=4, test_speakers=1, utts_per_speaker=max(1, args.utterances // 4))
    with tempfile.TemporaryDirectory() as tmp:
        generate_corpus(Path(tmp) / "c", config, progress=False)
        audios = [sf.read(p, dtype="float32")[0] for p in sorted(Path(tmp).glob("c/*/DR*/*/*.WAV"))]
    seconds = sum(len(a) for a in audios) / 16000
    fbank_config = FeatureConfig()

    def ours(audio: np.ndarray) -> None:
        compute_features(audio, fbank_config)

    def theirs(audio: np.ndarray) -> None:
        mel = librosa.feature.melspectrogram(
            y=audio, sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40, center=False
        )
        np.log(np.maximum(mel, 1e-10))

    ours(audios[0])
    theirs(audios[0])  # warm up both (librosa's filterbank cache, torch kernels)
    t_ours, t_librosa = _time(ours, audios), _time(theirs, audios)
    write_result(
        "fbank_speed",
        {
            "audio_seconds": round(seconds, 1),
            "gatescope_kaldi_fbank_x_real_time_per_core": round(seconds / t_ours, 1),
            "librosa_log_mel_x_real_time_per_core": round(seconds / t_librosa, 1),
            "gatescope_over_librosa_speed_ratio": round(t_librosa / t_ours, 2),
            "settings": "40 mel bins, 25 ms window, 10 ms shift, 16 kHz, torch threads 1",
        },
    )


if __name__ == "__main__":
    main()
