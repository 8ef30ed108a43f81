"""Noise sources besides coloured noise: babble, recorded noise files, mains hum and impulsive clicks.

Every source returns ``(num_samples,)`` float32 at RMS :data:`~gatescope.noise.colored.REFERENCE_RMS`, reproducible
by ``seed``; mixing sets the final level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF
from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.colored import REFERENCE_RMS
from gatescope.noise.mixing import active_mask, fit_length

NOISE_FILE_SUFFIXES = (".wav", ".flac", ".ogg")


def normalize_rms(signal: Tensor, rms: float = REFERENCE_RMS) -> Tensor:
    """``signal`` (float64 internally) scaled to the given RMS, as float32."""
    current = signal.double().pow(2).mean().sqrt()
    if current <= 0:
        raise InputError("cannot normalise a silent noise signal")
    return (signal.double() * (rms / current)).float()


def load_noise_files(source: Path, sample_rate: int) -> list[tuple[str, Tensor]]:
    """The recordings in a folder (``*.wav``, ``*.flac``, ``*.ogg``; MUSAN/NOISEX-style) or one file, as mono
    float32 at ``sample_rate`` (channels averaged, resampled when needed), sorted by name."""
    paths = (
        sorted(p for p in source.rglob("*") if p.suffix.lower() in NOISE_FILE_SUFFIXES) if source.is_dir() else [source]
    )
    if not source.exists():
        raise InputError(f"{source}: no such noise file or folder")
    if not paths:
        raise InputError(f"{source}: no .wav/.flac/.ogg noise files in this folder")
    out = []
    for path in paths:
        try:
            audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            raise InputError(f"{path}: unreadable noise file ({err})") from None
        if audio.shape[0] == 0 or not np.any(audio):
            raise InputError(f"{path}: noise file is empty or silent")
        wave = torch.from_numpy(audio.mean(axis=1))
        if rate != sample_rate:
            wave = AF.resample(wave, rate, sample_rate)
        out.append((str(path), wave))
    return out


def file_noise(recordings: Sequence[Tensor], num_samples: int, seed: int = 0) -> Tensor:
    """One of ``recordings`` (chosen by ``seed``), from a random offset, looped or cropped to ``num_samples``."""
    if not recordings:
        raise InputError("no noise recordings to draw from")
    rng = np.random.default_rng(seed)
    wave = recordings[int(rng.integers(len(recordings)))]
    return normalize_rms(fit_length(wave, num_samples, int(rng.integers(wave.shape[-1]))))


def babble(utterances: Sequence[Tensor], num_samples: int, num_talkers: int = 5, seed: int = 0) -> Tensor:
    """Babble: ``num_talkers`` utterances (other speakers' speech) with their silences removed, each looped from a
    random offset and scaled to equal power, summed.

    Args:
        utterances: the pool to draw from (the caller leaves out the target speaker).
    """
    if not utterances:
        raise InputError("babble needs a pool of other speakers' utterances")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(utterances), size=num_talkers, replace=len(utterances) < num_talkers)
    total = torch.zeros(num_samples, dtype=torch.float64)
    for index in picks:
        wave = utterances[int(index)]
        voiced = wave[active_mask(wave)]
        if voiced.numel() == 0:
            raise InputError("babble pool holds a silent utterance")
        total += normalize_rms(fit_length(voiced, num_samples, int(rng.integers(voiced.numel())))).double()
    return normalize_rms(total)


def hum(
    num_samples: int, sample_rate: int = 16000, frequency: float = 50.0, harmonics: int = 8, start: int = 0
) -> Tensor:
    """Mains hum: a fundamental (50 or 60 Hz) and its harmonics with amplitude ``1/k``, from sample ``start``."""
    n = torch.arange(start, start + num_samples, dtype=torch.float64)
    wave = torch.zeros(num_samples, dtype=torch.float64)
    for k in range(1, harmonics + 1):
        if k * frequency < sample_rate / 2:
            wave += torch.sin(2 * math.pi * k * frequency * n / sample_rate) / k
    return normalize_rms(wave)


def clicks(num_samples: int, sample_rate: int = 16000, rate_hz: float = 4.0, seed: int = 0) -> Tensor:
    """Impulsive noise: clicks at Poisson times (``rate_hz`` per second on average), each a 5 ms burst of white
    noise under a 0.5 ms exponential decay with a random amplitude in [0.2, 1]."""
    rng = np.random.default_rng(seed)
    wave = np.zeros(num_samples)
    length = max(1, sample_rate // 200)
    envelope = np.exp(-np.arange(length) / (0.0005 * sample_rate))
    count = max(1, int(rng.poisson(rate_hz * num_samples / sample_rate)))
    for position in rng.integers(0, num_samples, size=count):
        end = min(num_samples, int(position) + length)
        burst = rng.uniform(0.2, 1.0) * envelope * rng.standard_normal(length)
        wave[position:end] += burst[: end - position]
    return normalize_rms(torch.from_numpy(wave))
