"""A cuDNN-form GRU layer (one direction) for CPU training, with its backward pass written out.

PyTorch has no oneDNN kernel for the GRU on CPU; its native one trains at about half the LSTM's speed, because
autograd records every operation of every frame. Here the forward runs the frames with in-place buffers
(:func:`gru_frames`, which the introspection path runs too) and keeps what the backward needs: the gates,
``W_hn h_{t-1} + b_hn`` and the outputs.
The backward runs the frames in reverse with one small matmul each, and then computes every weight gradient as one
matmul over all frames.

In: ``x`` ``(batch, time, features)``, ``h0`` ``(batch, units)`` and the four ``torch.nn.GRU`` weights of the
layer. Out: ``(batch, time, units)`` outputs and the last ``h``; gradients for all six inputs. Equal to
``torch.nn.GRU`` to float precision (tests/test_cells.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from gatescope.asr.models.cells.cpu_matmul import PackedLinear, product


class GRUFrames(NamedTuple):
    """What the frame loop leaves, time-major: ``inputs`` ``(time * batch, features)``, ``gates``
    ``(time, batch, 3 units)`` holding r, z and n after their activations, ``hidden_n`` ``(time, batch, units)`` =
    ``W_hn h_{t-1} + b_hn``, and ``outs`` ``(time + 1, batch, units)`` with ``outs[0]`` the initial state and
    ``outs[t + 1]`` the output of frame t."""

    inputs: Tensor
    gates: Tensor
    hidden_n: Tensor
    outs: Tensor


def doubled_last_block(blocks: int, units: int, like: Tensor) -> Tensor:
    """``(blocks * units,)`` ones with the last ``units`` rows 2: how a frame loop scales the weight rows of the gate
    whose tanh it takes as ``2 sigmoid(2 v) - 1`` (PyTorch's CPU sigmoid is several times faster than its tanh)."""
    scale = like.new_ones(blocks * units)
    scale[(blocks - 1) * units :] = 2.0
    return scale


def gru_frames(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> GRUFrames:
    """Run a cuDNN-form GRU over ``x`` ``(batch, time, features)`` from ``h0`` ``(batch, units)`` with in-place
    buffers: the input projection of all frames is one matmul into the buffer that then holds the gates; each frame
    adds its recurrent matmul and applies its activations in place (products by :class:`PackedLinear`; n's tanh as
    ``2 sigmoid(2 v) - 1``, which PyTorch's CPU kernels compute several times faster, within 2e-7). Not
    differentiable by autograd (training goes through :func:`gru_sequence`; introspection reads the gates)."""
    batch, time, _ = x.shape
    units = w_hh.shape[1]
    inputs = x.transpose(0, 1).reshape(time * batch, -1)
    doubled_n = doubled_last_block(3, units, x)
    input_product = PackedLinear(w_ih * doubled_n[:, None], b_ih * doubled_n, time * batch)
    gates = input_product(inputs).view(time, batch, 3 * units)  # r, z and 2 x_n; then r, z, n in place
    recurrent_product = PackedLinear(w_hh, b_hh, batch)
    outs = x.new_empty(time + 1, batch, units)
    outs[0] = h0
    hidden_n = x.new_empty(time, batch, units)
    difference = x.new_empty(batch, units)
    minus_one, one = x.new_full((batch, units), -1.0), x.new_full((batch, units), 1.0)
    h = outs[0]
    for t in range(time):
        recurrent = recurrent_product(h)
        a = gates[t]
        a[:, : 2 * units].add_(recurrent[:, : 2 * units]).sigmoid_()
        hidden_n[t].copy_(recurrent[:, 2 * units :])
        n = a[:, 2 * units :].addcmul_(a[:, :units], recurrent[:, 2 * units :], value=2.0).sigmoid_()
        torch.lerp(minus_one, one, n, out=n)  # 2 s - 1 = tanh
        torch.sub(h, n, out=difference)
        h = torch.addcmul(n, a[:, units : 2 * units], difference, out=outs[t + 1])
    return GRUFrames(inputs, gates, hidden_n, outs)


class _GRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
    ) -> tuple[Tensor, Tensor]:
        inputs, gates, hidden_n, outs = gru_frames(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(inputs, w_ih, w_hh, gates, hidden_n, outs)
        return outs[1:].transpose(0, 1), outs[-1].clone()

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor, grad_last: Tensor | None) -> tuple[Tensor, ...]:
        inputs, w_ih, w_hh, gates, hidden_n, outs = ctx.saved_tensors
        time, batch, _ = gates.shape
        units = w_hh.shape[1]
        grad_out = grad_out.transpose(0, 1)
        r, z, n = gates[..., :units], gates[..., units : 2 * units], gates[..., 2 * units :]
        h_prev = outs[:-1]
        # h_t = n + z (h_{t-1} - n), n = tanh(x_n + r hidden_n), r, z = sigmoid(.): the per-frame factors at once
        n_factor = (1 - z) * (1 - n * n)
        z_factor = (h_prev - n) * z * (1 - z)
        r_factor = hidden_n * r * (1 - r)
        grad_recurrent = gates.new_empty(time, batch, 3 * units)  # pre-activations of W_hh h + b_hh: r, z, hidden_n
        grad_n = gates.new_empty(time, batch, units)  # pre-activation of n on the input side
        dh = grad_out[-1] + grad_last if grad_last is not None else grad_out[-1].clone()
        back_product = PackedLinear(w_hh.T, None, batch)  # step @ W_hh
        for t in range(time - 1, -1, -1):
            step = grad_recurrent[t]
            torch.mul(dh, n_factor[t], out=grad_n[t])
            torch.mul(dh, z_factor[t], out=step[:, units : 2 * units])
            torch.mul(grad_n[t], r_factor[t], out=step[:, :units])
            torch.mul(grad_n[t], r[t], out=step[:, 2 * units :])
            dh = back_product.add_to(torch.addcmul(grad_out[t - 1], dh, z[t]) if t else dh * z[t], step)
        recurrent = grad_recurrent.reshape(time * batch, 3 * units)
        projected = torch.cat([grad_recurrent[..., : 2 * units], grad_n], dim=2).reshape(time * batch, 3 * units)
        grad_x = product(projected, w_ih).view(time, batch, -1).transpose(0, 1)
        grad_w_hh = product(recurrent.T, h_prev.reshape(time * batch, units))
        return grad_x, dh, product(projected.T, inputs), grad_w_hh, projected.sum(0), recurrent.sum(0)


def gru_sequence(
    x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One direction of a cuDNN-form GRU over ``x`` ``(batch, time, features)`` from ``h0`` ``(batch, units)``:
    outputs ``(batch, time, units)`` and the last state, differentiable (see the module docstring)."""
    return _GRUSequence.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
