"""One recurrent layer (one or two directions) with a fast path and an introspection path over the same weights.

Standard cells (``lstm``/``np``, cuDNN-form ``gru``, ``rnn``) keep their weights in a one-layer ``torch.nn.LSTM``,
``GRU`` or ``RNN`` so the fast path is PyTorch's own kernel (cuDNN on GPU). Every cell also runs step by step
through :mod:`gatescope.asr.models.cells.equations`, which returns every gate at every frame: the introspection path.
Parameters are named as in a one-layer ``torch.nn`` module (``weight_ih_l0``, ``bias_hh_l0_reverse``, ...).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gatescope.asr.models.cells.cpu_matmul import PackedLinear
from gatescope.asr.models.cells.equations import LSTMFlags, gru_step, lstm_step, rnn_step
from gatescope.asr.models.cells.gru_cpu import doubled_last_block, gru_frames, gru_sequence
from gatescope.asr.models.cells.onednn_lstm import record_lstm

LayerState = tuple[Tensor, ...]  # lstm: (h, c[, gates]); gru/rnn: (h,) -- each (directions, batch, units)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x`` ``(batch, time, ...)`` within its length; padding stays in place."""
    if lengths is None:
        return x.flip(1)
    time = x.shape[1]
    steps = torch.arange(time, device=x.device).unsqueeze(0)  # (1, time)
    lengths = lengths.to(x.device).unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (batch, time)
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


def frame_mask(lengths: Tensor, time: int, device: torch.device) -> Tensor:
    """``(batch, time)`` bool: which frames lie within each sequence's length."""
    return torch.arange(time, device=device).unsqueeze(0) < lengths.to(device).unsqueeze(1)


def join_records(records: list[dict[str, Tensor]], lengths: Tensor | None) -> dict[str, Tensor]:
    """Both directions' records side by side on the units axis, zero past each sequence's length."""
    joined = {k: torch.cat([r[k] for r in records], dim=2) for k in records[0]} if len(records) > 1 else records[0]
    if lengths is None:
        return joined
    some = next(iter(joined.values()))
    valid = frame_mask(lengths, some.shape[1], some.device).unsqueeze(2).to(some.dtype)
    return {k: v * valid for k, v in joined.items()}


class RecurrentLayer(nn.Module):
    """A layer of ``family`` ("lstm", "gru" or "rnn") cells.

    Args:
        flags: the LSTM variant (LSTM family only).
        proj_size: LSTMP projection of the output (LSTM family; 0 = none).
        forget_bias: initial forget-gate bias (``b_ih`` rows of f; ``b_hh`` rows 0); None keeps PyTorch's init.
        cho: GRU in Cho et al.'s formulation instead of cuDNN's.
    """

    def __init__(
        self,
        family: str,
        input_size: int,
        hidden_size: int,
        *,
        flags: LSTMFlags | None = None,
        bidirectional: bool = False,
        proj_size: int = 0,
        forget_bias: float | None = 1.0,
        cho: bool = False,
    ) -> None:
        super().__init__()
        self.family, self.hidden_size, self.proj_size = family, hidden_size, proj_size
        self.flags = flags or LSTMFlags()
        self.cho = cho
        self.directions = 2 if bidirectional else 1
        self.suffixes = ["", "_reverse"][: self.directions]
        self.standard = (
            (family == "lstm" and self.flags.is_standard) or (family == "gru" and not cho) or family == "rnn"
        )
        if proj_size and family != "lstm":
            raise ValueError("proj_size applies to LSTM-family cells only")
        if self.standard:
            module = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[family]
            extra = {"proj_size": proj_size} if family == "lstm" else {}
            self.rnn = module(input_size, hidden_size, batch_first=True, bidirectional=bidirectional, **extra)
        else:
            self._make_parameters(input_size)
        if family == "lstm" and forget_bias is not None and "f" in self.flags.gates:
            row = self.flags.gates.index("f")
            with torch.no_grad():
                for suffix in self.suffixes:
                    self.param("bias_ih", suffix)[row * hidden_size : (row + 1) * hidden_size] = forget_bias
                    self.param("bias_hh", suffix)[row * hidden_size : (row + 1) * hidden_size] = 0.0

    def _make_parameters(self, input_size: int) -> None:
        """Variant parameters, shaped as ``torch.nn.LSTM``'s for the rows (gates) the variant has."""
        hidden = self.hidden_size
        rows = len(self.flags.gates) if self.family == "lstm" else 3
        out = self.proj_size or hidden
        bound = 1.0 / math.sqrt(hidden)
        for suffix in self.suffixes:
            shapes = {
                "weight_ih": (rows * hidden, input_size),
                "weight_hh": (rows * hidden, out),
                "bias_ih": (rows * hidden,),
                "bias_hh": (rows * hidden,),
            }
            if self.family == "lstm":
                if self.flags.peephole_gates:
                    shapes["weight_peep"] = (len(self.flags.peephole_gates), hidden)
                if self.flags.full_gate_recurrence:
                    shapes["weight_gg"] = (3 * hidden, 3 * hidden)
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, hidden)
            for name, shape in shapes.items():
                self.register_parameter(f"{name}_l0{suffix}", nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def param(self, name: str, suffix: str) -> Tensor:
        """The parameter ``{name}_l0{suffix}`` (``weight_ih``, ``_reverse`` ...), wherever this layer keeps it."""
        owner = self.rnn if self.standard else self
        return getattr(owner, f"{name}_l0{suffix}", None)  # type: ignore[return-value]

    def _weights(self, suffix: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one direction."""
        return (
            self.param("weight_ih", suffix),
            self.param("weight_hh", suffix),
            self.param("bias_ih", suffix),
            self.param("bias_hh", suffix),
        )

    @property
    def output_size(self) -> int:
        return (self.proj_size or self.hidden_size) * self.directions

    def initial_state(self, batch: int, device: torch.device, dtype: torch.dtype) -> LayerState:
        """Zero state for ``batch`` sequences: ``(h,)``, or ``(h, c)`` for the LSTM family (FGR adds the gates)."""
        zeros = lambda units: torch.zeros(self.directions, batch, units, device=device, dtype=dtype)  # noqa: E731
        if self.family != "lstm":
            return (zeros(self.hidden_size),)
        state = (zeros(self.proj_size or self.hidden_size), zeros(self.hidden_size))
        return (*state, zeros(3 * self.hidden_size)) if self.flags.full_gate_recurrence else state

    def forward_fast(self, x: Tensor, lengths: Tensor | None, state: LayerState) -> tuple[Tensor, LayerState]:
        """PyTorch's kernel (cuDNN on GPU). ``x``: ``(batch, time, features)``. Training a one-direction GRU on
        the CPU without lengths runs :func:`~gatescope.asr.models.cells.gru_cpu.gru_sequence` instead, whose
        written-out backward trains about 1.6x faster than PyTorch's native CPU GRU (it has no oneDNN kernel)."""
        hx = state if self.family == "lstm" else state[0]
        if (
            self.family == "gru"
            and self.directions == 1
            and lengths is None
            and not x.is_cuda
            and torch.is_grad_enabled()
        ):
            out, last = gru_sequence(x, hx[0], *self._weights(""))
            return out, (last.unsqueeze(0),)
        if lengths is None:
            out, final = self.rnn(x, hx)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out_packed, final = self.rnn(packed, hx)
            out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=x.shape[1])
        return out, (tuple(final) if self.family == "lstm" else (final,))

    @property
    def records_fast(self) -> bool:
        """Whether :meth:`forward_recorded` applies: a standard cell without projection (others record step by step
        through the generic equations)."""
        return self.standard and not self.proj_size

    def forward_recorded(
        self, x: Tensor, lengths: Tensor | None, state: LayerState
    ) -> tuple[Tensor, LayerState, dict[str, Tensor]]:
        """Every gate at every frame of a standard cell without projection, at close to the fused kernel's cost.

        The input projection of all frames is one matmul into a buffer that then holds the gates; each frame adds
        its recurrent matmul (oneDNN, the weights packed once: cells/cpu_matmul.py) and applies the activations in
        place, and c and h are written straight into their outputs, so nothing is computed twice and nothing is
        copied. Frames past a sequence's length run too (no branch per frame) and are zeroed afterwards; the final
        state is read at each length. On a GPU, for the plain RNN (whose only record is h) and where gradients are
        needed (the in-place buffers have none), :meth:`_recorded_from_kernel` runs instead. Equal to
        :meth:`forward_steps` with ``record=True`` to float precision."""
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in self.parameters()))
        if self.family == "rnn" or x.is_cuda or needs_grad:
            return self._recorded_from_kernel(x, lengths, state)
        last = (
            lengths.to(x.device) - 1
            if lengths is not None
            else torch.full((x.shape[0],), x.shape[1] - 1, device=x.device)
        )
        rows = torch.arange(x.shape[0], device=x.device)
        finals, records = [], []
        for d, suffix in enumerate(self.suffixes):
            source = reverse_padded(x, lengths) if d == 1 else x
            initial = tuple(s[d] for s in state)
            rec = self._lstm_recorded(source, initial, suffix) if self.family == "lstm" else self._gru_recorded(
                source, initial[0], suffix
            )  # fmt: skip
            finals.append(tuple(rec[k][rows, last] for k in (("h", "c") if self.family == "lstm" else ("h",))))
            records.append({k: reverse_padded(v, lengths) for k, v in rec.items()} if d == 1 else rec)
        joined = join_records(records, lengths)
        final = tuple(torch.stack([f[i] for f in finals]) for i in range(len(finals[0])))
        return joined["h"], final, joined

    def _recorded_from_kernel(
        self, x: Tensor, lengths: Tensor | None, state: LayerState
    ) -> tuple[Tensor, LayerState, dict[str, Tensor]]:
        """:meth:`forward_recorded` from the fused kernel's outputs (on a GPU, where a frame loop of small kernels
        would be launch-bound; for the RNN; with gradients): the kernel gives h for all frames; with h_{t-1} known,
        every gate of every frame is one batched matmul, and the LSTM cell value the elementwise recurrence
        ``c_t = f_t c_{t-1} + i_t g_t`` (one kernel per frame)."""
        out, final = self.forward_fast(x, lengths, state)
        records = []
        for d, suffix in enumerate(self.suffixes):
            h = out[..., d * self.hidden_size : (d + 1) * self.hidden_size]
            source, h = (reverse_padded(x, lengths), reverse_padded(h, lengths)) if d == 1 else (x, h)
            rec = self._gates_from_outputs(source, h, tuple(s[d] for s in state), suffix)
            records.append({k: reverse_padded(v, lengths) for k, v in rec.items()} if d == 1 else rec)
        return out, final, join_records(records, lengths)

    def _gates_from_outputs(self, x: Tensor, h: Tensor, state: LayerState, suffix: str) -> dict[str, Tensor]:
        """One direction's gates from its input ``x`` and outputs ``h`` ``(batch, time, units)`` (time in the
        direction's own order) and its initial state."""
        if self.family == "rnn":  # its only state is h
            return {"h": h}
        p = lambda name: self.param(name, suffix)  # noqa: E731
        h_prev = torch.cat([state[0].unsqueeze(1), h[:, :-1]], dim=1)
        x_proj = x @ p("weight_ih").T + p("bias_ih")
        h_proj = h_prev @ p("weight_hh").T + p("bias_hh")
        if self.family == "gru":
            (x_r, x_z, x_n), (h_r, h_z, h_n) = x_proj.chunk(3, dim=2), h_proj.chunk(3, dim=2)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            return {"z": z, "r": r, "n": torch.tanh(x_n + r * h_n), "h": h}
        i, f, g, o = (x_proj + h_proj).chunk(4, dim=2)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        update = i * g
        cells, c = [], state[1]
        for t in range(x.shape[1]):  # elementwise only: the matmuls are done above for all frames at once
            c = torch.addcmul(update[:, t], f[:, t], c)
            cells.append(c)
        return {"i": i, "f": f, "o": o, "g": g, "c": torch.stack(cells, dim=1), "h": h}

    def _lstm_recorded(self, x: Tensor, state: LayerState, suffix: str) -> dict[str, Tensor]:
        """One direction of a standard LSTM ``(batch, time, features)``, every gate recorded (see
        :meth:`forward_recorded`): from oneDNN's fused kernel where it applies (cells/onednn_lstm.py), else by a
        frame loop. Its buffers are time-major, so each frame's slices are contiguous (the records are
        batch-first views of them); rows are reordered to i, f, o, g. PyTorch's tanh costs several times its
        sigmoid on the CPU, so both tanh are taken as ``tanh(v) = 2 sigmoid(2 v) - 1`` (within 2e-7): the g rows of
        the weights are doubled, one sigmoid covers all four gates, and g is mapped back; tanh(c) the same way."""
        p = lambda name: self.param(name, suffix)  # noqa: E731
        fused = record_lstm(x, state[0], state[1], p("weight_ih"), p("weight_hh"), p("bias_ih"), p("bias_hh"))
        if fused is not None:
            return fused._asdict()
        units = self.hidden_size
        batch, time, _ = x.shape
        i, f, g, o = (torch.arange(k * units, (k + 1) * units, device=x.device) for k in range(4))
        order = torch.cat([i, f, o, g])
        doubled_g = doubled_last_block(4, units, x)
        bias = (p("bias_ih") + p("bias_hh"))[order] * doubled_g
        inputs = x.transpose(0, 1).reshape(time * batch, -1)
        input_product = PackedLinear(p("weight_ih")[order] * doubled_g[:, None], bias, time * batch)
        gates = input_product(inputs).view(time, batch, 4 * units)  # pre-activations, then the gates in place
        recurrent = PackedLinear(p("weight_hh")[order] * doubled_g[:, None], None, batch)
        cells, outs = x.new_empty(time, batch, units), x.new_empty(time, batch, units)
        h, c = state[0].contiguous(), state[1]
        update, squashed = x.new_empty(batch, units), x.new_empty(batch, units)
        minus_one, one = x.new_full((batch, units), -1.0), x.new_full((batch, units), 1.0)
        frames = zip(
            gates.unbind(0), gates[..., 3 * units :].unbind(0), gates[..., :units].unbind(0),
            gates[..., units : 2 * units].unbind(0), gates[..., 2 * units : 3 * units].unbind(0),
            cells.unbind(0), outs.unbind(0), strict=True,
        )  # fmt: skip
        for a, g_t, i_t, f_t, o_t, c_out, h_out in frames:
            torch.sigmoid(recurrent.add_to(a, h), out=a)  # i, f, o; and sigmoid(2 g)
            torch.lerp(minus_one, one, g_t, out=g_t)  # 2 s - 1 = tanh(g)
            torch.mul(i_t, g_t, out=update)
            c = torch.addcmul(update, f_t, c, out=c_out)
            torch.sigmoid(torch.mul(c, 2.0, out=squashed), out=squashed)
            h = torch.mul(o_t, torch.lerp(minus_one, one, squashed, out=squashed), out=h_out)
        i_, f_, o_, g_ = gates.transpose(0, 1).split(units, dim=2)
        return {"i": i_, "f": f_, "o": o_, "g": g_, "c": cells.transpose(0, 1), "h": outs.transpose(0, 1)}

    def _gru_recorded(self, x: Tensor, h: Tensor, suffix: str) -> dict[str, Tensor]:
        """One direction of a cuDNN-form GRU ``(batch, time, features)``, every gate recorded: the in-place frame
        loop of :func:`~gatescope.asr.models.cells.gru_cpu.gru_frames`, its buffers returned as batch-first views."""
        frames = gru_frames(x, h, *self._weights(suffix))
        r, z, n = frames.gates.transpose(0, 1).split(self.hidden_size, dim=2)
        return {"z": z, "r": r, "n": n, "h": frames.outs[1:].transpose(0, 1)}

    def forward_steps(
        self, x: Tensor, lengths: Tensor | None, state: LayerState, record: bool
    ) -> tuple[Tensor, LayerState, dict[str, Tensor]]:
        """The step-by-step path: same result as :meth:`forward_fast`, plus every gate when ``record``."""
        mask = None
        if lengths is not None:
            mask = frame_mask(lengths, x.shape[1], x.device)
        outputs, finals, records = [], [], []
        for d, suffix in enumerate(self.suffixes):
            reverse = d == 1
            source = reverse_padded(x, lengths) if reverse else x
            out, final, rec = self._run_direction(source, mask, tuple(s[d] for s in state), suffix, record)
            if reverse:  # back to input order (reversal within lengths is its own inverse)
                out = reverse_padded(out, lengths)
                rec = {k: reverse_padded(v, lengths) for k, v in rec.items()}
            outputs.append(out)
            finals.append(final)
            records.append(rec)
        joined = {k: torch.cat([r[k] for r in records], dim=2) for k in records[0]} if record else {}
        final_state = tuple(torch.stack([f[i] for f in finals]) for i in range(len(finals[0])))
        return torch.cat(outputs, dim=2), final_state, joined

    def _run_direction(
        self, x: Tensor, mask: Tensor | None, state: LayerState, suffix: str, record: bool
    ) -> tuple[Tensor, LayerState, dict[str, Tensor]]:
        p = lambda name: self.param(name, suffix)  # noqa: E731
        weight_hh, bias_hh = p("weight_hh"), p("bias_hh")
        # One matmul for the whole sequence: (batch, time, rows*H). The recurrent bias is folded in except for
        # the GRU, whose candidate needs b_hn inside the reset product.
        bias = p("bias_ih") if self.family == "gru" else p("bias_ih") + bias_hh
        x_proj = x @ p("weight_ih").T + bias
        peep, weight_gg, weight_hr = p("weight_peep"), p("weight_gg"), p("weight_hr")
        current = list(state)
        outs: list[Tensor] = []
        recs: list[dict[str, Tensor]] = []
        for t, x_t in enumerate(x_proj.unbind(1)):
            if self.family == "lstm":
                h, c, gates, rec = lstm_step(
                    self.flags,
                    x_t,
                    current[0],
                    current[1],
                    current[2] if len(current) > 2 else None,
                    weight_hh,
                    peep,
                    weight_gg,
                    weight_hr,
                )
                new = [h, c] + ([gates] if gates is not None else [])
            elif self.family == "gru":
                h, rec = gru_step(self.cho, x_t, current[0], weight_hh, bias_hh)
                new = [h]
            else:
                h, rec = rnn_step(x_t, current[0], weight_hh)
                new = [h]
            if mask is not None:  # past a sequence's end: keep its state, emit zeros
                m = mask[:, t].unsqueeze(1)
                current = [torch.where(m, n, o) for n, o in zip(new, current, strict=True)]
                outs.append(h * m)
                if record:
                    recs.append({k: v * m for k, v in rec.items()})
            else:
                current = new
                outs.append(h)
                if record:
                    recs.append(rec)
        records = {k: torch.stack([r[k] for r in recs], dim=1) for k in recs[0]} if record else {}
        return torch.stack(outs, dim=1), tuple(current), records
