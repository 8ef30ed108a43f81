"""Online front end: features, CMVN and resampling computed chunk by chunk, equal to their offline versions.

* :class:`OnlineFeatures` buffers samples across chunks and emits a frame as soon as its 25 ms window is complete.
  Kaldi's snip-edges frames are computed independently of each other, so the frames equal those of
  :func:`~gatescope.asr.features.fbank.compute_features` on the whole signal (to float rounding).
* :class:`OnlineCMVN` normalises with fixed statistics (the training set's, pooled over speakers) or with a causal
  sliding window (Kaldi ``apply-cmvn-sliding --center=false``).
* :class:`StreamResampler` is a causal polyphase FIR resampler whose output does not depend on the chunking.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import firwin

from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.errors import InputError

SLIDING_WINDOW_FRAMES = 600  # Kaldi's apply-cmvn-sliding default (6 s)


class OnlineFeatures:
    """``accept(samples) -> (new_frames, dim)``; ``config`` as the model's training features (no deltas)."""

    def __init__(self, config: FeatureConfig) -> None:
        if config.add_deltas:
            raise InputError("streaming needs features without deltas (add_deltas: false); retrain or re-extract")
        self.config = config
        self.window, self.shift = config.frame_samples()
        self.buffer = np.zeros(0, dtype=np.float32)
        self.frames_done = 0

    def accept(self, samples: np.ndarray) -> np.ndarray:
        """Take a chunk of samples; returns the feature frames that became complete ``(frames, dim)``."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32).reshape(-1)])
        ready = 0 if self.buffer.size < self.window else 1 + (self.buffer.size - self.window) // self.shift
        if ready == 0:
            return np.zeros((0, self.config.dim), dtype=np.float32)
        used = (ready - 1) * self.shift + self.window
        frames = compute_features(self.buffer[:used], self.config).numpy()
        self.buffer = self.buffer[ready * self.shift :]  # keep the overlap the next frame needs
        self.frames_done += ready
        return frames


class OnlineCMVN:
    """Mean (and variance) normalisation frame by frame: ``mode`` ``"global"`` with ``stats``, or ``"sliding"``
    over the last :data:`SLIDING_WINDOW_FRAMES` frames including the current one; ``"none"`` passes through."""

    def __init__(self, mode: str, stats: np.ndarray | None, norm_vars: bool, window: int = SLIDING_WINDOW_FRAMES):
        if mode not in ("global", "sliding", "none"):
            raise InputError(f"CMVN mode must be global, sliding or none, got {mode!r}")
        if mode == "global" and stats is None:
            raise InputError("global CMVN needs statistics (the training set's cmvn.scp)")
        self.mode, self.norm_vars, self.window = mode, norm_vars, window
        if stats is not None:
            count = stats[0, -1]
            self.mean = stats[0, :-1] / count
            self.std = np.sqrt(np.maximum(stats[1, :-1] / count - self.mean**2, 1e-10))
        self.history = np.zeros((0, 0))

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """Normalise frames ``(frames, dim)`` as they arrive."""
        if self.mode == "none" or frames.shape[0] == 0:
            return frames.astype(np.float32)
        if self.mode == "global":
            out = frames - self.mean
            return (out / self.std if self.norm_vars else out).astype(np.float32)
        history = np.concatenate([self.history, frames]) if self.history.size else frames.astype(np.float64)
        start = history.shape[0] - frames.shape[0]
        out = np.empty_like(frames, dtype=np.float64)
        cumsum = np.cumsum(np.vstack([np.zeros(history.shape[1]), history]), axis=0)
        cumsq = np.cumsum(np.vstack([np.zeros(history.shape[1]), history**2]), axis=0)
        for i in range(frames.shape[0]):
            t = start + i
            lo = max(0, t - self.window + 1)
            n = t + 1 - lo
            mean = (cumsum[t + 1] - cumsum[lo]) / n
            out[i] = history[t] - mean
            if self.norm_vars:
                var = np.maximum((cumsq[t + 1] - cumsq[lo]) / n - mean**2, 1e-10)
                out[i] /= np.sqrt(var)
        self.history = history[-(self.window - 1) :] if self.window > 1 else history[:0]
        return out.astype(np.float32)


class StreamResampler:
    """Causal polyphase resampling from ``orig_rate`` to ``new_rate`` (a 64-taps-per-phase windowed-sinc FIR).

    ``process(chunk)`` returns the output samples whose inputs have arrived; the concatenated output is the same
    for any chunking. The filter delays the signal by ``delay_s`` (about 2 ms at 48 -> 16 kHz).
    """

    TAPS_PER_PHASE = 64

    def __init__(self, orig_rate: int, new_rate: int) -> None:
        ratio = Fraction(new_rate, orig_rate)
        self.up, self.down = ratio.numerator, ratio.denominator
        cutoff = 0.95 / max(self.up, self.down)  # of the upsampled Nyquist band
        self.taps = firwin(self.TAPS_PER_PHASE * self.up, cutoff) * self.up
        self.delay_s = (self.taps.size - 1) / 2 / (orig_rate * self.up)
        self.history = np.zeros(self.TAPS_PER_PHASE + 1, dtype=np.float64)  # the inputs before this chunk
        self.consumed = 0  # input samples seen
        self.next_output = 0

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Resample one chunk; the filter's state is carried, so any chunking gives the same output."""
        x = np.concatenate([self.history, np.asarray(chunk, dtype=np.float64).reshape(-1)])
        self.consumed += len(chunk)
        # Output n is the upsampled signal at n * down: it needs the inputs up to floor(n * down / up).
        last = (self.consumed * self.up - 1) // self.down
        n = np.arange(self.next_output, last + 1)
        self.history = x[-self.history.size :]
        if n.size == 0:
            return np.zeros(0, dtype=np.float32)
        position = n * self.down
        phase, base = position % self.up, position // self.up
        j = np.arange(self.TAPS_PER_PHASE)
        index = base[:, None] - j[None, :] - (self.consumed - x.size)  # global input index -> index into x
        values = np.where(index >= 0, x[np.clip(index, 0, None)], 0.0)  # before the stream: silence
        out = (values * self.taps[phase[:, None] + j[None, :] * self.up]).sum(axis=1)
        self.next_output = int(last) + 1
        return out.astype(np.float32)
