"""Checkpoint averaging, as icefall's ``--avg`` and ESPnet's averaged model do it: the model a run leaves is the
mean of its weights at the end of its last N epochs, which smooths the last steps' noise out of them.

In: the Lightning module's weights after every epoch's validation (:class:`EpochAverager`, a callback whose
snapshots travel in ``last.ckpt``, so a resumed run averages the same epochs as an uninterrupted one). Out:
``averaged.ckpt`` in the experiment dir (:func:`write_averaged`), which decoding, streaming and analysis load
before ``best.ckpt`` (:func:`gatescope.asr.models.checkpoint.resolve_checkpoint`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from gatescope.asr.models.checkpoint import AVERAGED_CHECKPOINT
from gatescope.files import write_bytes_atomic


class EpochAverager(pl.Callback):
    """Keeps the weights of the last ``epochs`` epochs (taken when each epoch's validation ends, before Lightning's
    checkpoint of that epoch is written, so ``last.ckpt`` holds them)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.snapshots: list[dict[str, Tensor]] = []
        self.snapshot_epochs: list[int] = []

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Snapshot the weights at the end of a training epoch (not during the sanity check)."""
        if trainer.sanity_checking:
            return
        self.snapshots.append({k: v.detach().to("cpu", copy=True) for k, v in pl_module.state_dict().items()})
        self.snapshot_epochs.append(trainer.current_epoch)
        del self.snapshots[: -self.epochs], self.snapshot_epochs[: -self.epochs]

    def state_dict(self) -> dict[str, Any]:
        """What ``last.ckpt`` keeps: the snapshots and their epochs."""
        return {"snapshots": self.snapshots, "snapshot_epochs": self.snapshot_epochs}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the snapshots back from a resumed run's ``last.ckpt``."""
        self.snapshots = list(state_dict["snapshots"])[-self.epochs :]
        self.snapshot_epochs = list(state_dict["snapshot_epochs"])[-self.epochs :]

    def averaged(self) -> dict[str, Tensor]:
        """The mean of the snapshots (floating-point tensors, summed in float64; others from the latest)."""
        if not self.snapshots:
            raise ValueError("no epoch has finished: nothing to average")
        latest = self.snapshots[-1]
        return {
            key: torch.stack([s[key].double() for s in self.snapshots]).mean(0).to(value.dtype)
            if value.is_floating_point()
            else value
            for key, value in latest.items()
        }


def write_averaged(out_dir: Path, averager: EpochAverager) -> Path:
    """``out_dir/averaged.ckpt``: ``last.ckpt`` (hyperparameters, tokens) with the averaged weights and without
    the optimizer and callback states (it is for decoding; training resumes from ``last.ckpt``)."""
    checkpoint = torch.load(out_dir / "last.ckpt", map_location="cpu", weights_only=True)
    checkpoint["state_dict"] = averager.averaged()
    checkpoint["averaged_epochs"] = [epoch + 1 for epoch in averager.snapshot_epochs]  # counted from 1
    for key in ("optimizer_states", "lr_schedulers", "callbacks", "loops"):
        checkpoint.pop(key, None)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    write_bytes_atomic(out_dir / AVERAGED_CHECKPOINT, buffer.getvalue())
    return out_dir / AVERAGED_CHECKPOINT
