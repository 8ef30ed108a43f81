"""``gatescope train``: build the data, the module and Lightning's Trainer from one flat config, and fit.

``OUT/`` receives ``config.yaml`` (the resolved config), ``tokens.txt``, ``best.ckpt`` (lowest validation error),
``last.ckpt`` (end of the last finished epoch: what ``--resume`` continues from), with ``average_epochs`` also
``averaged.ckpt`` (the mean of the last epochs' weights, what decoding then loads), and the CSV and TensorBoard
logs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytorch_lightning as pl
import yaml
from pytorch_lightning.callbacks import Callback, ModelCheckpoint, RichProgressBar
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

from gatescope.asr.data.datadir import read_table
from gatescope.asr.data.dataset import LevelMismatch
from gatescope.asr.features.cmvn import pooled_cmvn_stats
from gatescope.asr.models.checkpoint import resolve_checkpoint, save_experiment_features
from gatescope.asr.tokens import TokenTable
from gatescope.asr.training.averaging import EpochAverager, write_averaged
from gatescope.asr.training.config import TrainConfig
from gatescope.asr.training.data_module import CTCDataModule
from gatescope.asr.training.lightning_module import CTCModule
from gatescope.errors import InputError
from gatescope.files import write_text_atomic

log = logging.getLogger(__name__)
DONE_MARKER = "training.done"  # written when fit() returns: the number of epochs trained


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Keep Lightning's start-up notices (tips, the accelerator summary) and two warnings about intended use out
    of the log: checkpoints go into the experiment dir beside its config, so that dir is never empty, and a
    deprecation inside Lightning's own code under torch 2.11 that no setting of ours can avoid."""
    lightning_log = logging.getLogger("pytorch_lightning")
    level = lightning_log.level
    lightning_log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
            yield
    finally:
        lightning_log.setLevel(level)


def _devices(value: str) -> Any:
    if value == "auto":
        return "auto"
    if "," in value:
        return [int(v) for v in value.split(",") if v]
    return int(value)


def train(config: TrainConfig, out_dir: Path, resume: bool = False, callbacks: list[Callback] | None = None) -> Path:
    """Fit the model; returns the best checkpoint's path. ``resume`` continues from ``out_dir/last.ckpt``."""
    last = out_dir / "last.ckpt"
    if resume and _finished_epochs(out_dir) >= config.max_epochs:
        log.warning("%s: training finished already (raise max_epochs to train on)", out_dir)
        return resolve_checkpoint(out_dir)
    if resume:
        if not last.is_file():
            raise InputError(f"{last}: nothing to resume from")
        saved = yaml.safe_load((out_dir / "config.yaml").read_text())
        defaults = dataclasses.asdict(TrainConfig())  # a key newer than the run's config had its default then
        changed = {
            k for k, v in dataclasses.asdict(config).items() if k != "max_epochs" and saved.get(k, defaults[k]) != v
        }
        if changed:
            raise InputError(f"{out_dir / 'config.yaml'}: --resume with a different config ({sorted(changed)})")
    elif last.exists():
        raise InputError(f"{out_dir}: already holds a training run; use --resume or another --out")
    pl.seed_everything(config.seed, workers=True, verbose=False)

    train_text = read_table(Path(config.train_dir) / "text") if (Path(config.train_dir) / "text").is_file() else {}
    tokens = TokenTable.for_target(config.target, train_text)
    data = CTCDataModule(
        Path(config.train_dir),
        Path(config.valid_dir),
        tokens,
        config.batch_size,
        config.seed,
        config.num_workers,
        config.cmvn_mode if config.cmvn else "none",
        config.norm_vars,
        config.skip_bad_utterances,
        config.frame_stack,
        augment=config.augment_config(),
        cmvn_tracks_augmentation=config.cmvn_tracks_augmentation,
        level_mismatch=LevelMismatch(config.level_mismatch_prob, config.level_mismatch_db),
    )
    out_dir.mkdir(parents=True, exist_ok=True)  # only once the data has been read and checked
    skipped = len(data.train_set.skipped) + len(data.valid_set.skipped)
    if skipped:
        log.warning("skipped %d unusable utterances (see warnings above)", skipped)
    write_text_atomic(out_dir / "config.yaml", yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))
    tokens.write(out_dir / "tokens.txt")
    _save_features(Path(config.train_dir), out_dir)
    module = CTCModule(**dataclasses.asdict(config), input_dim=data.train_set.input_dim, tokens=list(tokens.symbols))

    checkpoint = ModelCheckpoint(
        dirpath=out_dir, filename="best", monitor="val_err", mode="min", enable_version_counter=False
    )
    # last.ckpt after every epoch, improved or not (Lightning's save_last only follows a new best): a run stopped
    # at any point resumes from its last finished epoch.
    latest = ModelCheckpoint(dirpath=out_dir, filename="last", save_top_k=1, enable_version_counter=False)
    extra: list[Callback] = [checkpoint, latest]
    averager = EpochAverager(config.average_epochs) if config.average_epochs > 1 else None
    if averager is not None:
        extra.append(averager)
    if config.progress_bar:
        extra.append(RichProgressBar())
    with _quiet_lightning():
        trainer = pl.Trainer(
            default_root_dir=out_dir,
            max_epochs=config.max_epochs,
            accelerator=config.accelerator,
            devices=_devices(config.devices),
            num_nodes=config.num_nodes,
            strategy=config.strategy,
            precision=cast(Any, config.precision),
            gradient_clip_val=config.grad_clip or None,
            deterministic=True,
            logger=[CSVLogger(out_dir, name="logs"), TensorBoardLogger(out_dir, name="tb")],  # a version_N per run
            callbacks=extra + list(callbacks or []),
            log_every_n_steps=min(config.log_every_n_steps, -(-len(data.train_set) // config.batch_size)),
            enable_progress_bar=config.progress_bar,
            use_distributed_sampler=False,
            enable_model_summary=False,
        )
        trainer.fit(module, datamodule=data, ckpt_path=str(last) if resume else None)
    if trainer.global_rank != 0:
        return Path(checkpoint.best_model_path or last)
    return _finish(out_dir, trainer.current_epoch, averager)


def _finish(out_dir: Path, epochs: int, averager: EpochAverager | None) -> Path:
    """After the last epoch (rank 0): ``averaged.ckpt`` where asked, the done marker; returns the model to use."""
    if averager is not None:
        averaged = write_averaged(out_dir, averager)
        log.info("%s: the mean of epochs %s", averaged, ", ".join(str(e + 1) for e in averager.snapshot_epochs))
    write_text_atomic(out_dir / DONE_MARKER, f"{epochs}\n")
    return resolve_checkpoint(out_dir)


def _save_features(train_dir: Path, out_dir: Path) -> None:
    """Copy the training features' config and pooled CMVN stats into the experiment dir (self-contained)."""
    conf = train_dir / "feat_conf.yaml"
    if not conf.is_file():
        raise InputError(f"{conf}: missing; run gatescope features on {train_dir} first")
    cmvn = train_dir / "cmvn.scp"
    save_experiment_features(out_dir, conf.read_text(), pooled_cmvn_stats(cmvn) if cmvn.is_file() else None)


def _finished_epochs(out_dir: Path) -> int:
    marker = out_dir / DONE_MARKER
    return int(marker.read_text().split()[0]) if marker.is_file() else -1


def train_or_resume(config: TrainConfig, out_dir: Path, callbacks: list[Callback] | None = None) -> Path:
    """What a recipe wants: skip a finished run, continue an interrupted one, or start a new one."""
    return train(config, out_dir, resume=(out_dir / "last.ckpt").is_file(), callbacks=callbacks)
