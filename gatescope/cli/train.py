"""``gatescope train``: a CTC acoustic model from a flat YAML config."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import Parents, Subparsers, add_command


def _train(args: argparse.Namespace) -> int:
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train, train_or_resume
    from gatescope.config import load_config

    config = load_config(TrainConfig, args.config, args.overrides)
    best = train_or_resume(config, args.out) if args.auto_resume else train(config, args.out, resume=args.resume)
    averaged = best.name == "averaged.ckpt"
    print(f"{'averaged model (the mean of the last epochs)' if averaged else 'best checkpoint'}: {best}")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``train``."""
    train = add_command(
        commands, "train", _train, parents=[parents.base],
        help="train a CTC acoustic model (LSTM, GRU, RNN or a variant)",
        description="Train a deep recurrent CTC acoustic model with PyTorch Lightning from a flat YAML config\n"
        "(recipes/<name>/conf/*.yaml) plus key=value overrides. Writes config.yaml, tokens.txt,\n"
        "feat_conf.yaml, cmvn_stats.ark, best.ckpt, last.ckpt (with average_epochs=N also averaged.ckpt,\n"
        "the mean of the last N epochs' weights, which decoding then loads) and CSV/TensorBoard logs into --out.\n"
        "GPU when present; DDP through strategy=ddp devices=N.",
        examples=[
            "gatescope train --config recipes/synth/conf/lstm.yaml --out exp/lstm",
            "gatescope train --config recipes/synth/conf/gru.yaml --out exp/gru max_epochs=5 hidden_size=128",
            "gatescope train --config recipes/synth/conf/lstm.yaml --out exp/lstm --resume   # after a crash",
        ],
    )  # fmt: skip
    train.add_argument("--config", type=Path, required=True, help="training config (YAML)")
    train.add_argument("--out", type=Path, required=True, help="experiment dir")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.ckpt")
    train.add_argument(
        "--auto-resume",
        action="store_true",
        help="for recipes: skip a finished run, resume an interrupted one, else start",
    )
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="override config keys")
