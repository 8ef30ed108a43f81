"""t-SNE views of a layer's state trajectory over an utterance (Tang et al. 2017, Fig. 5): each frame's state
vector becomes a point; the clean and the burst-perturbed trajectories are embedded together so their divergence
and return are visible."""

from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE


def embed_trajectories(trajectories: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """2-D t-SNE of the frames of several ``(frames, units)`` trajectories in one embedding; returns one
    ``(frames, 2)`` array per trajectory. Perplexity adapts to short utterances."""
    joined = np.concatenate(trajectories).astype(np.float64)
    if joined.shape[0] < 5:
        raise ValueError(f"t-SNE needs at least 5 frames, got {joined.shape[0]}")
    perplexity = float(min(30.0, (joined.shape[0] - 1) / 3))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(joined)
    out, start = [], 0
    for trajectory in trajectories:
        out.append(points[start : start + trajectory.shape[0]])
        start += trajectory.shape[0]
    return out
