"""Cepstral mean and variance normalisation with Kaldi's statistics: ``(2, dim + 1)`` float64, sums and count in
row 0, sums of squares in row 1 (as ``compute-cmvn-stats`` writes them).

In: feature matrices, or a ``cmvn.scp``. Out: statistics, or normalised features (as ``apply-cmvn``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gatescope.asr.features import ark as kaldi_ark
from gatescope.errors import InputError


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
