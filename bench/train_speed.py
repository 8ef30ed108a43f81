"""Training throughput: Lightning trainer steps on real batches beside a bare training loop of the same shapes.

The bare loop is what a step cannot do without: a fused ``nn.LSTM`` (``nn.GRU`` with ``--cell gru``) forward, the
output layer, CTC, backward and an Adam step, on one batch kept on the device. Both run in this process (4 x 320
LSTM by default, batches of the embedded corpus), so trainer/bare says what the data pipeline, padding, logging and
Lightning cost (goal <= 1.2; each side the mean of as many steps after as many warm-up ones); the share of padded
frames in the trainer's batches (length-bucketed) is reported beside it (goal < 10 %). With ``--augment-from
CONFIG`` the trainer's batches get that training config's on-the-fly augmentation (the demo's silence trim and
digital zeros change every utterance's length each epoch), and the padding of three epochs is reported both ways:
batches sorted on each epoch's augmented lengths (what training does) and on the unaugmented ones. With ``--devices
N --strategy ddp`` the trainer runs Lightning's DDP over N GPUs (the scaling run).

    python bench/train_speed.py [--steps 20] [--layers 4] [--hidden 320] [--frame-stack 1] [--devices N] [--data DIR]
        [--augment-from recipes/synth/conf/lstm.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from common import mean_time, write_result

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus
from gatescope.asr.corpora.timit import prepare_timit
from gatescope.asr.data.dataset import CTCDataset
from gatescope.asr.features.extract import extract_features
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.asr.tokens import TokenTable
from gatescope.asr.training.config import TrainConfig
from gatescope.asr.training.data_module import BucketBatchSampler, CTCDataModule
from gatescope.asr.training.lightning_module import CTCModule
from gatescope.config import load_config


class StepTimer(pl.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self.frames: list[int] = []
        self.padded: list[int] = []  # frames including padding (batch x longest)

    def _sync(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        self._sync()
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        self._sync()
        self.times.append(time.perf_counter() - self.start)
        self.frames.append(int(batch.lengths.sum()))
        self.padded.append(int(batch.feats.shape[0] * batch.feats.shape[1]))


def _padding_share(dataset: CTCDataset, batch_size: int, augmented_sort: bool, epochs: int = 3) -> float:
    """Padded share of the frames of ``epochs`` epochs' batches, sorted on each epoch's augmented lengths or on the
    unaugmented ones."""
    frames = padded = 0
    for epoch in range(epochs):
        lengths = dataset.epoch_frames(epoch)
        sampler = BucketBatchSampler(
            dataset.frames,
            batch_size,
            True,
            0,
            epoch_source=lambda e=epoch: e,
            epoch_frames=dataset.epoch_frames if augmented_sort else None,
        )
        for batch in sampler:
            frames += sum(lengths[i] for i in batch)
            padded += max(lengths[i] for i in batch) * len(batch)
    return 1 - frames / padded


def _bare_loop(args: argparse.Namespace, time_steps: int, dim: int, device: str) -> Callable[[], None]:
    """One bare training step on a fixed batch: fused LSTM, output layer, CTC, backward, Adam."""
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[args.cell]
    lstm = module(dim * args.frame_stack, args.hidden, args.layers, batch_first=True).to(device)
    head = torch.nn.Linear(args.hidden, 49).to(device)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
    x = torch.randn(args.batch_size, time_steps, dim * args.frame_stack, device=device)
    lengths = torch.full((args.batch_size,), time_steps, dtype=torch.long)
    labels = max(1, time_steps // 3)
    targets = torch.randint(1, 49, (args.batch_size, labels), device=device)
    target_lengths = torch.full((args.batch_size,), labels, dtype=torch.long)

    def step() -> None:
        optimizer.zero_grad()
        log_probs = head(lstm(x)[0]).log_softmax(-1).transpose(0, 1)
        torch.nn.functional.ctc_loss(log_probs, targets, lengths, target_lengths, zero_infinity=True).backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=320)
    parser.add_argument("--frame-stack", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--augment-from", type=Path, help="a training config (conf/*.yaml) whose augmentation the "
                        "trainer's batches get")  # fmt: skip
    parser.add_argument("--data", type=Path, help="a folder with train/ and dev/ data dirs with features (the demo's "
                        "recipes/synth/data); default: a small corpus generated here")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            corpus, data = Path(tmp) / "corpus", Path(tmp) / "data"
            generate_corpus(
                corpus, SynthCorpusConfig(speakers=6, test_speakers=2, utts_per_speaker=16), jobs=2, progress=False
            )
            prepare_timit(corpus, data, progress=False)
            for split in ("train", "dev"):
                extract_features(data / split, FeatureConfig(), progress=False)
        dim = load_config(FeatureConfig, data / "train" / "feat_conf.yaml").dim
        config = TrainConfig(
            cell=args.cell,
            num_layers=args.layers,
            hidden_size=args.hidden,
            frame_stack=args.frame_stack,
            batch_size=args.batch_size,
            train_dir=str(data / "train"),
            valid_dir=str(data / "dev"),
            progress_bar=False,
        )
        tokens = TokenTable.for_target("phones", {})
        augment = load_config(TrainConfig, args.augment_from).augment_config() if args.augment_from else None
        datamodule = CTCDataModule(
            data / "train", data / "dev", tokens, config.batch_size, 0, frame_stack=config.frame_stack, augment=augment
        )
        module = CTCModule(**dataclasses.asdict(config), input_dim=dim, tokens=list(tokens.symbols))
        timer = StepTimer()
        trainer = pl.Trainer(
            max_steps=args.steps,
            limit_val_batches=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            callbacks=[timer],
            use_distributed_sampler=False,
            enable_model_summary=False,
            accelerator="auto",
            devices=args.devices,
            strategy=args.strategy,
        )
        trainer.fit(module, datamodule=datamodule)
    warmup = 3  # the first steps warm up kernels and caches
    steady = timer.times[warmup:]
    step_time = sum(steady) / len(steady)
    frames = sum(timer.frames[warmup:]) / len(steady)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    time_steps = int(frames / args.batch_size / args.frame_stack)
    # The same statistic on both sides: the mean of as many steps after as many warm-up ones (the trainer's batches
    # vary in length around the bare loop's, so their best step is a short batch, not a comparable figure).
    bare_time = mean_time(_bare_loop(args, time_steps, dim, device), len(steady), warmup, device)
    write_result(
        f"train_speed_{device}_{args.cell}{args.layers}x{args.hidden}_stack{args.frame_stack}_dev{args.devices}"
        + ("_augmented" if args.augment_from else ""),
        {
            "model": f"{args.layers}x{args.hidden} {args.cell.upper()}, frame_stack {args.frame_stack}, "
            f"batch {args.batch_size}",
            "data": str(args.data) if args.data else "generated: 6 speakers x 16 utterances",
            "steps_timed": len(steady),
            "trainer_step_seconds": round(step_time, 4),
            "bare_loop_seconds": round(bare_time, 4),
            "bare_over_trainer_ratio": round(bare_time / step_time, 3),
            "trainer_over_bare_ratio": round(step_time / bare_time, 3),
            "trainer_over_bare_goal_at_most": 1.2,
            "devices": args.devices,
            "strategy": args.strategy,
            "train_frames_per_second": round(frames / step_time, 1),
            "input_frames_per_step": round(frames, 1),
            "padding_share_of_frames": round(1 - sum(timer.frames) / sum(timer.padded), 4),
            "padding_goal_below": 0.1,
            **(
                {
                    "augmentation_from": str(args.augment_from),
                    "padding_share_3_epochs_sorted_on_augmented_lengths": round(
                        _padding_share(datamodule.train_set, args.batch_size, True), 4
                    ),
                    "padding_share_3_epochs_sorted_on_unaugmented_lengths": round(
                        _padding_share(datamodule.train_set, args.batch_size, False), 4
                    ),
                }
                if args.augment_from
                else {}
            ),
        },
    )


if __name__ == "__main__":
    main()
