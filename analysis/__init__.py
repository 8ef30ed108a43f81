"""gatescope.analysis: state recording, forgetting speed, phone selectivity, distributions and reports.

The analyses read recorded states (``gatescope.analysis.states``); only the recorder runs a model, and nothing here
imports the training code.
"""

from gatescope.analysis.distributions import sample_units, saturation, value_statistics
from gatescope.analysis.forgetting import frames_to_fraction, half_life, trajectory_distance
from gatescope.analysis.selectivity import count_selective, phoneme_selectivity_index, response_rates, selectivity_index
from gatescope.analysis.states import StateFile

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
