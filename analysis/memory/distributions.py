"""Cell-value and activation distributions (Tang et al. 2017: LSTM uses large-magnitude cell values, GRU the
differences between neurons) and gate saturation (Karpathy et al. 2015).

* Per layer, ``sample_units`` (default 50) units chosen with a seeded generator; statistics over all their frames:
  mean ``|value|``, standard deviation, fraction of ``|value| > 1``, excess kurtosis (Fisher), and the
  *between-neuron share*: the variance of the units' mean values divided by the total variance — how much of the
  layer's variation is differences between neurons rather than changes over time.
* Gate saturation: per unit, the fraction of frames the gate is left-saturated (``< 0.1``) and right-saturated
  (``> 0.9``).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kurtosis

SAMPLE_UNITS = 50
LEFT, RIGHT = 0.1, 0.9


def sample_units(units: int, count: int = SAMPLE_UNITS, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``min(count, units)`` units drawn without replacement."""
    return np.sort(np.random.default_rng(seed).choice(units, size=min(count, units), replace=False))


def value_statistics(values: np.ndarray) -> dict[str, float]:
    """Statistics of ``(frames, units)`` values (see the module definitions)."""
    v = values.astype(np.float64)
    total = float(v.var())
    between = float(v.mean(axis=0).var())
    return {
        "mean_abs": round(float(np.abs(v).mean()), 4),
        "std": round(float(v.std()), 4),
        "frac_abs_gt_1": round(float((np.abs(v) > 1).mean()), 4),
        "kurtosis": round(float(kurtosis(v.ravel(), fisher=True)), 3),
        "between_neuron_share": round(between / total, 4) if total > 0 else 0.0,
    }


def saturation(gate: np.ndarray, left: float = LEFT, right: float = RIGHT) -> tuple[np.ndarray, np.ndarray]:
    """``(left_fraction, right_fraction)``, each ``(units,)``, for gate activations ``(frames, units)``."""
    return (gate < left).mean(axis=0), (gate > right).mean(axis=0)
