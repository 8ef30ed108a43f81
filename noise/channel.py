"""Channel and speaker perturbations for training on the fly, as Kaldi and ESPnet recipes do: speed perturbation
(Ko et al. 2015), band-limiting (a telephone, or a recording made at 8 kHz), spectral tilt, microphone high-pass,
level, and how much silence a recording keeps around its speech. Vocal-tract length perturbation is a
feature-side warp (``vtln_warp`` of Kaldi's fbank).

Waveforms are float32 ``(samples,)`` tensors in [-1, 1]. Every function is pure and deterministic; the random
draws are made by :func:`random_channel` from a caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
import torchaudio.functional as AF
from torch import Tensor

from gatescope.errors import ConfigError


def speed_perturb(wave: Tensor, factor: float) -> Tensor:
    """Play ``wave`` ``factor`` times as fast (tempo and pitch together, as ``sox speed``): the output has
    ``len / factor`` samples at the same rate."""
    if not 0.5 <= factor <= 2.0:
        raise ConfigError(f"speed factor must be in [0.5, 2], got {factor}")
    if factor == 1.0:
        return wave
    ratio = _speed_ratio(factor)
    return AF.resample(wave, ratio.numerator, ratio.denominator)


def _speed_ratio(factor: float) -> Fraction:
    return Fraction(factor).limit_denominator(100)


def speed_perturbed_length(num_samples: int, factor: float) -> int:
    """How many samples :func:`speed_perturb` makes of ``num_samples`` (the resampler rounds up)."""
    if factor == 1.0:
        return num_samples
    ratio = _speed_ratio(factor)
    return -(-num_samples * ratio.denominator // ratio.numerator)


def band_limit(wave: Tensor, cutoff_hz: float, sample_rate: int) -> Tensor:
    """Nothing above ``cutoff_hz`` is left: the signal is resampled to ``2 * cutoff_hz`` and back, as a recording
    made at that rate and played at ``sample_rate`` is (FSDD's 8 kHz digits: ``cutoff_hz=4000``)."""
    low = round(2 * cutoff_hz)
    if not 0 < low < sample_rate:
        raise ConfigError(f"band-limit cutoff must be in (0, {sample_rate / 2:g}) Hz, got {cutoff_hz}")
    return _fit(_sharp_resample(_sharp_resample(wave, sample_rate, low), low, sample_rate), wave.shape[-1])


def _sharp_resample(wave: Tensor, orig: int, new: int) -> Tensor:
    """A Kaiser-windowed sinc resampler with a narrow transition band (librosa's ``kaiser_best`` settings)."""
    return AF.resample(
        wave, orig, new, lowpass_filter_width=16, rolloff=0.95, resampling_method="sinc_interp_kaiser", beta=14.7697
    )


def tilt(wave: Tensor, db_per_octave: float, sample_rate: int, pivot_hz: float = 1000.0) -> Tensor:
    """Spectral tilt: every component's level changes by ``db_per_octave`` per octave above ``pivot_hz`` (and the
    opposite below), a microphone's or a room's colouring."""
    spectrum = torch.fft.rfft(wave.double())
    freqs = torch.fft.rfftfreq(wave.shape[-1], d=1.0 / sample_rate).double().clamp(min=20.0)
    gain = 10 ** (db_per_octave * torch.log2(freqs / pivot_hz) / 20)
    return torch.fft.irfft(spectrum * gain, n=wave.shape[-1]).to(wave.dtype)


def highpass(wave: Tensor, cutoff_hz: float, sample_rate: int) -> Tensor:
    """A microphone's low-frequency roll-off: a second-order high-pass at ``cutoff_hz``."""
    return AF.highpass_biquad(wave, sample_rate, cutoff_hz)


TRIM_FLOOR_DB = 35.0  # speech_span's default: a frame within this many dB of the loudest is speech


def frame_levels_db(wave: Tensor, sample_rate: int) -> Tensor:
    """The level in dB (float64) of each whole 10 ms frame of ``wave`` (``(samples,)``)."""
    hop = sample_rate // 100
    frames = wave.shape[-1] // hop
    energy = wave[: frames * hop].reshape(frames, hop).double().pow(2).mean(dim=1)
    return 10 * torch.log10(energy + 1e-12)


def span_of_levels(
    levels: Tensor, sample_rate: int, num_samples: int, floor_db: float = TRIM_FLOOR_DB
) -> tuple[int, int]:
    """``[start, end)`` in samples of the first to the last 10 ms frame of ``levels`` (:func:`frame_levels_db` of a
    wave of ``num_samples``) within ``floor_db`` of the loudest (the whole wave if it is under three frames)."""
    hop = sample_rate // 100
    if levels.shape[0] < 3:
        return 0, num_samples
    active = torch.nonzero(levels >= levels.max() - floor_db).flatten()
    return int(active[0]) * hop, min(num_samples, (int(active[-1]) + 1) * hop)


def speech_span(wave: Tensor, sample_rate: int, floor_db: float = TRIM_FLOOR_DB) -> tuple[int, int]:
    """``[start, end)`` in samples from the first to the last 10 ms frame whose energy is within ``floor_db`` of
    the loudest frame's: where the speech is, without labels (the whole wave if it is too short to tell). A lower
    floor cuts into the speech's weak edges (a fricative's onset, a stop's release), as tightly cut clips do."""
    return span_of_levels(frame_levels_db(wave, sample_rate), sample_rate, wave.shape[-1], floor_db)


def trim_silence(wave: Tensor, sample_rate: int, keep_lead: float, keep_trail: float) -> Tensor:
    """``wave`` with only ``keep_lead`` (0..1) of the silence before its speech and ``keep_trail`` of the silence
    after it: real recordings are cut tight (FSDD's digits start at their first sample) or padded generously."""
    first, last = trim_bounds(wave.shape[-1], speech_span(wave, sample_rate), keep_lead, keep_trail)
    return wave[first:last]


def trim_bounds(num_samples: int, span: tuple[int, int], keep_lead: float, keep_trail: float) -> tuple[int, int]:
    """``[first, last)``: what :func:`trim_silence` keeps of ``num_samples`` whose speech is ``span``
    (:func:`speech_span`)."""
    if not (0.0 <= keep_lead <= 1.0 and 0.0 <= keep_trail <= 1.0):
        raise ConfigError(f"kept silence shares must be in [0, 1], got {keep_lead}, {keep_trail}")
    start, end = span
    return start - round(start * keep_lead), end + round((num_samples - end) * keep_trail)


def _fit(wave: Tensor, length: int) -> Tensor:
    if wave.shape[-1] >= length:
        return wave[..., :length]
    return torch.nn.functional.pad(wave, (0, length - wave.shape[-1]))


@dataclass(frozen=True)
class Channel:
    """One drawn channel: ``band_limit_hz`` (0: none), ``tilt_db`` per octave, ``highpass_hz`` (0: none) and a
    level change ``gain_db``."""

    band_limit_hz: float = 0.0
    tilt_db: float = 0.0
    highpass_hz: float = 0.0
    gain_db: float = 0.0

    def apply(self, wave: Tensor, sample_rate: int) -> Tensor:
        """``wave`` through this channel, peak-limited to [-1, 1] (a clipping level change is scaled down)."""
        out = wave
        if 0 < self.band_limit_hz < sample_rate / 2:  # audio sampled at twice the cutoff has nothing above it
            out = band_limit(out, self.band_limit_hz, sample_rate)
        if self.tilt_db:
            out = tilt(out, self.tilt_db, sample_rate)
        if self.highpass_hz:
            out = highpass(out, self.highpass_hz, sample_rate)
        out = out * 10 ** (self.gain_db / 20)
        peak = float(out.abs().max()) if out.numel() else 0.0
        return out / peak if peak > 1.0 else out

    def __str__(self) -> str:
        parts = [f"bl{self.band_limit_hz:g}"] if self.band_limit_hz else []
        parts += [f"tilt{self.tilt_db:+.1f}", f"hp{self.highpass_hz:.0f}", f"gain{self.gain_db:+.1f}"]
        return ",".join(parts)


def random_channel(rng: np.random.Generator) -> Channel:
    """A channel drawn as recordings differ: half band-limited (4 kHz as an 8 kHz recording, or 3.4 kHz as a
    telephone), a tilt of up to +-4 dB per octave, a high-pass at 50-300 Hz, a level change of -20..+3 dB."""
    band = float(rng.choice([0.0, 4000.0, 3400.0], p=[0.5, 0.35, 0.15]))
    return Channel(band, float(rng.uniform(-4.0, 4.0)), float(rng.uniform(50.0, 300.0)), float(rng.uniform(-20.0, 3.0)))
