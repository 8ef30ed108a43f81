"""Burst insertion, the perturbation of Tang et al. (2017): a noise segment put into an utterance at a known place.

The burst either replaces the speech in its span (``snr_db=None``) or is added to it at an SNR. Its level is set
against the utterance's active speech power (:func:`gatescope.noise.mixing.power` over
:func:`~gatescope.noise.mixing.active_mask`): added at ``snr_db``, the burst's power is ``snr_db`` dB below it;
replacing, it has the same power (0 dB), so the network sees a segment as loud as the speech but without it.
"""

from __future__ import annotations

from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.mixing import active_mask, fit_length, limit_peak, power


def burst_span(num_samples: int, start_s: float, dur_s: float, sample_rate: int = 16000) -> tuple[int, int]:
    """The ``(start, end)`` samples of a burst, end exclusive, checked to lie inside the utterance."""
    start = round(start_s * sample_rate)
    end = start + round(dur_s * sample_rate)  # the duration is exact whatever the start's rounding
    if dur_s <= 0 or start < 0 or end > num_samples:
        raise InputError(
            f"burst at {start_s:.3f} s for {dur_s:.3f} s does not fit in {num_samples / sample_rate:.3f} s of audio"
        )
    return start, end


def insert_burst(
    speech: Tensor,
    noise: Tensor,
    start_s: float,
    dur_s: float,
    snr_db: float | None = None,
    sample_rate: int = 16000,
) -> tuple[Tensor, tuple[int, int]]:
    """Put ``dur_s`` seconds of ``noise`` into ``speech`` at ``start_s``.

    Args:
        speech: ``(samples,)`` or ``(batch, samples)`` float waveform.
        noise: ``(noise_samples,)``; its first ``dur_s`` seconds are used (looped if shorter).
        snr_db: None: the burst replaces the speech in its span at the speech's active power; a number: it is
            added, that many dB below the speech's active power.
    Returns:
        ``(perturbed, (start, end))``: a new tensor shaped like ``speech``, and the burst's span in samples (end
        exclusive). Feature frames touched by the burst: :func:`burst_frames`.
    """
    start, end = burst_span(speech.shape[-1], start_s, dur_s, sample_rate)
    segment = fit_length(noise.to(speech.device).double(), end - start)
    p_noise = power(segment)
    if bool((p_noise <= 0).any()):
        raise InputError("burst noise is silent")
    p_speech = power(speech, active_mask(speech, sample_rate))
    if bool((p_speech <= 0).any()):
        raise InputError("speech is silent: the burst level is undefined")
    level_db = 0.0 if snr_db is None else snr_db
    gain = (p_speech / (p_noise * 10 ** (level_db / 10))).sqrt().unsqueeze(-1)
    out = speech.double().clone()
    if snr_db is None:
        out[..., start:end] = segment * gain
    else:
        out[..., start:end] += segment * gain
    return limit_peak(out.to(speech.dtype))[0], (start, end)


def burst_frames(
    span: tuple[int, int], frame_length: int = 400, frame_shift: int = 160, num_frames: int | None = None
) -> tuple[int, int]:
    """Feature frames (Kaldi snip-edges framing) that see any burst sample: ``(first, end)``, end exclusive.

    Frame ``k`` covers samples ``[k * shift, k * shift + length)``; ``end`` is the first frame whose window starts
    at or after the burst's end, i.e. the first frame computed from clean audio again.
    """
    start, stop = span
    first = max(0, -(-(start - frame_length + 1) // frame_shift))
    end = -(-stop // frame_shift)
    if num_frames is not None:
        first, end = min(first, num_frames), min(end, num_frames)
    return first, end
