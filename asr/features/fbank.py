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

    def gain_direction(self) -> np.ndarray:
        """How a feature vector ``(dim,)`` moves when the audio's power grows by one nat (a gain of 4.34 dB): every
        log mel bin by 1, so fbank's bins by 1 and MFCC's c0 alone (the DCT of a constant); deltas not at all."""
        base = np.ones(self.num_mel_bins)
        tables = _kaldi_tables(self)
        if tables.lifted_dct is not None:
            base = base @ tables.lifted_dct
        return np.concatenate([base, np.zeros(self.dim - base.size)])

    def silence_level(self) -> float:
        """The mean :meth:`frame_levels` of exact digital silence (one second of zeros): the dither's level, or
        the log floor without dither."""
        return float(self.frame_levels(compute_features(np.zeros(self.sample_rate, np.float32), self).numpy()).mean())

    def num_frames(self, num_samples: int) -> int:
        """How many frames :func:`compute_features` makes of ``num_samples`` (Kaldi's snip-edges framing)."""
        window, shift = self.frame_samples()
        return 0 if num_samples < window else 1 + (num_samples - window) // shift

    def frame_samples(self) -> tuple[int, int]:
        """(window length, shift) in samples."""
        return (
            int(self.sample_rate * self.frame_length_ms / 1000),
            int(self.sample_rate * self.frame_shift_ms / 1000),
        )


DITHER_TABLE_SIZE = 1 << 16


@cache
def _dither_table() -> np.ndarray:
    return np.random.default_rng(1).standard_normal(DITHER_TABLE_SIZE).astype(np.float32)


def dither_noise(first_sample: int, num_samples: int) -> np.ndarray:
    """Unit-variance Gaussian dither for samples ``[first_sample, first_sample + num_samples)`` of a signal: a fixed
    table cycled by sample index, so a sample gets the same value whether the signal comes whole or in chunks."""
    start = first_sample % DITHER_TABLE_SIZE
    if start + num_samples <= DITHER_TABLE_SIZE:  # no wrap: a view of the table (the common case, a chunk)
        return _dither_table()[start : start + num_samples]
    return _dither_table()[np.arange(start, start + num_samples) % DITHER_TABLE_SIZE]


PREEMPHASIS = 0.97  # Kaldi's --preemphasis-coefficient
CEPSTRAL_LIFTER = 22.0  # Kaldi's --cepstral-lifter


@dataclass(frozen=True)
class _KaldiTables:
    """The constants of one feature configuration, float32: Kaldi's povey window, the mel banks (right-multiplied;
    a tensor, as PyTorch does that product) and, for MFCC, the DCT (C0 weighted sqrt(1/bins), as Kaldi's) with the
    cepstral lifter folded into its columns."""

    window: np.ndarray  # (window,)
    fft_size: int  # the window padded to a power of two
    mel_banks: torch.Tensor  # (fft_size // 2 + 1, num_mel_bins); the Nyquist bin has weight 0
    lifted_dct: np.ndarray | None  # (num_mel_bins, num_ceps)


def _build_tables(config: FeatureConfig, vtln_warp: float) -> _KaldiTables:
    window, _ = config.frame_samples()
    fft_size = 1 << (window - 1).bit_length()
    banks, _ = kaldi.get_mel_banks(
        config.num_mel_bins, fft_size, float(config.sample_rate), config.low_freq, config.top_freq,
        max(100.0, config.low_freq + 10.0),  # Kaldi's default --vtln-low/-high, kept inside the bins' band
        min(config.sample_rate / 2 - 500.0, config.top_freq - 10.0), vtln_warp,
    )  # fmt: skip
    mel_banks = torch.nn.functional.pad(banks, (0, 1)).T.contiguous()
    lifted_dct = None
    if config.kind == "mfcc":
        dct = AF.create_dct(config.num_mel_bins, config.num_mel_bins, "ortho")
        dct[:, 0] = math.sqrt(1 / config.num_mel_bins)
        lifter = 1.0 + 0.5 * CEPSTRAL_LIFTER * torch.sin(math.pi * torch.arange(config.num_ceps) / CEPSTRAL_LIFTER)
        lifted_dct = (dct[:, : config.num_ceps] * lifter).contiguous().numpy()
    povey = torch.hann_window(window, periodic=False).pow(0.85).numpy()
    return _KaldiTables(povey, fft_size, mel_banks, lifted_dct)


@cache
def _kaldi_tables(config: FeatureConfig) -> _KaldiTables:
    return _build_tables(config, 1.0)


LOG_FLOOR = float(np.finfo(np.float32).eps)  # Kaldi's floor under the mel energies before the log


def _emphasised_frames(wave: np.ndarray, window: int, shift: int) -> np.ndarray:
    """Kaldi's frames of ``wave`` (snip edges), each with its DC offset removed and then pre-emphasised, as a new
    ``(frames, window)`` array. Both steps are linear, so they are taken in the other order, which needs no
    framed copy in between: the whole signal is pre-emphasised once (``x[n] - a x[n-1]``), framed as a strided
    view, and each frame's mean times ``1 - a`` subtracted; a frame's first sample has no predecessor in the frame
    (Kaldi: ``x[0] - a x[0]``) and is set apart."""
    count = 1 + (wave.size - window) // shift
    strides = (shift * wave.itemsize, wave.itemsize)
    frames = np.ndarray((count, window), np.float32, wave, 0, strides)  # a view of the signal
    mean = frames.mean(axis=1, keepdims=True)
    differences = np.empty_like(wave)
    np.multiply(wave[:-1], np.float32(-PREEMPHASIS), out=differences[1:])
    differences[1:] += wave[1:]
    differences[0] = 0.0
    emphasised = np.ndarray((count, window), np.float32, differences, 0, strides) - mean * np.float32(1 - PREEMPHASIS)
    emphasised[:, 0] = (frames[:, 0] - mean[:, 0]) * np.float32(1 - PREEMPHASIS)
    return emphasised


def feature_matrix(
    waveform: np.ndarray | torch.Tensor, config: FeatureConfig, vtln_warp: float = 1.0, first_sample: int = 0
) -> np.ndarray:
    """Features of one mono waveform in [-1, 1] as a float32 array (see :func:`compute_features`). The
    element-wise steps in numpy, for the few frames of a streamed chunk each of PyTorch's operators costs more than
    its arithmetic; the FFT (numpy's is 5 times slower) and the mel product (PyTorch's threads) in PyTorch."""
    wave = np.asarray(waveform, dtype=np.float32).reshape(-1) * np.float32(32768.0)  # Kaldi works on int16 scale
    if config.dither:
        wave += np.float32(config.dither) * dither_noise(first_sample, wave.size)
    tables = _kaldi_tables(config) if vtln_warp == 1.0 else _build_tables(config, vtln_warp)
    window, shift = config.frame_samples()
    if config.num_frames(wave.size) == 0:  # not one whole frame
        return np.zeros((0, config.dim), np.float32)
    emphasised = _emphasised_frames(wave, window, shift) * tables.window
    spectrum = torch.fft.rfft(torch.from_numpy(emphasised), n=tables.fft_size).numpy()
    power = spectrum.real**2 + spectrum.imag**2
    feats = np.log(np.maximum(torch.mm(torch.from_numpy(power), tables.mel_banks).numpy(), np.float32(LOG_FLOOR)))
    if tables.lifted_dct is not None:
        feats = feats @ tables.lifted_dct
    if config.add_deltas:
        static = torch.from_numpy(np.ascontiguousarray(feats.T))  # (dim, frames): deltas along the last axis
        delta = AF.compute_deltas(static, win_length=5)
        feats = torch.cat([static, delta, AF.compute_deltas(delta, win_length=5)], dim=0).T.numpy()
    return np.ascontiguousarray(feats, dtype=np.float32)


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
    return torch.from_numpy(feature_matrix(waveform, config, vtln_warp, first_sample))
