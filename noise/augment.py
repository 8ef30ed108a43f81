"""Data augmentation for training, on the fly and seeded, as Kaldi and ESPnet recipes do it: speed perturbation,
a random recording channel (band-limit, tilt, high-pass, level), additive noise at a random SNR (Kim et al.'s
multi-condition training, as Kaldi's ``augment_data_dir.py`` does offline), silence trimming, runs of exact digital
zeros around the speech, a vocal-tract length warp that the feature extractor applies (``vtln_warp``), and audio
with no speech in it (:func:`nonspeech`) for utterances whose transcript is made empty.

In: one utterance's waveform and a ``numpy.random.Generator``. Out: the perturbed waveform, the warp factor for
its features, and a description of what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.bank import NoiseBank, NoiseSpec
from gatescope.noise.channel import (
    TRIM_FLOOR_DB,
    Channel,
    random_channel,
    speech_span,
    speed_perturb,
    speed_perturbed_length,
    trim_bounds,
)
from gatescope.noise.sources import normalize_rms


@dataclass(frozen=True)
class AugmentConfig:
    """``prob``: share of utterances mixed with noise, one of ``types`` (drawn uniformly) at an SNR uniform in
    [``snr_min``, ``snr_max``] dB (measured on active speech). ``speed_factors``: one drawn per utterance (e.g.
    0.9, 1.0, 1.1). ``channel_prob``: share of utterances put through a random channel. ``vtlp_max``: the
    vocal-tract warp is uniform in [1 - vtlp_max, 1 + vtlp_max] (0: none). ``trim_prob``: share of utterances
    whose silence before and after the speech is cut to a random part of it (none to all), the speech's edges found
    at a floor uniform in [``trim_floor_db_min``, ``trim_floor_db_max``] dB under its loudest 10 ms (below the
    default 35 dB the cut goes into weak consonants, as clips cut by an energy threshold are). ``zeros_prob``: share of
    utterances given runs of exact digital zeros, each uniform in [0, ``zeros_max_s``] seconds, before and after
    (what a muted or virtual microphone sends; added last, so no noise fills them). ``nonspeech_prob``: share of
    utterances replaced by audio with no speech in it (see :func:`nonspeech`), whose transcript is then empty."""

    prob: float = 0.0
    types: tuple[str, ...] = ("white", "pink", "babble")
    snr_min: float = 0.0
    snr_max: float = 20.0
    speed_factors: tuple[float, ...] = ()
    channel_prob: float = 0.0
    vtlp_max: float = 0.0
    trim_prob: float = 0.0
    zeros_prob: float = 0.0
    zeros_max_s: float = 2.0
    nonspeech_prob: float = 0.0
    trim_floor_db_min: float = TRIM_FLOOR_DB
    trim_floor_db_max: float = TRIM_FLOOR_DB

    def __post_init__(self) -> None:
        for name in ("prob", "channel_prob", "trim_prob", "zeros_prob", "nonspeech_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.snr_min > self.snr_max:
            raise InputError(f"noise SNR range is empty: [{self.snr_min}, {self.snr_max}]")
        if not 0.0 < self.trim_floor_db_min <= self.trim_floor_db_max <= 120.0:
            raise InputError(
                f"trim floors must satisfy 0 < min <= max <= 120 dB, got [{self.trim_floor_db_min}, "
                f"{self.trim_floor_db_max}]"
            )
        if self.zeros_max_s < 0:
            raise InputError(f"zeros_max_s must be >= 0, got {self.zeros_max_s}")
        if not 0.0 <= self.vtlp_max <= 0.2:
            raise InputError(f"vtlp_max must be in [0, 0.2], got {self.vtlp_max}")
        if any(not 0.5 <= f <= 2.0 for f in self.speed_factors):
            raise InputError(f"speed factors must be in [0.5, 2], got {self.speed_factors}")
        for text in self.types:
            NoiseSpec.parse(text)

    @property
    def noise_enabled(self) -> bool:
        """Whether any utterance gets noise."""
        return self.prob > 0 and bool(self.types)

    @property
    def enabled(self) -> bool:
        """Whether any augmentation is switched on."""
        return (
            self.noise_enabled
            or bool(self.speed_factors)
            or self.channel_prob > 0
            or self.vtlp_max > 0
            or self.trim_prob > 0
            or (self.zeros_prob > 0 and self.zeros_max_s > 0)
            or self.nonspeech_prob > 0
        )


class Augmented(NamedTuple):
    """One utterance as augmented: its waveform, the warp its features take, and what was done to it."""

    wave: Tensor
    vtln_warp: float
    description: str


@dataclass(frozen=True)
class AugmentDraws:
    """What one utterance's augmentation drew (:func:`draw_augmentation`), before any audio is touched: the
    speed factor, channel, noise (``noise``: a noise spec's text, "" for none; its ``snr`` and ``seed``), warp,
    shares of leading and trailing silence kept (``trim``), the floor in dB that finds the speech's edges for the
    trim (``trim_floor_db``) and seconds of zeros before and after (``zeros``)."""

    speed: float
    channel: Channel | None
    noise: str
    snr: float
    seed: int
    warp: float
    trim: tuple[float, float] | None
    zeros: tuple[float, float] | None
    trim_floor_db: float = TRIM_FLOOR_DB


def draw_augmentation(config: AugmentConfig, rng: np.random.Generator) -> AugmentDraws:
    """``rng``'s draws for one utterance under ``config``; the same draws whatever is switched off."""
    speed = float(rng.choice(config.speed_factors)) if config.speed_factors else 1.0
    channel = random_channel(rng) if rng.random() < config.channel_prob else None
    noisy, noise, snr, seed = rng.random() < config.prob, "", 0.0, int(rng.integers(2**31))
    if noisy and config.types:
        noise = config.types[int(rng.integers(len(config.types)))]
        snr = float(rng.uniform(config.snr_min, config.snr_max))
    warp = float(rng.uniform(1 - config.vtlp_max, 1 + config.vtlp_max)) if config.vtlp_max else 1.0
    trim = rng.uniform(size=2) if rng.random() < config.trim_prob else None  # newer draws last: older ones stay put
    zeros = rng.uniform(0, config.zeros_max_s, size=2) if rng.random() < config.zeros_prob else None
    floor_range = (config.trim_floor_db_min, config.trim_floor_db_max)
    floor = float(rng.uniform(*floor_range)) if trim is not None and floor_range[1] > floor_range[0] else floor_range[0]
    return AugmentDraws(
        speed,
        channel,
        noise,
        snr,
        seed,
        warp,
        None if trim is None else (float(trim[0]), float(trim[1])),
        None if zeros is None else (float(zeros[0]), float(zeros[1])),
        floor,
    )


class _Lengths(NamedTuple):
    kept: tuple[int, int]  # [first, last) of the input after the silence trim
    speed: float  # the speed factor applied (1.0 where it would leave too few samples)
    zeros: tuple[int, int]  # samples of zeros before and after


def _lengths(
    draws: AugmentDraws, num_samples: int, span: tuple[int, int], sample_rate: int, max_speed: float
) -> _Lengths:
    kept = (0, num_samples) if draws.trim is None else trim_bounds(num_samples, span, *draws.trim)
    max_speed *= (kept[1] - kept[0]) / num_samples if num_samples else 1.0  # the frames left must carry the labels
    speed = draws.speed if draws.speed <= max_speed else 1.0
    zeros = (
        (0, 0) if draws.zeros is None else (round(draws.zeros[0] * sample_rate), round(draws.zeros[1] * sample_rate))
    )
    return _Lengths(kept, speed, zeros)


def augmented_length(
    draws: AugmentDraws, num_samples: int, span: tuple[int, int], sample_rate: int, max_speed: float = 2.0
) -> int:
    """How many samples :func:`apply_augmentation` makes of an utterance of ``num_samples`` whose speech is
    ``span`` (:func:`~gatescope.noise.channel.speech_span` at ``draws.trim_floor_db``), without touching its
    audio: for batching by length."""
    lengths = _lengths(draws, num_samples, span, sample_rate, max_speed)
    kept = speed_perturbed_length(lengths.kept[1] - lengths.kept[0], lengths.speed)
    return kept + sum(lengths.zeros)  # the channel, noise and reverberation keep the length


def apply_augmentation(
    speech: Tensor, draws: AugmentDraws, bank: NoiseBank, speaker: str | None = None, max_speed: float = 2.0
) -> Augmented:
    """``speech`` ``(samples,)`` perturbed as ``draws`` say (silence trim, speed, channel, noise, digital zeros; the
    warp last). ``speaker`` is kept out of babble; a speed factor above ``max_speed`` is not used (1.0 instead), so
    a tight utterance keeps enough frames for its CTC labels."""
    span = (
        speech_span(speech, bank.sample_rate, draws.trim_floor_db) if draws.trim is not None else (0, speech.shape[-1])
    )
    lengths = _lengths(draws, speech.shape[-1], span, bank.sample_rate, max_speed)
    done = []
    if draws.trim is not None:
        speech = speech[lengths.kept[0] : lengths.kept[1]]
        floor = "" if draws.trim_floor_db == TRIM_FLOOR_DB else f"@{draws.trim_floor_db:.1f}dB"
        done.append(f"trim{draws.trim[0]:.2f},{draws.trim[1]:.2f}{floor}")
    if lengths.speed != 1.0:
        speech = speed_perturb(speech, lengths.speed)
        done.append(f"speed{lengths.speed:g}")
    if draws.channel is not None:
        speech = draws.channel.apply(speech, bank.sample_rate)
        done.append(str(draws.channel))
    if draws.noise:
        spec = NoiseSpec.parse(draws.noise)
        if spec.additive:
            speech = bank.perturb(speech, spec, draws.snr, draws.seed, exclude_speaker=speaker, active_only=True)
            done.append(f"{spec}@{draws.snr:.1f}dB")
        else:
            speech = bank.perturb(speech, spec, None, draws.seed)
            done.append(str(spec))
    if draws.zeros is not None:
        speech = torch.cat([speech.new_zeros(lengths.zeros[0]), speech, speech.new_zeros(lengths.zeros[1])])
        done.append(f"zeros{draws.zeros[0]:.2f},{draws.zeros[1]:.2f}")
    if draws.warp != 1.0:
        done.append(f"vtlp{draws.warp:.3f}")
    return Augmented(speech, draws.warp, " ".join(done) or "clean")


def augment(
    speech: Tensor,
    config: AugmentConfig,
    bank: NoiseBank,
    rng: np.random.Generator,
    speaker: str | None = None,
    max_speed: float = 2.0,
) -> Augmented:
    """``speech`` ``(samples,)`` perturbed as ``rng`` draws under ``config`` (:func:`draw_augmentation`, then
    :func:`apply_augmentation`)."""
    return apply_augmentation(speech, draw_augmentation(config, rng), bank, speaker, max_speed)


NONSPEECH_KINDS = ("zeros", "white", "pink")
NONSPEECH_LEVEL_DBFS = (-70.0, -35.0)  # RMS range of the noise: a quiet room to a noisy microphone


def nonspeech(num_samples: int, bank: NoiseBank, rng: np.random.Generator) -> Augmented:
    """``num_samples`` of audio with no speech in it, as ``rng`` draws: exact zeros, or white or pink noise at an
    RMS level uniform in ``NONSPEECH_LEVEL_DBFS`` (full scale = 1.0)."""
    kind = NONSPEECH_KINDS[int(rng.integers(len(NONSPEECH_KINDS)))]
    level_db, seed = float(rng.uniform(*NONSPEECH_LEVEL_DBFS)), int(rng.integers(2**31))
    if kind == "zeros" or num_samples == 0:
        return Augmented(torch.zeros(num_samples), 1.0, "nonspeech zeros")
    wave = normalize_rms(bank.noise(kind, num_samples, seed), 10 ** (level_db / 20))
    return Augmented(wave, 1.0, f"nonspeech {kind}@{level_db:.0f}dBFS")
