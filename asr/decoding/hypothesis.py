"""What a CTC search returns for one utterance (greedy, prefix beam or grammar search alike)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hypothesis:
    """Token ids (blank removed, repeats merged) and the output frame at which each was emitted."""

    ids: list[int]
    frames: list[int]
