"""Phone-selective neurons.

* *Response rate* of unit ``u`` to phone ``p``: the fraction of the frames labelled ``p`` in which ``u`` is active,
  i.e. its value exceeds ``active`` (default 0). Tang et al. (2017) counted, per layer, the units whose response
  rate to a phone exceeds 0.8 (LSTM cell values) or 0.5 (GRU states).
* *Phoneme selectivity index* (PSI; Mesgarani et al. 2008, used for speech networks by Nagamine et al. 2015): for
  unit ``u`` and phone ``p``, the number of other phones ``q`` whose responses are significantly lower than the
  responses to ``p`` (one-sided Wilcoxon rank-sum test, normal approximation, ``p < alpha``). It needs no activity
  threshold, so models whose states live on different scales compare fairly. A unit's selectivity is its largest
  PSI over phones, divided by ``phones - 1`` (0: responds to no phone differently, 1: to one phone above all).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

DEFAULT_THRESHOLDS = {"lstm": 0.8, "gru": 0.5, "rnn": 0.5}
PSI_ALPHA = 0.001
PSI_MAX_FRAMES = 200  # frames per phone drawn for the rank tests (seeded)
PSI_MIN_FRAMES = 20  # phones with fewer frames are left out of the PSI


def response_rates(
    states: np.ndarray, phone_labels: np.ndarray, active: float = 0.0, num_phones: int | None = None
) -> np.ndarray:
    """``(units, phones)``: fraction of each phone's frames in which each unit's value is above ``active``.

    Args:
        states: ``(frames, units)``; phone_labels: ``(frames,)`` class ids (negative ids are ignored).
        num_phones: the number of classes (default ``max label + 1``); a phone without frames gets NaN.
    """
    labels = np.asarray(phone_labels)
    if states.shape[0] != labels.shape[0]:
        raise ValueError(f"{states.shape[0]} frames of states but {labels.shape[0]} labels")
    phones = int(num_phones if num_phones is not None else labels.max() + 1)
    keep = labels >= 0
    on = (states[keep] > active).astype(np.float64)
    one_hot = np.zeros((int(keep.sum()), phones))
    one_hot[np.arange(one_hot.shape[0]), labels[keep]] = 1.0
    counts = one_hot.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (on.T @ one_hot) / counts


def count_selective(rates: np.ndarray, threshold: float) -> np.ndarray:
    """``(phones,)``: how many units have a response rate above ``threshold`` for each phone."""
    return (np.nan_to_num(rates, nan=0.0) > threshold).sum(axis=0)


def phoneme_selectivity_index(
    states: np.ndarray, phone_labels: np.ndarray, num_phones: int, alpha: float = PSI_ALPHA, seed: int = 0
) -> np.ndarray:
    """``(units, phones)`` PSI (see the module definition); phones with too few frames get NaN.

    The rank-sum statistic of every pair of phones comes from one count table per unit (:func:`_pair_u`)
    instead of ranking each pair's frames again: the same numbers as Wilcoxon's rank sums with average ranks."""
    rng = np.random.default_rng(seed)
    samples: dict[int, np.ndarray] = {}
    for p in range(num_phones):
        frames = np.nonzero(phone_labels == p)[0]
        if frames.size >= PSI_MIN_FRAMES:
            chosen = rng.choice(frames, size=min(frames.size, PSI_MAX_FRAMES), replace=False)
            samples[p] = states[chosen]  # (n_p, units)
    psi = np.full((states.shape[1], num_phones), np.nan)
    if not samples:
        return psi
    phones = list(samples)
    sizes = np.array([samples[p].shape[0] for p in phones], dtype=np.float64)
    pooled = np.concatenate([samples[p] for p in phones])  # (frames, units)
    row_phone = np.repeat(np.arange(len(phones)), sizes.astype(np.int64))
    n, m = sizes[:, None], sizes[None, :]
    mean, std = n * m / 2, np.sqrt(n * m * (n + m + 1) / 12)
    for unit in range(pooled.shape[1]):
        u = _pair_u(np.unique(pooled[:, unit], return_inverse=True)[1], row_phone, len(phones))
        lower = 1.0 - ndtr((u - mean) / std) < alpha  # (p, q): p's responses significantly above q's
        np.fill_diagonal(lower, False)
        psi[unit, phones] = lower.sum(axis=1)
    return psi


def _pair_u(codes: np.ndarray, row_phone: np.ndarray, num_phones: int) -> np.ndarray:
    """``(phones, phones)`` Mann-Whitney U of every ordered pair for one unit: ``U[p, q]`` counts the pairs of a
    frame of ``p`` and a frame of ``q`` with ``p``'s value above (ties a half). ``codes``: each frame's value as
    its rank among the distinct values (``np.unique``'s inverse); ``row_phone``: each frame's phone."""
    distinct = int(codes.max()) + 1
    counts = np.bincount(row_phone * distinct + codes, minlength=num_phones * distinct)
    counts = counts.reshape(num_phones, distinct).astype(np.float64)  # frames of each phone at each value
    below = np.cumsum(counts, axis=1) - counts  # frames of each phone below each value
    return counts @ (below + 0.5 * counts).T


def selectivity_index(psi: np.ndarray) -> np.ndarray:
    """``(units,)`` each unit's largest PSI over phones divided by ``phones - 1`` (phones with a PSI)."""
    tested = np.isfinite(psi).any(axis=0).sum()
    return np.nanmax(psi, axis=1) / max(1, tested - 1)
