"""Cepstral mean and variance normalisation with Kaldi's statistics: ``(2, dim + 1)`` float64, sums and count in
row 0, sums of squares in row 1 (as ``compute-cmvn-stats`` writes them).

In: feature matrices, or a ``cmvn.scp``. Out: statistics, or normalised features: per speaker (``apply-cmvn``),
per utterance, or over a causal sliding window (``apply-cmvn-sliding --center=false``), offline and frame by
frame alike. A model is normalised in decoding and streaming as it was in training (its ``cmvn_mode``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gatescope.asr.features import ark as kaldi_ark
from gatescope.errors import InputError

SLIDING_WINDOW_FRAMES = 600  # Kaldi's apply-cmvn-sliding default (6 s)
CMVN_MODES = ("speaker", "utterance", "sliding", "none")


def cmvn_stats(feats: list[np.ndarray]) -> np.ndarray:
    """Kaldi CMVN statistics of a speaker's utterances: ``(2, dim + 1)`` float64."""
    stacked = np.concatenate(feats).astype(np.float64)
    stats = np.zeros((2, stacked.shape[1] + 1))
    stats[0, :-1], stats[0, -1] = stacked.sum(0), len(stacked)
    stats[1, :-1] = (stacked**2).sum(0)
    return stats


def apply_cmvn(feats: np.ndarray, stats: np.ndarray, norm_vars: bool = True) -> np.ndarray:
    """Normalise ``(frames, dim)`` features with Kaldi CMVN stats (as ``apply-cmvn``)."""
    count = stats[0, -1]
    mean = stats[0, :-1] / count
    out = feats - mean
    if norm_vars:
        var = np.maximum(stats[1, :-1] / count - mean**2, 1e-10)
        out = out / np.sqrt(var)
    return out.astype(np.float32)


def pooled_cmvn_stats(cmvn_scp: Path) -> np.ndarray:
    """Kaldi CMVN statistics summed over every speaker of a ``cmvn.scp``: one global ``(2, dim + 1)``."""
    stats = [matrix for _, matrix in kaldi_ark.read_matrix_scp(cmvn_scp)]
    if not stats:
        raise InputError(f"{cmvn_scp}: no CMVN statistics")
    return np.sum(stats, axis=0)


class OnlineCMVN:
    """Mean (and variance) normalisation frame by frame: ``mode`` ``"global"`` with ``stats``, or ``"sliding"``
    over the last :data:`SLIDING_WINDOW_FRAMES` frames including the current one; ``"none"`` passes through."""

    def __init__(self, mode: str, stats: np.ndarray | None, norm_vars: bool, window: int = SLIDING_WINDOW_FRAMES):
        if mode not in ("global", "sliding", "none"):
            raise InputError(f"CMVN mode must be global, sliding or none, got {mode!r}")
        if mode == "global" and stats is None:
            raise InputError("global CMVN needs statistics (the training set's cmvn.scp)")
        self.mode, self.norm_vars, self.window = mode, norm_vars, window
        if stats is not None:
            count = stats[0, -1]
            self.mean = stats[0, :-1] / count
            self.std = np.sqrt(np.maximum(stats[1, :-1] / count - self.mean**2, 1e-10))
        self.history = np.zeros((0, 0))

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """Normalise frames ``(frames, dim)`` as they arrive."""
        if self.mode == "none" or frames.shape[0] == 0:
            return frames.astype(np.float32)
        if self.mode == "global":
            out = frames - self.mean
            return (out / self.std if self.norm_vars else out).astype(np.float32)
        history = np.concatenate([self.history, frames]) if self.history.size else frames.astype(np.float64)
        start = history.shape[0] - frames.shape[0]
        out = np.empty_like(frames, dtype=np.float64)
        cumsum = np.cumsum(np.vstack([np.zeros(history.shape[1]), history]), axis=0)
        cumsq = np.cumsum(np.vstack([np.zeros(history.shape[1]), history**2]), axis=0)
        for i in range(frames.shape[0]):
            t = start + i
            lo = max(0, t - self.window + 1)
            n = t + 1 - lo
            mean = (cumsum[t + 1] - cumsum[lo]) / n
            out[i] = history[t] - mean
            if self.norm_vars:
                var = np.maximum((cumsq[t + 1] - cumsq[lo]) / n - mean**2, 1e-10)
                out[i] /= np.sqrt(var)
        self.history = history[-(self.window - 1) :] if self.window > 1 else history[:0]
        return out.astype(np.float32)


def normalize_features(feats: np.ndarray, mode: str, speaker_stats: np.ndarray | None, norm_vars: bool) -> np.ndarray:
    """One utterance's ``(frames, dim)`` features normalised as ``mode`` says: ``speaker`` with the speaker's
    stats, ``utterance`` with its own, ``sliding`` over a causal 6 s window (what streaming can do), ``none``."""
    if mode == "speaker":
        if speaker_stats is None:
            raise InputError("speaker CMVN needs the speaker's statistics (cmvn.scp)")
        return apply_cmvn(feats, speaker_stats, norm_vars)
    if mode == "utterance":
        return apply_cmvn(feats, cmvn_stats([feats]), norm_vars)
    if mode == "sliding":
        return OnlineCMVN("sliding", None, norm_vars).apply(feats)
    if mode == "none":
        return feats.astype(np.float32)
    raise InputError(f"CMVN mode must be one of {CMVN_MODES}, got {mode!r}")


def streaming_cmvn(trained_mode: str) -> str:
    """The streaming CMVN that matches a model's training normalisation: ``global`` (the training set's pooled
    stats) for per-speaker CMVN, ``sliding`` for per-utterance or sliding, ``none`` for none."""
    return {"speaker": "global", "utterance": "sliding", "sliding": "sliding", "none": "none"}[trained_mode]
