"""Kaldi-compatible log-mel fbank and MFCC and their settings.

In: a mono waveform in [-1, 1]. Out: ``(frames, dim)`` float32 features, framed as Kaldi does (snip edges), equal
to ``torchaudio.compliance.kaldi.fbank`` / ``mfcc`` with the same options (tests hold them to it). The constants of
a configuration (window, mel banks from torchaudio's ``get_mel_banks``, DCT, lifter) are built once and kept, so a
streaming front end that computes a few frames per call does not rebuild them every time (which cost more than
the frames: 2 ms of a 100 ms chunk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as AF
from torch import Tensor

from gatescope.config import Range, check_ranges
from gatescope.errors import ConfigError, InputError


@dataclass(frozen=True)
class FeatureConfig:
    """Feature extraction settings, named as in Kaldi (``--num-mel-bins``, ``--frame-shift``, ...)."""

    kind: str = "fbank"  # "fbank" or "mfcc"
    num_mel_bins: int = 40
    num_ceps: int = 13  # mfcc only
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    # Gaussian dither of this standard deviation in 16-bit units (Kaldi's default 1.0): exact digital silence gets a
    # noise floor instead of log(0). Deterministic: a fixed sequence indexed by sample position (dither_noise).
    dither: float = 1.0
    add_deltas: bool = False  # append delta and delta-delta (Kaldi add-deltas, window 2)
    sample_rate: int = 16000
    low_freq: float = 20.0  # mel bins span [low_freq, high_freq] Hz, as Kaldi's --low-freq / --high-freq
    # 0: the Nyquist frequency (Kaldi: <= 0 is an offset from it). 3800: narrow-band features that a 16 kHz
    # recording and an 8 kHz one (a telephone, FSDD) give alike, so a model does not depend on the band above 4 kHz.
    high_freq: float = 0.0

    RANGES: ClassVar[dict[str, Range]] = {
        "num_mel_bins": Range(1, 256),
        "num_ceps": Range(1, 256),
        "frame_length_ms": Range(1, 1000),
        "frame_shift_ms": Range(1, 1000),
        "dither": Range(0, 1000),
        "sample_rate": Range(1000, 192000),
        "low_freq": Range(0, 96000),
        "high_freq": Range(-96000, 96000),
    }

    def __post_init__(self) -> None:
        if self.kind not in ("fbank", "mfcc"):
            raise InputError(f"feature kind must be 'fbank' or 'mfcc', got {self.kind!r}")
        check_ranges(self)
        if not 0 <= self.low_freq < self.top_freq <= self.sample_rate / 2:
            raise ConfigError(
                f"mel bins need 0 <= low_freq < high_freq <= {self.sample_rate / 2:g} Hz (the Nyquist frequency), "
                f"got low_freq={self.low_freq:g}, high_freq={self.high_freq:g}"
            )
        if self.kind == "mfcc" and self.num_ceps > self.num_mel_bins:
            raise ConfigError(f"num_ceps ({self.num_ceps}) cannot exceed num_mel_bins ({self.num_mel_bins})")

    @property
    def top_freq(self) -> float:
        """The upper edge of the mel bins in Hz (``high_freq`` resolved as Kaldi does)."""
        return self.high_freq if self.high_freq > 0 else self.sample_rate / 2 + self.high_freq

    @property
    def dim(self) -> int:
        base = self.num_mel_bins if self.kind == "fbank" else self.num_ceps
        return base * (3 if self.add_deltas else 1)

    def frame_levels(self, feats: np.ndarray) -> np.ndarray:
        """Each frame's mean log mel energy (natural log of power) from ``(frames, dim)`` features of this
        config: the mean over the bins of fbank, or MFCC's c0 over ``sqrt(num_mel_bins)`` (the orthonormal DCT's
        first row, lifter 1 there). Deltas, if any, are ignored."""
        if self.kind == "fbank":
            return np.asarray(feats)[:, : self.num_mel_bins].mean(axis=1)
        return np.asarray(feats)[:, 0] / math.sqrt(self.num_mel_bins)

    def silence_level(self) -> float:
        """The mean :meth:`frame_levels` of exact digital silence (one second of zeros): the dither's level, or
        the log floor without dither."""
        return float(self.frame_levels(compute_features(np.zeros(self.sample_rate, np.float32), self).numpy()).mean())

    def frame_samples(self) -> tuple[int, int]:
        """(window length, shift) in samples."""
        return (
            int(self.sample_rate * self.frame_length_ms / 1000),
            int(self.sample_rate * self.frame_shift_ms / 1000),
        )


DITHER_TABLE_SIZE = 1 << 16


@cache
def _dither_table() -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(1).standard_normal(DITHER_TABLE_SIZE).astype(np.float32))


def dither_noise(first_sample: int, num_samples: int) -> torch.Tensor:
    """Unit-variance Gaussian dither for samples ``[first_sample, first_sample + num_samples)`` of a signal: a fixed
    table cycled by sample index, so a sample gets the same value whether the signal comes whole or in chunks."""
    index = torch.arange(first_sample, first_sample + num_samples) % DITHER_TABLE_SIZE
    return _dither_table()[index]


PREEMPHASIS = 0.97  # Kaldi's --preemphasis-coefficient
CEPSTRAL_LIFTER = 22.0  # Kaldi's --cepstral-lifter


@dataclass(frozen=True)
class _KaldiTables:
    """The constants of one feature configuration: Kaldi's povey window, the mel banks (right-multiplied), and for
    MFCC the DCT (C0 weighted sqrt(1/bins), as Kaldi's) and the cepstral lifter."""

    window: Tensor  # (window,)
    fft_size: int  # the window padded to a power of two
    mel_banks: Tensor  # (fft_size // 2 + 1, num_mel_bins); the Nyquist bin has weight 0
    dct: Tensor | None  # (num_mel_bins, num_ceps)
    lifter: Tensor | None  # (num_ceps,)


def _build_tables(config: FeatureConfig, vtln_warp: float) -> _KaldiTables:
    window, _ = config.frame_samples()
    fft_size = 1 << (window - 1).bit_length()
    banks, _ = kaldi.get_mel_banks(
        config.num_mel_bins, fft_size, float(config.sample_rate), config.low_freq, config.top_freq,
        max(100.0, config.low_freq + 10.0),  # Kaldi's default --vtln-low/-high, kept inside the bins' band
        min(config.sample_rate / 2 - 500.0, config.top_freq - 10.0), vtln_warp,
    )  # fmt: skip
    mel_banks = torch.nn.functional.pad(banks, (0, 1)).T.contiguous()
    dct = lifter = None
    if config.kind == "mfcc":
        dct = AF.create_dct(config.num_mel_bins, config.num_mel_bins, "ortho")
        dct[:, 0] = math.sqrt(1 / config.num_mel_bins)
        dct = dct[:, : config.num_ceps].contiguous()
        lifter = 1.0 + 0.5 * CEPSTRAL_LIFTER * torch.sin(math.pi * torch.arange(config.num_ceps) / CEPSTRAL_LIFTER)
    povey = torch.hann_window(window, periodic=False).pow(0.85)
    return _KaldiTables(povey, fft_size, mel_banks, dct, lifter)


@cache
def _kaldi_tables(config: FeatureConfig) -> _KaldiTables:
    return _build_tables(config, 1.0)


def compute_features(
    waveform: np.ndarray | torch.Tensor, config: FeatureConfig, vtln_warp: float = 1.0, first_sample: int = 0
) -> torch.Tensor:
    """Features of one mono waveform in [-1, 1].

    Args:
        waveform: ``(num_samples,)`` float.
        vtln_warp: Kaldi's vocal-tract length warp of the mel bins (1.0: none; training augmentation draws one).
        first_sample: the waveform's position in its signal (a stream's chunks), which picks its dither.
    Returns:
        ``(num_frames, config.dim)`` float32, ``num_frames = 1 + (num_samples - window) // shift`` (Kaldi's
        snip-edges framing).
    """
    wave = torch.as_tensor(waveform, dtype=torch.float32).reshape(-1) * 32768.0  # Kaldi works on int16 scale
    if config.dither:
        wave = wave + config.dither * dither_noise(first_sample, wave.shape[-1])
    tables = _kaldi_tables(config) if vtln_warp == 1.0 else _build_tables(config, vtln_warp)
    window, shift = config.frame_samples()
    if wave.shape[0] < window:  # not one whole frame
        return torch.zeros(0, config.dim)
    frames = wave.unfold(0, window, shift)  # (frames, window): snip edges
    frames = frames - frames.mean(dim=1, keepdim=True)  # remove the DC offset
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = (frames - PREEMPHASIS * previous) * tables.window
    power = torch.fft.rfft(frames, n=tables.fft_size).abs().pow(2.0)
    feats = torch.mm(power, tables.mel_banks).clamp_min(torch.finfo(torch.float32).eps).log()
    if tables.dct is not None and tables.lifter is not None:
        feats = feats.matmul(tables.dct) * tables.lifter
    if config.add_deltas:
        static = feats.T  # (dim, frames): compute_deltas works along the last axis
        delta = AF.compute_deltas(static, win_length=5)
        feats = torch.cat([static, delta, AF.compute_deltas(delta, win_length=5)], dim=0).T
    return feats.contiguous()
