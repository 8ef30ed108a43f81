"""Models: the recurrent cell library (``cells/``), the CTC acoustic model, and loading experiments.

In: feature frames ``(batch, time, feat)``. Out: per-frame log-probabilities over CTC tokens (and, on the
introspection path, every gate and state).
"""
