"""An LSTM layer's gates for every frame from oneDNN's fused kernel, read from the workspace it keeps for training.

In: one direction's input ``(batch, time, features)``, its initial ``h`` and ``c`` ``(batch, units)`` and the layer's
``torch.nn.LSTM`` weights, float32 on the CPU. Out: :class:`LSTMRecord` (i, f, g, o, c and h of every frame,
batch-first), or ``None`` where this path cannot be taken, and the caller records by its frame loop.

PyTorch runs ``torch.nn.LSTM`` on the CPU through oneDNN's fused LSTM (``aten::mkldnn_rnn_layer``). Asked for a
training forward, the kernel keeps the activated gates of every frame in its workspace for the backward pass and
returns that workspace: the gates start it, time-major, each frame's batch rows ``ld`` floats apart, where ``ld`` is
the 4 x units gate row rounded up to 16 floats (64 bytes), plus 16 more when that is a multiple of 256 (oneDNN's
``get_good_ld``). c follows from the gates by the elementwise recurrence ``c_t = f_t c_{t-1} + i_t g_t`` and h is
the kernel's output. So the records cost one fused forward and one elementwise pass, where a frame loop of small
products pays Python and a product call per frame.

The workspace layout is oneDNN's, not a documented interface. Every call checks what it reads against what the
kernel also returns (the final c and h, and h at a middle frame, from the gates read back); where they disagree,
for another oneDNN version or an unforeseen shape, it returns ``None`` and stops trying for the rest of the process.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

LSTM_MODE = 2  # aten::mkldnn_rnn_layer's cell kind (cuDNN's numbering: RNN_RELU, RNN_TANH, LSTM, GRU)
FLOAT_ALIGN = 16  # oneDNN pads a workspace row to 64 bytes ...
ALIASING_STRIDE = 256  # ... and by 16 floats more where the row is a multiple of 256 floats (4K aliasing)
AGREEMENT = 1e-4  # what the read-back must match the kernel's own outputs to; a misread is off by O(1)


class LSTMRecord(NamedTuple):
    """Every frame of one LSTM direction, each ``(batch, time, units)``: the activated gates, c and h."""

    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor
    c: Tensor
    h: Tensor


_layout_holds = True  # cleared the first time a read-back disagrees with the kernel


def gate_row_floats(units: int) -> int:
    """The floats between two batch rows of the workspace's gates (oneDNN's leading dimension for 4 x ``units``)."""
    row = -(-4 * units // FLOAT_ALIGN) * FLOAT_ALIGN
    return row + FLOAT_ALIGN if row % ALIASING_STRIDE == 0 else row


def fused_lstm_available(x: Tensor) -> bool:
    """Whether this path applies to ``x``: float32 on the CPU, oneDNN in the build, the layout not found wrong."""
    return (
        _layout_holds
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and bool(torch.backends.mkldnn.is_available())
        and hasattr(torch.ops.aten, "mkldnn_rnn_layer")
    )


def record_lstm(
    x: Tensor, h0: Tensor, c0: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor, bias_hh: Tensor
) -> LSTMRecord | None:
    """Every gate, c and h of one LSTM direction over ``x`` ``(batch, time, features)`` from ``(h0, c0)``; ``None``
    where the fused path does not apply or its workspace does not read back as expected (see the module)."""
    global _layout_holds
    if not fused_lstm_available(x) or x.shape[0] == 0 or x.shape[1] == 0:
        return None
    batch, time, _ = x.shape
    units = weight_hh.shape[1]
    inputs = [t.detach().contiguous() for t in (x.transpose(0, 1), weight_ih, weight_hh, bias_ih, bias_hh, h0, c0)]
    with torch.enable_grad():  # the kernel keeps no workspace where grad mode is off (nothing here needs gradients)
        h, hy, cy, workspace = torch.ops.aten.mkldnn_rnn_layer(
            *inputs, False, [], LSTM_MODE, units, 1, True, False, False, True
        )  # time-major: its batch-first form corrupts the heap in PyTorch 2.11
    ld = gate_row_floats(units)
    floats = workspace.view(torch.float32) if workspace is not None and workspace.dtype == torch.uint8 else workspace
    if floats is None or floats.dtype != torch.float32 or floats.numel() < time * batch * ld:
        _layout_holds = False
        return None
    gates = floats[: time * batch * ld].view(time, batch, ld)[..., : 4 * units]
    i, f, g, o = gates.split(units, dim=2)
    cells = torch.mul(i, g)  # (time, batch, units), then c_t = f_t c_{t-1} + i_t g_t frame by frame
    c = c0
    for t in range(time):
        c = torch.addcmul(cells[t], f[t], c, out=cells[t])
    middle = time // 2
    agrees = all(
        torch.allclose(ours, theirs, rtol=0.0, atol=AGREEMENT)
        for ours, theirs in (
            (cells[-1], cy),
            (o[-1] * torch.tanh(cells[-1]), hy),
            (o[middle] * torch.tanh(cells[middle]), h[middle]),
        )
    )
    if not agrees:
        _layout_holds = False
        return None
    return LSTMRecord(*(v.transpose(0, 1) for v in (i, f, g, o, cells, h)))
