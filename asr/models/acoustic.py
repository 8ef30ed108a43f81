"""The acoustic model: features -> stacked recurrent layers -> linear -> log-softmax over CTC tokens.

Imports torch and the cell library only: a trained model loads without Lightning
(:func:`gatescope.asr.models.checkpoint.load_model`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from gatescope.asr.models.cells import RecurrentStack
from gatescope.asr.models.cells.stack import State
from gatescope.config import Range, check_ranges


@dataclass(frozen=True)
class ModelConfig:
    """Architecture; the training config carries these fields under the same names."""

    cell: str = "lstm"
    num_layers: int = 4
    hidden_size: int = 320
    bidirectional: bool = False
    dropout: float = 0.0
    proj_size: int = 0
    residual: bool = False
    forget_bias: float = 1.0
    gru_formulation: str = "cudnn"
    # Low frame rate (Sak et al. 2015): stack this many consecutive frames and keep every frame_stack-th, so the
    # recurrent layers and CTC run at 10 ms x frame_stack. 3 lets CTC leave its all-blank start several times
    # sooner on the embedded corpus and cuts the time steps by 3.
    frame_stack: int = 1

    RANGES: ClassVar[dict[str, Range]] = {
        "num_layers": Range(1, 64),
        "hidden_size": Range(1, 65536),
        "dropout": Range(0.0, 0.99),
        "proj_size": Range(0, 65536),
        "forget_bias": Range(-100.0, 100.0),
        "frame_stack": Range(1, 16),
    }

    def __post_init__(self) -> None:
        check_ranges(self)


class ModelOutput(NamedTuple):
    """What :meth:`AcousticModel.forward` returns."""

    log_probs: Tensor  # (batch, out_time, num_tokens), out_time = ceil(time / frame_stack)
    final_state: State  # the recurrent stack's final state, to continue a stream from
    states: list[dict[str, Tensor]]  # per layer with return_states (gate name -> (batch, out_time, units)); else []


class AcousticModel(nn.Module):
    """CTC acoustic model.

    Args:
        input_dim: feature dimension; num_tokens: CTC outputs including the blank (index 0).
    """

    def __init__(self, input_dim: int, num_tokens: int, config: ModelConfig) -> None:
        super().__init__()
        self.input_dim, self.num_tokens, self.config = input_dim, num_tokens, config
        self.frame_stack = config.frame_stack
        self.tokens: list[str] = []  # filled by load_model: the CTC tokens, blank first
        self.train_config: dict[str, Any] = {}  # filled by load_model: the config it was trained with
        self.source: Path | None = None  # filled by load_model: the checkpoint it was loaded from
        self.encoder = RecurrentStack(
            config.cell,
            input_dim * config.frame_stack,
            config.hidden_size,
            config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            proj_size=config.proj_size,
            residual=config.residual,
            forget_bias=config.forget_bias,
            gru_formulation=config.gru_formulation,
        )
        self.output = nn.Linear(self.encoder.output_size, num_tokens)

    @property
    def cmvn_mode(self) -> str:
        """How its features were normalised in training: ``speaker``, ``utterance``, ``sliding`` or ``none``."""
        if not self.train_config.get("cmvn", True):
            return "none"
        return str(self.train_config.get("cmvn_mode", "speaker"))

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """Output frames for ``lengths`` input frames (a partial stack at the end counts as a frame)."""
        return (lengths + self.frame_stack - 1) // self.frame_stack

    def stack_frames(self, feats: Tensor) -> Tensor:
        """``(batch, time, dim)`` -> ``(batch, ceil(time / k), k * dim)``, zero-padding the last stack."""
        k = self.frame_stack
        if k == 1:
            return feats
        batch, time, dim = feats.shape
        padded = torch.nn.functional.pad(feats, (0, 0, 0, (-time) % k))
        return padded.reshape(batch, padded.shape[1] // k, k * dim)

    def forward(
        self, feats: Tensor, lengths: Tensor | None = None, state: State | None = None, return_states: bool = False
    ) -> ModelOutput:
        """``feats`` ``(batch, time, input_dim)`` -> :class:`ModelOutput`: log-probs, the final recurrent state
        and, with ``return_states``, every layer's gates and states (see :meth:`output_lengths` for the time)."""
        out_lengths = self.output_lengths(lengths) if lengths is not None else None
        encoded = self.encoder(self.stack_frames(feats), out_lengths, state, return_states=return_states)
        log_probs = self.output(encoded.output).log_softmax(dim=-1)
        return ModelOutput(log_probs, encoded.final_state, encoded.states)


def model_from_hparams(hparams: dict[str, Any]) -> AcousticModel:
    """A fresh (untrained) model of the architecture that a checkpoint's hyper-parameters describe."""
    fields = {f.name: hparams[f.name] for f in dataclasses.fields(ModelConfig) if f.name in hparams}
    return AcousticModel(int(hparams["input_dim"]), len(hparams["tokens"]), ModelConfig(**fields))
