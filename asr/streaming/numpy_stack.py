"""A trained unidirectional LSTM or GRU model run frame by frame in numpy, for streaming on a CPU.

In: an :class:`~gatescope.asr.models.acoustic.AcousticModel` whose recurrent layers are standard one-direction
LSTM or GRU layers (no projection), then stacked feature frames ``(frames, input)`` a chunk at a time. Out: the
log-probabilities ``(frames, tokens)`` of those frames, the recurrent state carried from chunk to chunk, equal to
the model's own forward pass to float rounding (tests hold them within 1e-5).

Why: a 100 ms chunk brings 3 or 4 stacked frames per layer. For so few frames PyTorch's CPU kernel costs about
100 µs per frame and layer on this project's 2-core machine, mostly per-operator overhead around two small
products; numpy's OpenBLAS does a one-row product (``h W_hh``) in about 20 µs and the gate activations in place
in a few more (``bench/stream_speed.py`` measures both paths side by side). The input products of a layer do
not depend on its recurrence, so they are one product for all the chunk's frames, done by oneDNN with the weight
packed for a few rows (:mod:`~gatescope.asr.models.cells.cpu_matmul`): a 3-row product in about twice a one-row
product's time, where PyTorch's MKL costs four and OpenBLAS nine (AVX-512 AMD EPYC: 20, 39 and 86 µs). The
frame loops make about ten numpy calls per frame, into buffers and views made once: each call costs about a
microsecond besides its arithmetic, as much as a gate's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit
from torch import Tensor

from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.cells.cpu_matmul import PackedLinear
from gatescope.asr.models.cells.layer import RecurrentLayer

# Stacked frames a layer gets per chunk, what its input products are packed for: 3 or 4 for 100 ms chunks at 30 ms.
CHUNK_FRAMES = 4
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # one direction's, as torch.nn.LSTM/GRU name them


def unsupported_reason(model: AcousticModel) -> str | None:
    """Why ``model`` cannot run here (None: it can): only standard one-direction LSTM and GRU layers without
    projection, on the CPU."""
    encoder = model.encoder
    if encoder.family not in ("lstm", "gru") or not encoder.uses_fast_path:
        return f"cell {encoder.kind!r} is not a standard LSTM or GRU"
    if encoder.directions != 1:
        return "bidirectional"
    if any(layer.proj_size for layer in encoder.layers):
        return "LSTM projection"
    if next(model.parameters()).device.type != "cpu":
        return "model not on the CPU"
    return None


@dataclass(frozen=True)
class _Layer:
    """One layer's weights: the input product over a chunk's frames, the recurrent weight transposed for one-row
    products."""

    input_product: PackedLinear  # x W_ih^T + b over all of a chunk's frames, by oneDNN (else PyTorch's BLAS)
    w_hh: np.ndarray  # (units, gates * units)
    b_hn: np.ndarray  # (1, units): the GRU's recurrent n bias, which stays inside r * (h W_hn + b_hn); LSTM: empty


@dataclass
class StackState:
    """Per layer ``h`` and, for the LSTM, ``c``: ``(1, units)`` float32 arrays, updated in place by a step."""

    h: list[np.ndarray]
    c: list[np.ndarray]


class _FrameBuffers:
    """Scratch rows for one frame of a layer and fixed views of their gate blocks, made once (slicing them out
    every frame would cost as much as a gate's arithmetic)."""

    def __init__(self, family: str, units: int) -> None:
        n = units
        self.gates = np.empty((1, (4 if family == "lstm" else 3) * n), np.float32)
        self.recurrent = np.empty_like(self.gates)  # the GRU's h W_hh
        blocks = [self.gates[:, k * n : (k + 1) * n] for k in range(self.gates.shape[1] // n)]
        if family == "lstm":  # gates ordered i, f, o, g
            self.sigmoid, (self.i, self.f, self.o, self.g) = self.gates[:, : 3 * n], blocks
        else:  # r, z, n
            self.sigmoid, (self.r, self.z, self.n) = self.gates[:, : 2 * n], blocks
            self.recurrent_n = self.recurrent[:, 2 * n :]


def _lstm_frames(inputs: np.ndarray, w_hh: np.ndarray, h: np.ndarray, c: np.ndarray, out: np.ndarray,
                 buffers: _FrameBuffers) -> None:  # fmt: skip
    """LSTM frames in place: ``inputs`` ``(frames, 4 units)`` holds each frame's ``x_t W_ih + b`` (gates i, f, o,
    g); ``h`` and ``c`` carry the state; row t of ``out`` gets frame t's h (computed there: the previous row is the
    next frame's h, and ``h`` gets the last row once)."""
    b, previous = buffers, h
    for t in range(inputs.shape[0]):
        current = out[t : t + 1]
        np.matmul(previous, w_hh, out=b.gates)
        np.add(b.gates, inputs[t], out=b.gates)
        expit(b.sigmoid, out=b.sigmoid)  # i, f, o
        np.tanh(b.g, out=b.g)
        np.multiply(c, b.f, out=c)
        np.multiply(b.i, b.g, out=b.i)
        np.add(c, b.i, out=c)
        np.tanh(c, out=current)
        np.multiply(current, b.o, out=current)
        previous = current
    h[:] = previous


def _gru_frames(inputs: np.ndarray, w_hh: np.ndarray, b_hn: np.ndarray, h: np.ndarray, out: np.ndarray,
                buffers: _FrameBuffers) -> None:  # fmt: skip
    """GRU frames in place (cuDNN's formulation): ``inputs`` ``(frames, 3 units)`` holds each frame's
    ``x_t W_ih + b_ih`` plus the recurrent r and z biases; ``h`` carries the state; row t of ``out`` gets frame
    t's h (computed there, as for the LSTM)."""
    b, n, previous = buffers, h.shape[1], h
    for t in range(inputs.shape[0]):
        row, current = inputs[t : t + 1], out[t : t + 1]
        np.matmul(previous, w_hh, out=b.recurrent)
        np.add(row, b.recurrent, out=b.gates)  # r and z complete; n is set below
        expit(b.sigmoid, out=b.sigmoid)
        np.add(b.recurrent_n, b_hn, out=b.recurrent_n)
        np.multiply(b.r, b.recurrent_n, out=b.recurrent_n)
        np.add(row[:, 2 * n :], b.recurrent_n, out=b.n)
        np.tanh(b.n, out=b.n)
        # h = (1 - z) * n + z * h = n + z * (h - n)
        np.subtract(previous, b.n, out=current)
        np.multiply(current, b.z, out=current)
        np.add(current, b.n, out=current)
        previous = current
    h[:] = previous


class NumpyStack:
    """The recurrent stack and output layer of ``model`` (see :func:`unsupported_reason`), stepped in numpy.

    The weights are copied once; each stream keeps its own :class:`StackState` (:meth:`zero_state`), which
    :meth:`step` carries on (one step at a time: the streams share the scratch buffers of a frame).
    :meth:`as_tensors` gives a state in the model's layout, ``(h_n, c_n)`` or ``(h_n,)``, each
    ``(layers, 1, units)``."""

    def __init__(self, model: AcousticModel) -> None:
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(f"the numpy streaming path does not run this model: {reason}")
        encoder = model.encoder
        self.family, self.units, self.residual = encoder.family, encoder.hidden_size, encoder.residual
        n = self.units
        as_array = lambda t: t.detach().to(torch.float32).numpy().copy()  # noqa: E731
        # the LSTM's gates reordered from PyTorch's i, f, g, o to i, f, o, g: one sigmoid over the first three
        order = np.r_[0 : 2 * n, 3 * n : 4 * n, 2 * n : 3 * n]
        self.layers: list[_Layer] = []
        for layer in encoder.layers:
            assert isinstance(layer, RecurrentLayer)
            w_ih, w_hh, b_ih, b_hh = (as_array(layer.param(name, "")) for name in WEIGHT_NAMES)
            if self.family == "lstm":
                w_ih, w_hh, bias, b_hn = w_ih[order], w_hh[order], (b_ih + b_hh)[order], np.zeros(0, np.float32)
            else:  # the recurrent r and z biases add to the input's; the n one is multiplied by r
                bias, b_hn = b_ih + np.r_[b_hh[: 2 * n], np.zeros(n, np.float32)], b_hh[2 * n :]
            # the LSTM's b_ih + b_hh; the GRU's b_ih plus b_hh's r and z parts
            input_product = PackedLinear(torch.from_numpy(w_ih), torch.from_numpy(bias), rows=CHUNK_FRAMES)
            self.layers.append(_Layer(input_product, np.ascontiguousarray(w_hh.T), b_hn[None]))
        self.w_out = np.ascontiguousarray(as_array(model.output.weight).T)
        self.b_out = as_array(model.output.bias)
        self.buffers = _FrameBuffers(self.family, n)

    def zero_state(self) -> StackState:
        """The state a stream starts from."""
        zeros = lambda: [np.zeros((1, self.units), np.float32) for _ in self.layers]  # noqa: E731
        return StackState(zeros(), zeros() if self.family == "lstm" else [])

    def as_tensors(self, state: StackState) -> tuple[Tensor, ...]:
        """``state`` in the model's layout (copies)."""
        h = torch.from_numpy(np.stack(state.h))
        return (h,) if self.family == "gru" else (h, torch.from_numpy(np.stack(state.c)))

    def step(self, frames: np.ndarray, state: StackState) -> np.ndarray:
        """Log-probs ``(frames, tokens)`` for ``frames`` ``(frames, input)`` stacked feature frames; ``state``
        moves on to the last of them."""
        x = np.ascontiguousarray(frames, dtype=np.float32)
        for k, layer in enumerate(self.layers):
            inputs = layer.input_product(torch.from_numpy(x)).numpy()  # x_t W_ih + b of every frame
            out = np.empty((x.shape[0], self.units), np.float32)
            if self.family == "lstm":
                _lstm_frames(inputs, layer.w_hh, state.h[k], state.c[k], out, self.buffers)
            else:
                _gru_frames(inputs, layer.w_hh, layer.b_hn, state.h[k], out, self.buffers)
            x = out + x if self.residual and out.shape[1] == x.shape[1] else out
        logits = x @ self.w_out + self.b_out
        top = logits.max(axis=1, keepdims=True)
        return logits - (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))
