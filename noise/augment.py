"""Multi-condition training: each training utterance is, with some probability, mixed with a random noise at a
random SNR, on the fly (Kim et al.'s multi-condition training, as Kaldi's ``augment_data_dir.py`` does offline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.bank import NoiseBank, NoiseSpec


@dataclass(frozen=True)
class AugmentConfig:
    """``prob``: share of utterances perturbed; ``types``: noise specs drawn uniformly; SNR uniform in
    [``snr_min``, ``snr_max``] dB (measured on active speech)."""

    prob: float = 0.0
    types: tuple[str, ...] = ("white", "pink", "babble")
    snr_min: float = 0.0
    snr_max: float = 20.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.prob <= 1.0:
            raise InputError(f"noise augmentation probability must be in [0, 1], got {self.prob}")
        if self.snr_min > self.snr_max:
            raise InputError(f"noise SNR range is empty: [{self.snr_min}, {self.snr_max}]")
        for text in self.types:
            NoiseSpec.parse(text)

    @property
    def enabled(self) -> bool:
        return self.prob > 0 and bool(self.types)


def augment(
    speech: Tensor, config: AugmentConfig, bank: NoiseBank, rng: np.random.Generator, speaker: str | None = None
) -> tuple[Tensor, str]:
    """``speech`` ``(samples,)``, perturbed or not as ``rng`` draws; returns it with a description of what was
    done (``"clean"`` or ``"pink@7.3dB"``). ``speaker`` is kept out of babble."""
    if rng.random() >= config.prob:
        return speech, "clean"
    spec = NoiseSpec.parse(config.types[int(rng.integers(len(config.types)))])
    seed = int(rng.integers(2**31))
    if not spec.additive:
        return bank.perturb(speech, spec, None, seed), str(spec)
    snr = float(rng.uniform(config.snr_min, config.snr_max))
    return bank.perturb(speech, spec, snr, seed, exclude_speaker=speaker, active_only=True), f"{spec}@{snr:.1f}dB"
