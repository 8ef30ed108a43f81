"""gatescope.analysis: what trained networks do with their memory, and how they hold up under noise.

``memory/`` records gates and states and measures forgetting, selectivity and distributions; ``robustness/``
scores every model under every noise condition; ``reports/`` turns both into HTML. The analyses read recorded
states (``gatescope.analysis.memory.states``); only the recorder runs a model, and nothing here imports the
training code.
"""

from gatescope.analysis.memory.distributions import sample_units, saturation, value_statistics
from gatescope.analysis.memory.forgetting import frames_to_fraction, half_life, trajectory_distance
from gatescope.analysis.memory.selectivity import (
    count_selective,
    phoneme_selectivity_index,
    response_rates,
    selectivity_index,
)
from gatescope.analysis.memory.states import StateFile

__all__ = [
    "StateFile",
    "count_selective",
    "frames_to_fraction",
    "half_life",
    "phoneme_selectivity_index",
    "response_rates",
    "sample_units",
    "saturation",
    "selectivity_index",
    "trajectory_distance",
    "value_statistics",
]
