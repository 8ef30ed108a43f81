"""Fbank extraction speed on one core: gatescope's Kaldi fbank beside torchaudio's ``compliance.kaldi.fbank`` (the
same features, which gatescope called before it kept its constants) and librosa's mel spectrogram, on whole
utterances and, as a streaming front end computes them, on the frames that each 100 ms chunk completes.

All run on the same audio in the same process, so the ratios are measured side by side.

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
import torchaudio.compliance.kaldi as kaldi
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
    fbank_config = FeatureConfig(dither=0.0)  # as the torchaudio call below: the same work

    def ours(audio: np.ndarray) -> None:
        compute_features(audio, fbank_config)

    def theirs(audio: np.ndarray) -> None:
        mel = librosa.feature.melspectrogram(
            y=audio, sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40, center=False
        )
        np.log(np.maximum(mel, 1e-10))

    def torchaudio_kaldi(audio: np.ndarray) -> None:
        kaldi.fbank(torch.from_numpy(audio).unsqueeze(0) * 32768.0, num_mel_bins=40, dither=0.0)

    # A streaming front end's calls: each 100 ms chunk completes 10 frames, computed from the samples they span.
    window, shift = fbank_config.frame_samples()
    chunk_frames = 10
    span = (chunk_frames - 1) * shift + window
    pieces = [a[o : o + span] for a in audios for o in range(0, len(a) - span + 1, chunk_frames * shift)]

    for fn in (ours, theirs, torchaudio_kaldi):  # warm up (librosa's filterbank cache, torch kernels)
        fn(audios[0])
    t_ours, t_librosa, t_kaldi = _time(ours, audios), _time(theirs, audios), _time(torchaudio_kaldi, audios)
    c_ours, c_kaldi = _time(ours, pieces), _time(torchaudio_kaldi, pieces)
    write_result(
        "fbank_speed",
        {
            "audio_seconds": round(seconds, 1),
            "gatescope_kaldi_fbank_x_real_time_per_core": round(seconds / t_ours, 1),
            "librosa_log_mel_x_real_time_per_core": round(seconds / t_librosa, 1),
            "gatescope_over_librosa_speed_ratio": round(t_librosa / t_ours, 2),
            "torchaudio_kaldi_fbank_x_real_time_per_core": round(seconds / t_kaldi, 1),
            "gatescope_over_torchaudio_kaldi_speed_ratio": round(t_kaldi / t_ours, 2),
            "streaming_chunks": len(pieces),
            "streaming_gatescope_ms_per_100ms_chunk": round(1000 * c_ours / len(pieces), 3),
            "streaming_torchaudio_kaldi_ms_per_100ms_chunk": round(1000 * c_kaldi / len(pieces), 3),
            "streaming_gatescope_over_torchaudio_kaldi_speed_ratio": round(c_kaldi / c_ours, 2),
            "settings": "40 mel bins, 25 ms window, 10 ms shift, 16 kHz, torch threads 1",
        },
    )


if __name__ == "__main__":
    main()
