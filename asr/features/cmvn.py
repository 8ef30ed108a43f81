"""Cepstral mean and variance normalisation with Kaldi's statistics: ``(2, dim + 1)`` float64, sums and count in
row 0, sums of squares in row 1 (as ``compute-cmvn-stats`` writes them).

In: feature matrices, or a ``cmvn.scp``. Out: statistics, or normalised features: per speaker (``apply-cmvn``),
per utterance, or over a causal sliding window (``apply-cmvn-sliding --center=false``), offline and frame by
frame alike; in streaming also as Kaldi's online CMVN (a sliding window with the training statistics as a
prior). A model is normalised in decoding and streaming as it was in training (its ``cmvn_mode``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def stats_mean_var(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and variance (floored at 1e-10) of Kaldi CMVN stats ``(2, dim + 1)``."""
    count = stats[0, -1]
    mean = stats[0, :-1] / count
    return mean, np.maximum(stats[1, :-1] / count - mean**2, 1e-10)


def apply_cmvn(feats: np.ndarray, stats: np.ndarray, norm_vars: bool = True) -> np.ndarray:
    """Normalise ``(frames, dim)`` features with Kaldi CMVN stats (as ``apply-cmvn``)."""
    mean, var = stats_mean_var(stats)
    out = feats - mean
    if norm_vars:
        out = out / np.sqrt(var)
    return out.astype(np.float32)


def shifted_stats(speaker_stats: np.ndarray, clean: np.ndarray, perturbed: np.ndarray) -> np.ndarray:
    """A speaker's statistics moved as a perturbation moved one utterance's: mean + (perturbed mean - clean mean),
    variance x (perturbed variance / clean variance), in the speaker's count.

    In: the speaker's Kaldi stats and the utterance's ``(frames, dim)`` features before and after (its speech
    frames only; they need not align in time). Out: ``(2, dim + 1)`` stats, as if all of the speaker's audio had
    gone through that noise or channel, which is what online CMVN converges to on a perturbed stream."""
    count = speaker_stats[0, -1]
    mean, var = stats_mean_var(speaker_stats)
    before, after = clean.astype(np.float64), perturbed.astype(np.float64)
    mean = mean + after.mean(0) - before.mean(0)
    var = var * np.maximum(after.var(0), 1e-10) / np.maximum(before.var(0), 1e-10)
    out = np.zeros_like(speaker_stats)
    out[0, :-1], out[0, -1], out[1, :-1] = mean * count, count, (var + mean**2) * count
    return out


def pooled_cmvn_stats(cmvn_scp: Path) -> np.ndarray:
    """Kaldi CMVN statistics summed over every speaker of a ``cmvn.scp``: one global ``(2, dim + 1)``."""
    stats = [matrix for _, matrix in kaldi_ark.read_matrix_scp(cmvn_scp)]
    if not stats:
        raise InputError(f"{cmvn_scp}: no CMVN statistics")
    return np.sum(stats, axis=0)


PRIOR_FRAMES = 200  # Kaldi's online CMVN --global-frames: the prior's weight while a stream is young
SILENCE_MARGIN_DB = 10.0  # online CMVN leaves out frames within this many dB of digital silence's level
ONLINE_WINDOW_FRAMES = 3000  # online CMVN's history (30 s): a speaker's statistics need many words, not a few


def speech_floor(silence_level: float) -> float:
    """The frame level (natural log of power, as ``FeatureConfig.frame_levels``) below which a frame counts as
    digital silence, not speech: ``SILENCE_MARGIN_DB`` above ``silence_level``."""
    return silence_level + SILENCE_MARGIN_DB * math.log(10) / 10


class OnlineCMVN:
    """Mean (and variance) normalisation frame by frame. ``mode``:

    * ``"global"``: the fixed ``stats`` (the training set's pooled statistics);
    * ``"sliding"``: the last ``window`` frames including the current one;
    * ``"online"``: as Kaldi's online CMVN, the last ``window`` frames (default :data:`ONLINE_WINDOW_FRAMES`)
      topped up with ``stats`` as a prior weighing ``prior_frames - n`` frames while fewer than ``prior_frames``
      (``n``) have been heard: it starts at the global statistics and adapts to the speaker and channel;
    * ``"none"``: passes through.

    The history is kept until :meth:`reset`, so a stream (or one speaker's recordings fed in turn) adapts across
    utterances. With ``levels`` (a frame's mean log mel energy, :meth:`FeatureConfig.frame_levels`), online CMVN
    leaves the frames below ``min_level`` out of its statistics (the recogniser passes digital silence's level
    plus :data:`SILENCE_MARGIN_DB`): the exact zeros a muted or virtual microphone sends never occur in training
    recordings, and would pull the mean toward them. (Gating relative to the loudest frame instead was measured and
    dropped: training statistics count every frame of a recording, quiet ones too, and so must streaming.)
    """

    MODES = ("global", "sliding", "online", "none")

    def __init__(
        self,
        mode: str,
        stats: np.ndarray | None,
        norm_vars: bool,
        window: int | None = None,
        prior_frames: int = PRIOR_FRAMES,
        levels: Callable[[np.ndarray], np.ndarray] | None = None,
        min_level: float = -math.inf,
    ):
        window = window or (ONLINE_WINDOW_FRAMES if mode == "online" else SLIDING_WINDOW_FRAMES)
        if mode not in self.MODES:
            raise InputError(f"CMVN mode must be one of {self.MODES}, got {mode!r}")
        if mode in ("global", "online") and stats is None:
            raise InputError(f"{mode} CMVN needs statistics (the training set's cmvn.scp)")
        if window < 1 or prior_frames < 0:
            raise InputError(f"CMVN window must be >= 1 and prior frames >= 0, got {window}, {prior_frames}")
        self.mode, self.norm_vars, self.window, self.prior_frames = mode, norm_vars, window, prior_frames
        self.levels, self.min_level = (levels, min_level) if mode == "online" else (None, -math.inf)
        if stats is not None:
            self.mean, var = stats_mean_var(stats)
            self.std = np.sqrt(var)
            self.prior_squares = var + self.mean**2  # one prior frame's contribution to the sum of squares
        self.reset()

    def reset(self) -> None:
        """Forget the frames heard so far (a new speaker or channel)."""
        self.frames_heard = 0
        # Per frame in the window, the row it adds to the running totals: [w x, w x^2, w] with w 1 for a frame
        # counted in the statistics and 0 for one gated out; frame t at row t % window.
        self.ring = np.zeros((0, 0))
        self.totals = np.zeros(0)  # the sums of those rows over the frames in the window

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """Normalise frames ``(frames, dim)`` as they arrive (running sums over the window: the cost of a chunk
        does not grow with the window)."""
        if self.mode == "none" or frames.shape[0] == 0:
            return frames.astype(np.float32)
        if self.mode == "global":
            out = frames - self.mean
            return (out / self.std if self.norm_vars else out).astype(np.float32)
        new = np.asarray(frames, dtype=np.float64)
        n, dim = new.shape
        if self.ring.size == 0:
            self.ring, self.totals = np.zeros((self.window, 2 * dim + 1)), np.zeros(2 * dim + 1)
        entering = np.empty((n, 2 * dim + 1))
        weights = entering[:, 2 * dim :]
        weights[:] = self._weights(new)[:, None]
        np.multiply(new, weights, out=entering[:, :dim])
        np.multiply(entering[:, :dim], new, out=entering[:, dim : 2 * dim])
        counted_before = self.totals[2 * dim]
        # Frame t enters the window as frame t - window leaves it. The ring's row t % window holds frame
        # t - window (zeros before the window has filled); past the first window of a long chunk, the chunk's own.
        start = self.frames_heard % self.window
        if start + n <= self.window:  # the usual chunk: its rows of the ring are one slice
            change = entering - self.ring[start : start + n]
            self.ring[start : start + n] = entering
        else:
            in_ring = min(n, self.window)
            rows = (self.frames_heard + np.arange(in_ring)) % self.window
            change = entering.copy()
            change[:in_ring] -= self.ring[rows]
            change[in_ring:] -= entering[: n - in_ring]
            self.ring[(self.frames_heard + np.arange(n - in_ring, n)) % self.window] = entering[n - in_ring :]
        totals = np.cumsum(change, axis=0)  # after each frame of the chunk
        totals += self.totals
        self.totals = totals[-1].copy()
        self.frames_heard += n
        sums, squares, count = totals[:, :dim], totals[:, dim : 2 * dim], totals[:, 2 * dim :]
        # the prior tops up the count to prior_frames; no frame of the chunk can need it once at least
        # prior_frames + n frames were counted before it (each frame lowers the count by at most one)
        if self.mode == "online" and counted_before < self.prior_frames + n:
            prior = np.maximum(self.prior_frames - count, 0.0)
            sums, squares = sums + prior * self.mean, squares + prior * self.prior_squares
            count = count + prior
        count = np.maximum(count, 1e-10)  # a sliding window of gated-out frames only (online mode has its prior)
        mean = sums / count
        out = new - mean
        if self.norm_vars:
            out /= np.sqrt(np.maximum(squares / count - mean**2, 1e-10))
        return out.astype(np.float32)

    def _weights(self, frames: np.ndarray) -> np.ndarray:
        """1 for each frame that counts in the statistics; 0 for one below ``min_level``."""
        if self.levels is None:
            return np.ones(frames.shape[0])
        return (self.levels(frames) >= self.min_level).astype(np.float64)


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
    """The streaming CMVN that comes closest to a model's training normalisation: ``online`` (the training set's
    pooled stats, adapted to the speaker as the stream goes on) for per-speaker CMVN, ``sliding`` for
    per-utterance or sliding, ``none`` for none."""
    return {"speaker": "online", "utterance": "sliding", "sliding": "sliding", "none": "none"}[trained_mode]
