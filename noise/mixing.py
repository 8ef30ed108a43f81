"""Signal-to-noise ratios and mixing at a target SNR.

Definitions (all powers are mean squares, computed in float64):

* ``SNR = 10 log10(P_speech / P_noise)``, where the noise is the scaled noise actually added.
* With ``active_only``, both powers are measured over the *active* samples of the speech only: the 10 ms frames
  whose energy is within :data:`ACTIVE_RANGE_DB` of the loudest frame (an energy detector in the spirit of ITU-T
  P.56's active speech level; silences then do not dilute the speech power).

Waveforms are float32 ``(samples,)`` or ``(batch, samples)``; a noise shorter than the speech is looped, a longer
one cropped. The mixture never clips silently: if it would leave [-1, 1], it is scaled down as a whole (which keeps
the SNR) and the scale is logged.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import Tensor

from gatescope.errors import InputError

log = logging.getLogger(__name__)

ACTIVE_RANGE_DB = 40.0
PEAK_LIMIT = 0.99  # a mixture whose peak would exceed 1.0 is scaled to this peak


def fit_length(noise: Tensor, num_samples: int, offset: int = 0) -> Tensor:
    """``noise`` looped (from ``offset``) or cropped to ``num_samples`` along its last axis."""
    length = noise.shape[-1]
    if length == 0:
        raise InputError("noise signal is empty")
    index = (torch.arange(num_samples, device=noise.device) + offset) % length
    return noise[..., index]


def active_mask(speech: Tensor, sample_rate: int = 16000, range_db: float = ACTIVE_RANGE_DB) -> Tensor:
    """Boolean mask, same shape as ``speech``: samples in 10 ms frames within ``range_db`` of the loudest frame."""
    frame = max(1, sample_rate // 100)
    squeeze = speech.dim() == 1
    x = speech.reshape(1, -1) if squeeze else speech
    num_frames = -(-x.shape[-1] // frame)
    padded = torch.nn.functional.pad(x.double(), (0, num_frames * frame - x.shape[-1]))
    energy = padded.reshape(x.shape[0], num_frames, frame).pow(2).mean(-1)
    threshold = energy.amax(dim=-1, keepdim=True) * 10 ** (-range_db / 10)
    frames = (energy >= threshold) & (energy > 0)
    mask = frames.repeat_interleave(frame, dim=-1)[:, : x.shape[-1]]
    return mask[0] if squeeze else mask


def power(signal: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean square along the last axis (over ``mask`` where given), float64."""
    x = signal.double().pow(2)
    if mask is None:
        return x.mean(-1)
    return (x * mask).sum(-1) / mask.sum(-1).clamp(min=1)


def snr_db(speech: Tensor, noise: Tensor, active_only: bool = False, sample_rate: int = 16000) -> Tensor:
    """The SNR in dB of ``speech`` against an added ``noise`` of the same shape (see the module definitions)."""
    mask = active_mask(speech, sample_rate) if active_only else None
    return 10 * torch.log10(power(speech, mask) / power(noise, mask))


def noise_gain(
    speech: Tensor, noise: Tensor, snr_db: float | Tensor, active_only: bool = False, sample_rate: int = 16000
) -> Tensor:
    """The factor for ``noise`` (already at the speech's length) that puts it ``snr_db`` below ``speech``.

    Returns float64 ``()`` or ``(batch,)``. Raises InputError when the speech or the noise is silent.
    """
    mask = active_mask(speech, sample_rate) if active_only else None
    p_speech, p_noise = power(speech, mask), power(noise, mask)
    if bool((p_speech <= 0).any()):
        raise InputError("speech is silent: an SNR is undefined")
    if bool((p_noise <= 0).any()):
        raise InputError("noise is silent where the SNR is measured")
    target = torch.as_tensor(snr_db, dtype=torch.float64, device=speech.device)
    return torch.sqrt(p_speech / (p_noise * 10 ** (target / 10)))


def limit_peak(mixture: Tensor) -> tuple[Tensor, Tensor]:
    """Scale each row whose peak exceeds 1.0 down to :data:`PEAK_LIMIT`; returns (mixture, scale per row)."""
    peak = mixture.abs().amax(dim=-1).double()
    scale = torch.where(peak > 1.0, PEAK_LIMIT / peak, torch.ones_like(peak))
    if bool((scale < 1).any()):
        log.info("mixture would clip: scaled by %.3f to keep the SNR", float(scale.min()))
    return (mixture.double() * scale.unsqueeze(-1)).to(mixture.dtype), scale


def mix(
    speech: Tensor, noise: Tensor, snr_db: float | Tensor, active_only: bool = False, sample_rate: int = 16000
) -> Tensor:
    """``speech`` plus ``noise`` scaled to ``snr_db`` dB below it; same shape and dtype as ``speech``.

    Args:
        speech: ``(samples,)`` or ``(batch, samples)`` float waveform in [-1, 1].
        noise: ``(noise_samples,)`` or ``(batch, noise_samples)``; looped or cropped to the speech length.
        snr_db: a float, or ``(batch,)`` per row.
        active_only: measure the speech and noise power over active speech only.
    """
    if not math.isfinite(float(torch.as_tensor(snr_db, dtype=torch.float64).max())):
        raise InputError(f"SNR must be finite, got {snr_db}")
    noise = fit_length(noise.to(speech.device), speech.shape[-1])
    if noise.dim() < speech.dim():
        noise = noise.expand_as(speech)
    gain = noise_gain(speech, noise, snr_db, active_only, sample_rate)
    mixture = (speech.double() + noise.double() * gain.unsqueeze(-1)).to(speech.dtype)
    return limit_peak(mixture)[0]
