"""The acoustic model: features -> stacked recurrent layers -> linear -> log-softmax over CTC tokens.

Imports torch and the cell library only: a trained model loads without Lightning (``load_model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gatescope.asr.cells import RecurrentStack
from gatescope.asr.errors import InputError


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
        self, feats: Tensor, lengths: Tensor | None = None, state: Any = None, return_states: bool = False
    ) -> Any:
        """``feats`` ``(batch, time, input_dim)`` -> ``(log_probs (batch, out_time, num_tokens), final_state)``,
        plus the per-layer gate recordings when ``return_states``; ``out_time = ceil(time / frame_stack)``
        (see :meth:`output_lengths`)."""
        out_lengths = self.output_lengths(lengths) if lengths is not None else None
        result = self.encoder(self.stack_frames(feats), out_lengths, state, return_states=return_states)
        log_probs = self.output(result[0]).log_softmax(dim=-1)
        return (log_probs, *result[1:])


def model_from_hparams(hparams: dict[str, Any]) -> AcousticModel:
    fields = {k: hparams[k] for k in ModelConfig.__dataclass_fields__ if k in hparams}
    return AcousticModel(int(hparams["input_dim"]), len(hparams["tokens"]), ModelConfig(**fields))


def experiment_names(paths: list[Path]) -> list[str]:
    """Short names for experiment dirs or checkpoints (``exp/lstm`` -> ``lstm``), the whole path with ``_`` for
    ``/`` where two would clash; usable as file names in reports."""
    names = [p.name if p.is_dir() else p.parent.name for p in paths]
    return [n if names.count(n) == 1 else str(p).replace("/", "_") for n, p in zip(names, paths, strict=True)]


def resolve_checkpoint(path: Path) -> Path:
    """An experiment dir means its ``best.ckpt`` (or ``last.ckpt``); a file is taken as it is."""
    if path.is_dir():
        for name in ("best.ckpt", "last.ckpt"):
            if (path / name).is_file():
                return path / name
        raise InputError(f"{path}: no best.ckpt or last.ckpt in this experiment dir")
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint")
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A Lightning checkpoint read with ``weights_only=True`` (no pickled code runs)."""
    path = resolve_checkpoint(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        raise InputError(f"{path}: not a readable gatescope checkpoint ({type(err).__name__}: {err})") from None
    if "hyper_parameters" not in checkpoint or "tokens" not in checkpoint["hyper_parameters"]:
        raise InputError(f"{path}: not a gatescope checkpoint (no hyper_parameters with tokens)")
    return checkpoint


def load_model(path: str | Path) -> AcousticModel:
    """The trained model of a checkpoint or experiment dir, in eval mode on the CPU.

    ``model.tokens`` lists the CTC tokens (blank first); ``model.train_config`` holds the training config.
    """
    checkpoint = load_checkpoint(Path(path))
    hparams = checkpoint["hyper_parameters"]
    model = model_from_hparams(hparams)
    weights = {k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise InputError(f"{path}: weights do not fit the architecture in its config ({first})") from None
    model.tokens = list(hparams["tokens"])
    model.train_config = dict(hparams)
    return model.eval()
