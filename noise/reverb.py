"""Reverberation: speech convolved with a room impulse response (recorded, or a synthetic shoebox room).

The RIR is shifted so its direct-path peak sits at sample 0: the reverberant speech keeps the timing of the dry
speech, so phone alignments and burst spans stay valid. The output keeps the input's length and RMS.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.functional as AF
from torch import Tensor

from gatescope.errors import InputError

ROOM_SIZE_RANGE_M = ((4.0, 8.0), (3.5, 6.0), (2.5, 3.2))  # (x, y, z) ranges of the synthetic shoebox rooms


def synthetic_rir(rt60_s: float, sample_rate: int = 16000, seed: int = 0) -> Tensor:
    """A shoebox-room RIR with reverberation time ``rt60_s`` (image source method, pyroomacoustics): the room's
    size and the talker and microphone positions are drawn from ``seed``; absorption and image order come from
    Sabine's formula for the target RT60. Returns ``(taps,)`` float32, direct path first."""
    import pyroomacoustics as pra

    if not 0.05 <= rt60_s <= 2.0:
        raise InputError(f"RT60 must be between 0.05 and 2 s, got {rt60_s}")
    rng = np.random.default_rng(seed)
    room_dim = [float(rng.uniform(lo, hi)) for lo, hi in ROOM_SIZE_RANGE_M]
    absorption, max_order = pra.inverse_sabine(rt60_s, room_dim)
    room = pra.ShoeBox(room_dim, fs=sample_rate, materials=pra.Material(absorption), max_order=max_order)
    inside = lambda: [float(rng.uniform(0.5, d - 0.5)) for d in room_dim]  # noqa: E731
    room.add_source(inside())
    room.add_microphone(inside())
    room.compute_rir()
    return align_rir(torch.from_numpy(np.asarray(room.rir[0][0], dtype=np.float32)))


def align_rir(rir: Tensor) -> Tensor:
    """The RIR from its direct-path (largest) peak on, scaled to a unit peak."""
    if rir.dim() != 1 or rir.numel() == 0 or not bool(rir.abs().max() > 0):
        raise InputError("a room impulse response must be a non-silent 1-D signal")
    peak = int(rir.abs().argmax())
    return (rir[peak:] / rir[peak].abs()).float()


def reverberate(speech: Tensor, rir: Tensor) -> Tensor:
    """``speech`` ``(samples,)`` or ``(batch, samples)`` convolved with ``rir`` ``(taps,)`` (aligned by
    :func:`align_rir`), cropped to the input length and scaled back to each row's input RMS."""
    rir = align_rir(rir.to(speech.device))
    wet = AF.fftconvolve(speech.double(), rir.double().expand(*speech.shape[:-1], -1))[..., : speech.shape[-1]]
    scale = speech.double().pow(2).mean(-1, keepdim=True).sqrt() / wet.pow(2).mean(-1, keepdim=True).sqrt().clamp(
        min=1e-12
    )
    return (wet * scale).to(speech.dtype)
