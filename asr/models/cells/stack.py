"""``RecurrentStack``: stacked recurrent layers of any gatescope cell, with one state dict for both paths.

For the standard cells the state dict has exactly the keys and shapes of ``torch.nn.LSTM/GRU/RNN`` with the same
``num_layers`` and ``bidirectional`` (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), so a checkpoint of one
loads into the other. Final states are laid out as PyTorch's: ``(num_layers * directions, batch, units)``.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gatescope.asr.models.cells.equations import LSTM_VARIANTS
from gatescope.asr.models.cells.layer import LayerState, RecurrentLayer

KINDS = ("lstm", "gru", "rnn", *[k for k in LSTM_VARIANTS if k != "lstm"])
_LAYER_KEY = re.compile(r"^(?P<prefix>.*?)layers\.(?P<layer>\d+)\.(?:rnn\.)?(?P<name>[a-z_]+)_l0(?P<suffix>_reverse)?$")
_FLAT_KEY = re.compile(r"^(?P<prefix>.*?)(?P<name>[a-z_]+)_l(?P<layer>\d+)(?P<suffix>_reverse)?$")

State = tuple[Tensor, ...]


class StackOutput(NamedTuple):
    """What :meth:`RecurrentStack.forward` returns."""

    output: Tensor  # (batch, time, output_size)
    final_state: State  # (h_n, c_n) or (h_n,), each (num_layers * directions, batch, units)
    states: list[dict[str, Tensor]]  # per layer, with return_states: gate name -> (batch, time, units); else []


class RecurrentStack(nn.Module):
    """``num_layers`` recurrent layers of ``kind``.

    Args:
        kind: ``lstm gru rnn`` or an LSTM variant ``np nig nfg nog niaf noaf cifg fgr lazy``.
        input_size: features per frame; hidden_size: units per layer and direction.
        bidirectional: two directions per layer (outputs concatenated).
        dropout: dropout on the outputs of every layer but the last (as ``torch.nn.LSTM``).
        proj_size: LSTMP output projection (LSTM family).
        residual: Tang et al.'s shortcut: a layer's input is added to its output when the sizes match.
        forget_bias: initial forget-gate bias (Jozefowicz et al.); None keeps PyTorch's initialisation.
        gru_formulation: ``"cudnn"`` (reset after the recurrent matmul, ``torch.nn.GRU``) or ``"cho"``.
        peepholes: force peepholes on or off for the LSTM family (default: Greff's variants have them).
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bidirectional: bool = False,
        dropout: float = 0.0,
        proj_size: int = 0,
        residual: bool = False,
        forget_bias: float | None = 1.0,
        gru_formulation: str = "cudnn",
        peepholes: bool | None = None,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown cell kind {kind!r}; choose from {' '.join(KINDS)}")
        if gru_formulation not in ("cudnn", "cho"):
            raise ValueError(f"gru_formulation must be 'cudnn' or 'cho', got {gru_formulation!r}")
        family = kind if kind in ("gru", "rnn") else "lstm"
        flags = LSTM_VARIANTS.get(kind)
        if flags is not None and peepholes is not None:
            flags = type(flags)(**{**flags.__dict__, "peepholes": peepholes})
        self.kind, self.family, self.num_layers = kind, family, num_layers
        self.hidden_size, self.dropout, self.residual = hidden_size, dropout, residual
        self.directions = 2 if bidirectional else 1
        layers = []
        size = input_size
        for _ in range(num_layers):
            layer = RecurrentLayer(
                family,
                size,
                hidden_size,
                flags=flags,
                bidirectional=bidirectional,
                proj_size=proj_size,
                forget_bias=forget_bias if family == "lstm" else None,
                cho=gru_formulation == "cho",
            )
            layers.append(layer)
            size = layer.output_size
        self.layers = nn.ModuleList(layers)
        self._typed_layers: list[RecurrentLayer] = layers
        self.output_size = size
        self.register_state_dict_post_hook(_flatten_keys)
        self.register_load_state_dict_pre_hook(_nest_keys)

    @property
    def uses_fast_path(self) -> bool:
        """Whether ``forward(..., return_states=False)`` runs PyTorch's fused kernel."""
        return all(layer.standard for layer in self._typed_layers)

    def initial_state(self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None) -> State:
        """Zero state for ``batch`` sequences, laid out as PyTorch's ``(num_layers * directions, batch, units)``."""
        ref = next(self.parameters())
        per_layer = [
            layer.initial_state(batch, device or ref.device, dtype or ref.dtype) for layer in self._typed_layers
        ]
        return tuple(torch.cat([s[i] for s in per_layer]) for i in range(len(per_layer[0])))

    def _split_state(self, state: State) -> list[LayerState]:
        d = self.directions
        return [tuple(s[k * d : (k + 1) * d] for s in state) for k in range(self.num_layers)]

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        state: State | Tensor | None = None,
        return_states: bool = False,
        step_by_step: bool = False,
    ) -> StackOutput:
        """Run the stack.

        Args:
            x: ``(batch, time, input_size)``.
            lengths: ``(batch,)`` valid frames per sequence; outputs past a length are 0 and the final state is
                the state at the last valid frame.
            state: a previous ``final_state`` to continue from (chunked streaming), or None for zeros. A bare
                tensor is accepted for GRU/RNN, as ``torch.nn.GRU`` takes.
            return_states: record every gate, cell value and hidden state (standard cells in inference: the
                in-place path of :meth:`RecurrentLayer.forward_recorded`; variants and training: step by step).
            step_by_step: run the generic step-by-step equations even where the in-place path could (the
                reference).
        Returns:
            :class:`StackOutput` ``(output, final_state, states)``, ``states`` empty unless ``return_states``:
            ``output`` ``(batch, time, output_size)``; ``final_state`` a tuple ``(h_n, c_n)`` (LSTM family; FGR adds the
            last gates) or ``(h_n,)``, each ``(num_layers * directions, batch, units)``; ``states[layer]`` a dict
            of ``(batch, time, units)`` tensors keyed ``i f o g c h`` (LSTM family), ``z r n h`` (GRU) or ``h``
            (RNN), both directions concatenated on the units axis.
        """
        if isinstance(state, Tensor):
            state = (state,)
        state = state if state is not None else self.initial_state(x.shape[0], x.device, x.dtype)
        fast = self.uses_fast_path and not return_states and not step_by_step
        finals: list[LayerState] = []
        records: list[dict[str, Tensor]] = []
        for k, (layer, layer_state) in enumerate(zip(self._typed_layers, self._split_state(state), strict=True)):
            if fast:
                out, final = layer.forward_fast(x, lengths, layer_state)
            elif return_states and layer.records_fast and not step_by_step:
                out, final, rec = layer.forward_recorded(x, lengths, layer_state)
                records.append(rec)
            else:
                out, final, rec = layer.forward_steps(x, lengths, layer_state, record=return_states)
                records.append(rec)
            if self.residual and out.shape[-1] == x.shape[-1]:
                out = out + x
            if self.dropout and self.training and k < self.num_layers - 1:
                out = F.dropout(out, self.dropout, training=True)
            finals.append(final)
            x = out
        final_state = tuple(torch.cat([f[i] for f in finals]) for i in range(len(finals[0])))
        return StackOutput(x, final_state, records if return_states else [])


def _flatten_keys(module: nn.Module, state_dict: OrderedDict, prefix: str, local_metadata: Any) -> None:
    """``layers.1.rnn.weight_ih_l0_reverse`` -> ``weight_ih_l1_reverse`` (torch.nn.LSTM's names)."""
    for key in list(state_dict):
        match = _LAYER_KEY.match(key)
        if match and match["prefix"] == prefix:
            new = f"{prefix}{match['name']}_l{match['layer']}{match['suffix'] or ''}"
            state_dict[new] = state_dict.pop(key)


def _nest_keys(module: nn.Module, state_dict: dict, prefix: str, *args: Any) -> None:
    """The inverse of :func:`_flatten_keys`, so that torch.nn.LSTM state dicts load too."""
    assert isinstance(module, RecurrentStack)
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        match = _FLAT_KEY.match(key[len(prefix) :])
        if match is None or match["name"].startswith("layers"):
            continue
        layer = int(match["layer"])
        if layer >= module.num_layers:
            continue
        inner = "rnn." if module._typed_layers[layer].standard else ""
        state_dict[f"{prefix}layers.{layer}.{inner}{match['name']}_l0{match['suffix'] or ''}"] = state_dict.pop(key)
