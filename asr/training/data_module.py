"""Batching for training: Kaldi data dirs (as :class:`CTCDataset`) -> length-bucketed, padded CTC batches.

Batches hold utterances of similar length, shuffled per epoch from ``seed + epoch`` and split over DDP ranks; the
Lightning data module wraps the train and validation sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Sampler

from gatescope.asr.data.dataset import CTCDataset, LevelMismatch, collate
from gatescope.asr.tokens import TokenTable
from gatescope.noise import AugmentConfig


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of utterances of similar length (less padding), shuffled per epoch from ``seed + epoch``.

    Each of ``num_replicas`` DDP ranks takes every ``num_replicas``-th batch; the batch list is padded by
    repetition so every rank runs the same number of steps.
    """

    def __init__(
        self,
        frames: list[int],
        batch_size: int,
        shuffle: bool,
        seed: int,
        num_replicas: int = 1,
        rank: int = 0,
        epoch_source: Callable[[], int] | None = None,
        tag_epoch: bool = False,
        epoch_frames: Callable[[int], list[int]] | None = None,
    ) -> None:
        """``epoch_frames``: each utterance's frame count in a given epoch (augmentation changes them), sorted on
        in place of ``frames``."""
        self.frames, self.batch_size, self.shuffle, self.seed = frames, batch_size, shuffle, seed
        self.epoch_frames = epoch_frames
        self.tag_epoch = tag_epoch  # yield (index, epoch) pairs, for per-epoch augmentation
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0
        self.epoch_source = epoch_source  # read at the first batch (see __iter__)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch whose shuffled order the next iteration uses."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        if self.epoch_source is not None:
            self.epoch = self.epoch_source()
        frames = self.frames if self.epoch_frames is None else self.epoch_frames(self.epoch)
        order = np.argsort(np.asarray(frames), kind="stable")
        batches = [order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            batches = [batches[i] for i in rng.permutation(len(batches))]
        batches += batches[: (-len(batches)) % self.num_replicas]
        return batches[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        # A generator: the order is drawn when the first batch is asked for, after the epoch has started. On a
        # resume Lightning builds the iterator while the trainer still reports the previous epoch.
        for batch in self._batches():
            yield [(i, self.epoch) for i in batch] if self.tag_epoch else batch  # type: ignore[misc]

    def __len__(self) -> int:
        return -(-len(range(0, len(self.frames), self.batch_size)) // self.num_replicas)


class CTCDataModule(pl.LightningDataModule):
    """Train and validation sets of Kaldi data dirs, batched by length."""

    def __init__(
        self,
        train_dir: Path,
        valid_dir: Path,
        tokens: TokenTable,
        batch_size: int,
        seed: int,
        num_workers: int = 0,
        cmvn: str = "speaker",
        norm_vars: bool = True,
        skip_bad: bool = False,
        frame_stack: int = 1,
        augment: AugmentConfig | None = None,
        cmvn_tracks_augmentation: bool = False,
        level_mismatch: LevelMismatch | None = None,
    ) -> None:
        super().__init__()
        self.train_set = CTCDataset(
            train_dir, tokens, cmvn, norm_vars, skip_bad, frame_stack, augment, seed, cmvn_tracks_augmentation,
            level_mismatch,
        )  # fmt: skip
        self.valid_set = CTCDataset(valid_dir, tokens, cmvn, norm_vars, skip_bad, frame_stack)
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers

    def _loader(self, dataset: CTCDataset, shuffle: bool) -> DataLoader:
        trainer = self.trainer
        replicas, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        epoch = (lambda: trainer.current_epoch) if trainer is not None else None
        tag = dataset.augmenter is not None
        sampler = BucketBatchSampler(
            dataset.frames,
            self.batch_size,
            shuffle,
            self.seed,
            replicas,
            rank,
            epoch,
            tag,
            dataset.epoch_frames if tag else None,
        )
        # Its own generator: creating an iterator would otherwise draw from the global RNG, at a moment that
        # differs between a resumed and an uninterrupted run.
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            generator=generator,
        )

    def train_dataloader(self) -> DataLoader:
        """Training batches, shuffled by epoch."""
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        """Validation batches, in length order."""
        return self._loader(self.valid_set, shuffle=False)
