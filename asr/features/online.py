"""Online front end: features, CMVN and resampling computed chunk by chunk, equal to their offline versions.

* :class:`OnlineFeatures` buffers samples across chunks and emits a frame as soon as its 25 ms window is complete.
  Kaldi's snip-edges frames are computed independently of each other, so the frames equal those of
  :func:`~gatescope.asr.features.fbank.compute_features` on the whole signal (to float rounding).
  (CMVN frame by frame is :class:`~gatescope.asr.features.cmvn.OnlineCMVN`.)
* :class:`StreamResampler` is a causal polyphase FIR resampler whose output does not depend on the chunking.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import firwin

from gatescope.asr.features.fbank import FeatureConfig, feature_matrix
from gatescope.errors import InputError


class OnlineFeatures:
    """``accept(samples) -> (new_frames, dim)``; ``config`` as the model's training features (no deltas)."""

    def __init__(self, config: FeatureConfig) -> None:
        if config.add_deltas:
            raise InputError("streaming needs features without deltas (add_deltas: false); retrain or re-extract")
        self.config = config
        self.window, self.shift = config.frame_samples()
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = 0  # the stream position of buffer[0] (it picks the dither)
        self.frames_done = 0

    def accept(self, samples: np.ndarray) -> np.ndarray:
        """Take a chunk of samples; returns the feature frames that became complete ``(frames, dim)``."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32).reshape(-1)])
        ready = 0 if self.buffer.size < self.window else 1 + (self.buffer.size - self.window) // self.shift
        if ready == 0:
            return np.zeros((0, self.config.dim), dtype=np.float32)
        used = (ready - 1) * self.shift + self.window
        frames = feature_matrix(self.buffer[:used], self.config, first_sample=self.buffer_start)
        self.buffer = self.buffer[ready * self.shift :]  # keep the overlap the next frame needs
        self.buffer_start += ready * self.shift
        self.frames_done += ready
        return frames


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
