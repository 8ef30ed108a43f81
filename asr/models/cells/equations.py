r"""One time step of every recurrent cell gatescope knows, written as the equations say.

Notation: :math:`x_t` input, :math:`h_{t-1}` previous output, :math:`c_{t-1}` previous cell, :math:`\sigma` the
logistic sigmoid, :math:`\odot` elementwise product. The input projections :math:`W x_t + b_{ih}` of a whole
sequence are computed before the time loop (one matmul per layer); a step adds the recurrent part.

LSTM family (Greff et al. 2015, "LSTM: A Search Space Odyssey"; names as in ``torch.nn.LSTM``: gates i, f, o,
candidate g)::

    g_t = G(W_g x_t + R_g h_{t-1} + b_g)                       G = tanh (identity for NIAF)
    i_t = sigmoid(W_i x_t + R_i h_{t-1} + p_i * c_{t-1} + b_i)   (1 for NIG)
    f_t = sigmoid(W_f x_t + R_f h_{t-1} + p_f * c_{t-1} + b_f)   (1 for NFG; 1 - i_t for CIFG)
    c_t = f_t * c_{t-1} + i_t * g_t
    o_t = sigmoid(W_o x_t + R_o h_{t-1} + p_o * c_t + b_o)       (1 for NOG)
    h_t = o_t * H(c_t)                                           H = tanh (identity for NOAF)

- ``lstm`` and ``np`` (no peepholes): p = 0, exactly ``torch.nn.LSTM``; with projection (LSTMP)
  ``h_t = W_hr (o_t * H(c_t))``.
- Greff's variants keep the peepholes p (diagonal, as in the paper) unless named NP: ``nig nfg nog niaf noaf cifg fgr``.
- ``fgr`` (full gate recurrence): every gate also receives all three gate activations of the previous step,
  ``a_k += sum_{j in i,f,o} Q_{kj} j_{t-1}`` (nine extra H x H matrices, stored as one 3H x 3H ``weight_gg``).
- ``lazy`` (Tang et al. 2017, lazy cell update): the output is read from the *previous* cell and the cell is
  updated after it, as a GRU's output is its previous memory blended with the new candidate; no peepholes::

      h_t = o_t * tanh(c_{t-1});   c_t = f_t * c_{t-1} + i_t * g_t

GRU, cuDNN/PyTorch formulation (``torch.nn.GRU``; the reset gate acts after the recurrent matmul)::

    r_t = sigmoid(W_r x_t + b_ir + R_r h_{t-1} + b_hr)
    z_t = sigmoid(W_z x_t + b_iz + R_z h_{t-1} + b_hz)
    n_t = tanh(W_n x_t + b_in + r_t * (R_n h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

GRU, original Cho et al. 2014 formulation (``gru_formulation="cho"``): ``n_t = tanh(W_n x_t + b_in +
R_n (r_t * h_{t-1}) + b_hn)``.

Vanilla RNN (``torch.nn.RNN``, tanh): ``h_t = tanh(W x_t + b_ih + R h_{t-1} + b_hh)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class LSTMFlags:
    """Which parts of the vanilla LSTM a variant keeps (Greff et al.) plus Tang's lazy update."""

    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    input_activation: bool = True
    output_activation: bool = True
    peepholes: bool = False
    coupled: bool = False  # CIFG: f = 1 - i
    full_gate_recurrence: bool = False
    lazy: bool = False

    @property
    def gates(self) -> tuple[str, ...]:
        """Rows of the weight matrices, in ``torch.nn.LSTM`` order (i, f, g, o) minus the absent gates."""
        rows = []
        if self.input_gate:
            rows.append("i")
        if self.forget_gate and not self.coupled:
            rows.append("f")
        rows.append("g")
        if self.output_gate:
            rows.append("o")
        return tuple(rows)

    @property
    def peephole_gates(self) -> tuple[str, ...]:
        return tuple(g for g in ("i", "f", "o") if g in self.gates) if self.peepholes else ()

    @property
    def is_standard(self) -> bool:
        return self == LSTMFlags()


LSTM_VARIANTS: dict[str, LSTMFlags] = {
    "lstm": LSTMFlags(),
    "np": LSTMFlags(),  # Greff's NP: the vanilla (peephole) LSTM without peepholes = torch.nn.LSTM
    "nig": LSTMFlags(input_gate=False, peepholes=True),
    "nfg": LSTMFlags(forget_gate=False, peepholes=True),
    "nog": LSTMFlags(output_gate=False, peepholes=True),
    "niaf": LSTMFlags(input_activation=False, peepholes=True),
    "noaf": LSTMFlags(output_activation=False, peepholes=True),
    "cifg": LSTMFlags(coupled=True, peepholes=True),
    "fgr": LSTMFlags(full_gate_recurrence=True, peepholes=True),
    "lazy": LSTMFlags(lazy=True),
}


def lstm_step(
    flags: LSTMFlags,
    x_proj: Tensor,
    h: Tensor,
    c: Tensor,
    prev_gates: Tensor | None,
    weight_hh: Tensor,
    peep: Tensor | None,
    weight_gg: Tensor | None,
    weight_hr: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor | None, dict[str, Tensor]]:
    """One LSTM-family step.

    Args:
        x_proj: ``(batch, rows*H)`` = ``W x_t + b_ih + b_hh`` for the rows in ``flags.gates`` (both biases are
            added before the time loop: they only ever appear summed).
        h: ``(batch, P)`` previous output (P = H, or the projection size); c: ``(batch, H)`` previous cell.
        prev_gates: ``(batch, 3H)`` previous i, f, o activations (FGR only).
    Returns:
        ``(h_t, c_t, gates_t for FGR or None, {"i","f","o","g","c","h"})``.
    """
    pre = torch.addmm(x_proj, h, weight_hh.T)
    if flags.is_standard and weight_hr is None:  # the common case, without the bookkeeping below
        i, f, g, o = pre.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_new = torch.addcmul(f * c, i, g)
        h_new = o * torch.tanh(c_new)
        return h_new, c_new, None, {"i": i, "f": f, "o": o, "g": g, "c": c_new, "h": h_new}
    if weight_gg is not None and prev_gates is not None:
        pre = pre + _gate_recurrence(flags, prev_gates @ weight_gg.T)
    parts = dict(zip(flags.gates, pre.chunk(len(flags.gates), dim=1), strict=True))
    peeps = dict(zip(flags.peephole_gates, peep.unbind(0), strict=True)) if peep is not None else {}

    def gate(name: str, cell: Tensor) -> Tensor:
        if name not in parts:
            return torch.ones_like(c)
        return torch.sigmoid(parts[name] + peeps[name] * cell if name in peeps else parts[name])

    i = gate("i", c)
    f = 1.0 - i if flags.coupled else gate("f", c)
    g = torch.tanh(parts["g"]) if flags.input_activation else parts["g"]
    c_new = f * c + i * g
    o = gate("o", c_new)
    cell_for_output = c if flags.lazy else c_new
    h_new = o * (torch.tanh(cell_for_output) if flags.output_activation else cell_for_output)
    if weight_hr is not None:
        h_new = h_new @ weight_hr.T
    gates = torch.cat([i, f, o], dim=1) if flags.full_gate_recurrence else None
    return h_new, c_new, gates, {"i": i, "f": f, "o": o, "g": g, "c": c_new, "h": h_new}


def _gate_recurrence(flags: LSTMFlags, contribution: Tensor) -> Tensor:
    """Place FGR's ``(batch, 3H)`` contributions to i, f, o on the rows the variant has (none on g)."""
    to_i, to_f, to_o = contribution.chunk(3, dim=1)
    rows = {"i": to_i, "f": to_f, "o": to_o}
    return torch.cat([rows.get(k, torch.zeros_like(to_i)) for k in flags.gates], dim=1)


def gru_step(
    cho: bool, x_proj: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor
) -> tuple[Tensor, dict[str, Tensor]]:
    """One GRU step; ``x_proj`` is ``(batch, 3H)`` = ``W x_t + b_ih`` in ``torch.nn.GRU`` row order r, z, n."""
    x_r, x_z, x_n = x_proj.chunk(3, dim=1)
    hidden = h.shape[1]
    if cho:  # the reset gate scales h before the recurrent matmul of the candidate
        h_r, h_z = (h @ weight_hh[: 2 * hidden].T + bias_hh[: 2 * hidden]).chunk(2, dim=1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + (r * h) @ weight_hh[2 * hidden :].T + bias_hh[2 * hidden :])
    else:
        h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
    h_new = (1.0 - z) * n + z * h
    return h_new, {"z": z, "r": r, "n": n, "h": h_new}


def rnn_step(x_proj: Tensor, h: Tensor, weight_hh: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """One tanh RNN step; ``x_proj`` = ``W x_t + b_ih + b_hh``."""
    h_new = torch.tanh(torch.addmm(x_proj, h, weight_hh.T))
    return h_new, {"h": h_new}
