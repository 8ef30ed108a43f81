"""A trained unidirectional LSTM or GRU model run frame by frame in numpy, for streaming on a CPU.

In: an :class:`~gatescope.asr.models.acoustic.AcousticModel` whose recurrent layers are standard one-direction
LSTM or GRU layers (no projection), then stacked feature frames ``(frames, input)`` a chunk at a time. Out: the
log-probabilities ``(frames, tokens)`` of those frames, the recurrent state carried from chunk to chunk, equal to
the model's own forward pass to float rounding (tests hold them within 1e-5).

Why: a 100 ms chunk brings 3 or 4 stacked frames per layer. For so few frames PyTorch's CPU kernel costs about
100 µs per frame and layer on this project's 2-core machine, mostly per-operator overhead around two small
products; numpy's OpenBLAS does a one-row product (``h W_hh``) in about 20 µs and the gate activations in place
in a few more (``bench/stream_speed.py`` measures both paths side by side). The input products of a layer do
not depend on its recurrence, so they are one product for all the chunk's frames, done by PyTorch: its BLAS
does a 3- or 4-row product in about the time of one row, where OpenBLAS's costs two to three rows' time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.cells.layer import RecurrentLayer

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
    """One layer's weights, transposed for row-vector products."""

    w_ih: Tensor  # (input, gates * units), for PyTorch's product over all of a chunk's frames
    w_hh: np.ndarray  # (units, gates * units)
    b_ih: np.ndarray  # (1, gates * units); for the LSTM b_ih + b_hh
    b_hh: np.ndarray  # (1, gates * units); GRU only (its n gate keeps the recurrent bias inside r * (...))


@dataclass
class StackState:
    """Per layer ``h`` and, for the LSTM, ``c``: ``(1, units)`` float32 arrays, updated in place by a step."""

    h: list[np.ndarray]
    c: list[np.ndarray]


def _sigmoid_(x: np.ndarray) -> None:
    """In place: 1 / (1 + exp(-x)) as 0.5 * tanh(0.5 x) + 0.5 (one transcendental call, no overflow)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


class NumpyStack:
    """The recurrent stack and output layer of ``model`` (see :func:`unsupported_reason`), stepped in numpy.

    The weights are copied once; each stream keeps its own :class:`StackState` (:meth:`zero_state`), which
    :meth:`step` carries on. :meth:`as_tensors` gives a state in the model's layout, ``(h_n, c_n)`` or ``(h_n,)``,
    each ``(layers, 1, units)``."""

    def __init__(self, model: AcousticModel) -> None:
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(f"the numpy streaming path does not run this model: {reason}")
        encoder = model.encoder
        self.family, self.units, self.residual = encoder.family, encoder.hidden_size, encoder.residual
        as_array = lambda t: t.detach().to(torch.float32).numpy().copy()  # noqa: E731
        # the LSTM's gates reordered from PyTorch's i, f, g, o to i, f, o, g: one sigmoid over the first three
        order = np.r_[0 : 2 * self.units, 3 * self.units : 4 * self.units, 2 * self.units : 3 * self.units]
        self.layers: list[_Layer] = []
        for layer in encoder.layers:
            assert isinstance(layer, RecurrentLayer)
            w_ih, w_hh, b_ih, b_hh = (as_array(layer.param(name, "")) for name in WEIGHT_NAMES)
            if self.family == "lstm":
                w_ih, w_hh, b_ih, b_hh = w_ih[order], w_hh[order], (b_ih + b_hh)[order], np.zeros_like(b_hh)
            w_ih_t = torch.from_numpy(np.ascontiguousarray(w_ih.T))
            self.layers.append(_Layer(w_ih_t, np.ascontiguousarray(w_hh.T), b_ih[None], b_hh[None]))
        self.w_out = np.ascontiguousarray(as_array(model.output.weight).T)
        self.b_out = as_array(model.output.bias)

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
        gates = 4 if self.family == "lstm" else 3
        recurrent = np.empty((1, gates * self.units), np.float32)  # the per-frame buffer of h W_hh
        for k, layer in enumerate(self.layers):
            inputs = np.empty((x.shape[0], gates * self.units), np.float32)  # x_t W_ih + b of every frame
            torch.mm(torch.from_numpy(x), layer.w_ih, out=torch.from_numpy(inputs))
            inputs += layer.b_ih
            out = np.empty((x.shape[0], self.units), np.float32)
            for t in range(x.shape[0]):
                np.matmul(state.h[k], layer.w_hh, out=recurrent)
                if self.family == "lstm":
                    self._lstm_frame(inputs[t : t + 1], recurrent, state.h[k], state.c[k])
                else:
                    recurrent += layer.b_hh
                    self._gru_frame(inputs[t : t + 1], recurrent, state.h[k])
                out[t] = state.h[k][0]
            x = out + x if self.residual and out.shape[1] == x.shape[1] else out
        logits = x @ self.w_out + self.b_out
        top = logits.max(axis=1, keepdims=True)
        return logits - (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))

    def _lstm_frame(self, gates: np.ndarray, recurrent: np.ndarray, h: np.ndarray, c: np.ndarray) -> None:
        """One LSTM frame in place: ``gates`` holds ``x_t W_ih + b``, ``recurrent`` ``h W_hh``, gates in the
        order i, f, o, g."""
        n = self.units
        gates += recurrent
        _sigmoid_(gates[:, : 3 * n])  # i, f, o
        np.tanh(gates[:, 3 * n :], out=gates[:, 3 * n :])  # g
        c *= gates[:, n : 2 * n]
        c += gates[:, :n] * gates[:, 3 * n :]
        np.tanh(c, out=h)
        h *= gates[:, 2 * n : 3 * n]

    def _gru_frame(self, inputs: np.ndarray, recurrent: np.ndarray, h: np.ndarray) -> None:
        """One GRU frame in place (cuDNN's formulation): ``inputs`` holds ``x_t W_ih + b_ih``, ``recurrent``
        ``h W_hh + b_hh``."""
        n = self.units
        rz = inputs[:, : 2 * n]
        rz += recurrent[:, : 2 * n]
        _sigmoid_(rz)
        new = inputs[:, 2 * n :]
        new += rz[:, :n] * recurrent[:, 2 * n :]
        np.tanh(new, out=new)
        # h = (1 - z) * n + z * h = n + z * (h - n)
        h -= new
        h *= rz[:, n:]
        h += new
