"""Experiment dirs and checkpoints: loading a trained model, and the feature settings it was trained with.

An experiment dir (``exp/X``) holds ``best.ckpt``/``last.ckpt`` (and ``averaged.ckpt`` where training averaged
its last epochs), ``config.yaml``, ``tokens.txt``, and the training data's ``feat_conf.yaml`` and pooled CMVN
statistics (``cmvn_stats.ark``), so decoding and streaming need nothing but ``--model``. Checkpoints are read
with ``weights_only=True``: no pickled code runs.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.asr.models.acoustic import AcousticModel, model_from_hparams
from gatescope.config import load_config
from gatescope.errors import InputError

FEATURE_CONFIG_FILE = "feat_conf.yaml"
CMVN_STATS_FILE = "cmvn_stats.ark"
CMVN_STATS_KEY = "global"


@dataclass(frozen=True)
class ExperimentFeatures:
    """How an experiment's training features were made: the config and the pooled ``(2, dim + 1)`` CMVN stats."""

    config: FeatureConfig
    cmvn_stats: np.ndarray | None


def experiment_names(paths: list[Path]) -> list[str]:
    """Short names for experiment dirs or checkpoints (``exp/lstm`` -> ``lstm``), the whole path with ``_`` for
    ``/`` where two would clash; usable as file names in reports."""
    names = [p.name if p.is_dir() else p.parent.name for p in paths]
    return [n if names.count(n) == 1 else str(p).replace("/", "_") for n, p in zip(names, paths, strict=True)]


AVERAGED_CHECKPOINT = "averaged.ckpt"  # the mean of the last epochs' weights (training's ``average_epochs``)


def resolve_checkpoint(path: Path) -> Path:
    """An experiment dir means its ``averaged.ckpt`` (a run with ``average_epochs``), else its ``best.ckpt``, else
    its ``last.ckpt``; a file is taken as it is."""
    if path.is_dir():
        for name in (AVERAGED_CHECKPOINT, "best.ckpt", "last.ckpt"):
            if (path / name).is_file():
                return path / name
        raise InputError(f"{path}: no {AVERAGED_CHECKPOINT}, best.ckpt or last.ckpt in this experiment dir")
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint")
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A Lightning checkpoint read with ``weights_only=True`` (no pickled code runs)."""
    path = resolve_checkpoint(path)
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols before refusing them
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's own text suggests unsafe loading: never pass that on
        raise InputError(
            f"{path}: not a gatescope checkpoint: weights-only loading refused it (corrupt, foreign, or pickled code)"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError) as err:
        text = str(err)
        reason = f"{type(err).__name__}: {text.splitlines()[0][:120]}" if text else type(err).__name__
        raise InputError(f"{path}: not a readable checkpoint: corrupt or truncated ({reason})") from None
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
    model.source = resolve_checkpoint(Path(path))
    return model.eval()


def experiment_dir(path: Path) -> Path:
    """The experiment dir of an experiment dir or of a checkpoint inside one."""
    return path if path.is_dir() else path.parent


def save_experiment_features(exp_dir: Path, config_text: str, cmvn_stats: np.ndarray | None) -> None:
    """Store the training data's feature config (YAML text) and pooled CMVN stats in ``exp_dir``."""
    from gatescope.files import write_text_atomic

    write_text_atomic(exp_dir / FEATURE_CONFIG_FILE, config_text)
    if cmvn_stats is not None:
        kaldi_ark.write_matrices(exp_dir / CMVN_STATS_FILE, [(CMVN_STATS_KEY, cmvn_stats)])


def experiment_features(path: Path) -> ExperimentFeatures:
    """The feature config and training CMVN stats saved with an experiment (see :func:`save_experiment_features`).

    Raises:
        InputError: the experiment dir has no ``feat_conf.yaml`` (trained before experiments were self-contained).
    """
    exp_dir = experiment_dir(path)
    conf = exp_dir / FEATURE_CONFIG_FILE
    if not conf.is_file():
        raise InputError(
            f"{conf}: missing; this experiment predates saved feature settings, copy the training "
            "data dir's feat_conf.yaml there (or retrain)"
        )
    stats_file = exp_dir / CMVN_STATS_FILE
    stats = dict(kaldi_ark.read_matrix_ark(stats_file)).get(CMVN_STATS_KEY) if stats_file.is_file() else None
    return ExperimentFeatures(load_config(FeatureConfig, conf), stats)
