"""Coloured Gaussian noise: white, pink, brown, blue and violet, shaped in the frequency domain.

The power spectral density of each colour follows ``f ** exponent``: white 0, pink -1 (-3.01 dB/octave),
brown -2 (-6.02 dB/octave), blue +1 (+3.01), violet +2 (+6.02). White Gaussian noise is drawn with a seeded
generator on the CPU (so CPU and GPU callers get the same samples), its spectrum multiplied by ``f ** (exponent/2)``,
and transformed back. The result is circular: it loops without a seam, which the stream perturber relies on.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gatescope.errors import InputError

COLOR_EXPONENTS = {"white": 0.0, "pink": -1.0, "brown": -2.0, "blue": 1.0, "violet": 2.0}

# Noise sources are scaled to this RMS (-20 dBFS): loud enough to be audible, far from clipping before mixing.
REFERENCE_RMS = 0.1


def colored(color: str, num_samples: int, seed: int = 0, device: torch.device | str | None = None) -> Tensor:
    """``(num_samples,)`` float32 noise of the given colour, RMS :data:`REFERENCE_RMS`, reproducible by ``seed``.

    The DC bin is set to zero; the lowest non-zero bin takes the shaping value of the first bin (``1 / N``
    of the sample rate), so brown noise has no infinite DC gain.
    """
    if color not in COLOR_EXPONENTS:
        raise InputError(f"unknown noise colour {color!r}; choose one of {sorted(COLOR_EXPONENTS)}")
    if num_samples < 2:
        raise InputError(f"coloured noise needs at least 2 samples, got {num_samples}")
    generator = torch.Generator().manual_seed(seed)
    white = torch.randn(num_samples, generator=generator, dtype=torch.float64)
    spectrum = torch.fft.rfft(white)
    freqs = torch.arange(spectrum.shape[0], dtype=torch.float64)  # in units of sample_rate / num_samples
    freqs[0] = 1.0
    spectrum = spectrum * freqs ** (COLOR_EXPONENTS[color] / 2)
    spectrum[0] = 0.0
    noise = torch.fft.irfft(spectrum, n=num_samples)
    noise = noise * (REFERENCE_RMS / noise.pow(2).mean().sqrt())
    return noise.to(dtype=torch.float32, device=device)
