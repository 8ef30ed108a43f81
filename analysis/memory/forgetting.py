"""Forgetting speed: how fast a layer's state returns to its clean trajectory after a noise burst.

Definitions (Tang et al. 2017, made exact here):

* For an utterance recorded clean (states ``x_t``) and with a burst whose last touched output frame is ``e - 1``,
  the *distance* at ``k`` frames after the burst is ``d_k = ||x~_{e+k} - x_{e+k}|| / m``, Euclidean over the
  layer's units, where ``m`` is the clean trajectory's mean frame-to-frame step ``mean_t ||x_{t+1} - x_t||``. A
  distance of 1 is one typical clean step.
* The *half-life* is ``T`` of the fit ``d_k = A 2^(-k/T) + C`` (``C >= 0`` is a floor the state may never leave),
  over the first :data:`FIT_WINDOW_MS` of the curve.
* *Frames to 10%*: the first ``k`` with ``d_k < 0.1 d_0``.

Curves are averaged over utterances and conditions (burst positions, noise types, SNRs); confidence intervals
are percentile bootstraps over the curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from gatescope.analysis.memory.states import StateFile
from gatescope.errors import InputError

FIT_WINDOW_MS = 1500.0
BOOTSTRAP_SAMPLES = 200


def trajectory_distance(perturbed: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """``(frames,)`` Euclidean distance per frame between two ``(frames, units)`` trajectories, in units of the
    clean trajectory's mean frame-to-frame step."""
    if perturbed.shape != clean.shape:
        raise ValueError(f"trajectories differ in shape: {perturbed.shape} vs {clean.shape}")
    steps = np.linalg.norm(np.diff(clean.astype(np.float64), axis=0), axis=1)
    scale = float(steps.mean()) if steps.size else 0.0
    distance = np.linalg.norm(perturbed.astype(np.float64) - clean, axis=1)
    return distance / scale if scale > 0 else distance


def _decay(k: np.ndarray, amplitude: float, half: float, floor: float) -> np.ndarray:
    return amplitude * np.exp2(-k / half) + floor


def half_life(distance: np.ndarray, frame_shift_ms: float = 10.0) -> float:
    """Half-life in frames of a distance curve that starts at the burst's end (see the module definitions).

    ``frame_shift_ms`` is the time between the curve's samples; it sets how many of them the fit uses (the
    first :data:`FIT_WINDOW_MS`). Returns ``inf`` for a curve that does not decay, ``nan`` for an empty one.
    """
    d = np.asarray(distance, dtype=np.float64)
    d = d[: max(3, int(FIT_WINDOW_MS / frame_shift_ms))]
    d = d[np.isfinite(d)]
    if d.size < 3 or d[0] <= 0:
        return math.nan
    k = np.arange(d.size, dtype=np.float64)
    floor0 = max(0.0, float(d.min()))
    above = d - floor0
    guess = _loglinear_half_life(k, above) if above[0] > 0 else float(d.size)
    try:
        params, _ = curve_fit(
            _decay,
            k,
            d,
            p0=(max(above[0], 1e-9), min(max(guess, 0.1), 1e4), floor0),
            bounds=([0.0, 1e-3, 0.0], [np.inf, 1e6, np.inf]),
            maxfev=5000,
        )
    except (RuntimeError, ValueError):
        return guess
    return float(params[1]) if params[0] > 1e-9 else math.inf


def _loglinear_half_life(k: np.ndarray, values: np.ndarray) -> float:
    """Half-life from a straight-line fit of log2(value) against k (positive values only)."""
    keep = values > 0
    if keep.sum() < 2:
        return math.inf
    slope = np.polyfit(k[keep], np.log2(values[keep]), 1)[0]
    return float(-1.0 / slope) if slope < 0 else math.inf


def frames_to_fraction(distance: np.ndarray, fraction: float = 0.1) -> int | None:
    """The first frame at which the curve falls below ``fraction`` of its first value (None: never)."""
    d = np.asarray(distance, dtype=np.float64)
    if d.size == 0 or d[0] <= 0:
        return None
    below = np.nonzero(d < fraction * d[0])[0]
    return int(below[0]) if below.size else None


def _mean_curve(curves: np.ndarray) -> np.ndarray:
    """The mean of ``curves`` ``(curves, horizon)`` frame by frame over the finite values; NaN where none is (a
    frame no utterance reaches, as after a burst in FSDD's half-second clips)."""
    finite = np.isfinite(curves)
    total = np.where(finite, curves, 0.0).sum(axis=0)
    reached = finite.sum(axis=0)
    return np.divide(total, reached, out=np.full(total.shape, np.nan), where=reached > 0)


@dataclass
class ForgettingCurves:
    """Per-utterance distance curves after burst end for one model, layer and state (NaN-padded to ``horizon``)."""

    curves: np.ndarray  # (curves, horizon)
    frame_shift_ms: float

    def mean(self) -> np.ndarray:
        """The mean distance curve over every burst, ignoring utterances too short to reach a frame."""
        return _mean_curve(self.curves)

    def summary(self, seed: int = 0) -> dict[str, Any]:
        """Half-life (frames and ms) and frames to 10% of the mean curve, with 95% bootstrap intervals."""
        mean = self.mean()
        rng = np.random.default_rng(seed)
        halves, tens = [], []
        for _ in range(BOOTSTRAP_SAMPLES):
            sample = self.curves[rng.integers(len(self.curves), size=len(self.curves))]
            curve = _mean_curve(sample)
            halves.append(half_life(curve, self.frame_shift_ms))
            tens.append(frames_to_fraction(curve))
        half = half_life(mean, self.frame_shift_ms)
        ten = frames_to_fraction(mean)
        finite = [h for h in halves if np.isfinite(h)]
        reached = [t for t in tens if t is not None]
        return {
            "curves": len(self.curves),
            "half_life_frames": _round(half),
            "half_life_ms": _round(half * self.frame_shift_ms),
            "half_life_ci_frames": [_round(np.percentile(finite, 2.5)), _round(np.percentile(finite, 97.5))]
            if finite
            else None,
            "frames_to_10pct": ten,
            "frames_to_10pct_ci": [float(np.percentile(reached, 2.5)), float(np.percentile(reached, 97.5))]
            if reached
            else None,
            "distance_at_burst_end": _round(float(mean[0])),
        }


def _round(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 3)


def forgetting_curves(
    clean: StateFile, perturbed: list[StateFile], layer: int, state: str, horizon: int
) -> ForgettingCurves:
    """Distance curves for every utterance of every perturbed run, from the burst's end on, ``horizon`` frames."""
    rows = []
    for run in perturbed:
        for utt in run.utts:
            burst = run.burst(utt)
            if burst is None:
                raise InputError(f"{run.path}: utterance {utt} has no burst recorded")
            first = run.first_frame(utt)
            noisy = run.state(utt, layer, state)
            reference = clean.state(utt, layer, state)
            aligned = reference[first : first + noisy.shape[0]]
            distance = trajectory_distance(noisy, aligned)
            # Normalise by the whole clean utterance's step, not just the stored part.
            steps = np.linalg.norm(np.diff(reference.astype(np.float64), axis=0), axis=1)
            part = np.linalg.norm(np.diff(aligned.astype(np.float64), axis=0), axis=1)
            if steps.size and part.size and part.mean() > 0:
                distance = distance * part.mean() / steps.mean()
            after = distance[burst[1] - first :][:horizon]
            row = np.full(horizon, np.nan)
            row[: after.size] = after
            if after.size:
                rows.append(row)
    if not rows:
        raise InputError("no utterance has frames after its burst; use shorter or earlier bursts")
    return ForgettingCurves(np.array(rows), clean.info.frame_shift_ms)
