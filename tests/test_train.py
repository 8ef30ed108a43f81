"""Training, resumption, DDP, loading, decoding and the bad inputs of the training stack (CPU only)."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from gatescope.asr import load_model
from gatescope.asr.data.dataset import CTCDataset, collate
from gatescope.asr.decoding.decode import decode_data_dir
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.models.checkpoint import load_checkpoint
from gatescope.asr.tokens import TokenTable
from gatescope.asr.training.config import TrainConfig
from gatescope.asr.training.trainer import train
from gatescope.cli import main
from gatescope.config import load_config
from gatescope.errors import ConfigError, InputError

SMALL = dict(
    num_layers=1,
    hidden_size=32,
    batch_size=2,
    max_epochs=2,
    progress_bar=False,
    freq_mask_width=0,
    time_mask_width=0,
    dropout=0.0,
    log_every_n_steps=1,
)


def _config(data: Path, **overrides) -> TrainConfig:
    values = {**SMALL, "train_dir": str(data / "train"), "valid_dir": str(data / "dev"), **overrides}
    return TrainConfig(**values)


def test_tiny_model_overfits_to_low_per(tiny_data: Path, tmp_path: Path) -> None:
    """PER < 10 % on the utterances it trained on, in under a minute of CPU time (this process's, all its threads:
    a clock that other processes on a busy machine do not move; the data loader runs in this process)."""
    start = time.process_time()
    config = _config(
        tiny_data,
        valid_dir=str(tiny_data / "train"),
        num_layers=2,
        hidden_size=96,
        lr=0.01,
        max_epochs=120,
        batch_size=3,
        lr_schedule="constant",
        grad_clip=1.0,
        frame_stack=3,
    )
    best = train(config, tmp_path / "exp")
    rate, out = decode_data_dir(best, tiny_data / "train")
    cpu_seconds = time.process_time() - start
    assert rate < 10.0, (out / "per_utt.txt").read_text()
    assert cpu_seconds < 60, f"took {cpu_seconds:.0f} s of CPU time"
    for name in ("config.yaml", "tokens.txt", "best.ckpt", "last.ckpt", "logs/version_0/metrics.csv"):
        assert (tmp_path / "exp" / name).is_file(), name
    assert list((tmp_path / "exp" / "tb" / "version_0").glob("events.out.tfevents.*")), "TensorBoard log"


def test_resume_equals_uninterrupted(tiny_data: Path, tmp_path: Path) -> None:
    config = _config(tiny_data, max_epochs=3, dropout=0.2, freq_mask_width=3, time_mask_width=5, num_layers=2)
    train(config, tmp_path / "straight")
    interrupted = _config(tiny_data, max_epochs=2, dropout=0.2, freq_mask_width=3, time_mask_width=5, num_layers=2)
    train(interrupted, tmp_path / "resumed")
    (tmp_path / "resumed" / "best.ckpt").unlink()  # as if killed: only last.ckpt is needed
    train(config, tmp_path / "resumed", resume=True)
    a = load_checkpoint(tmp_path / "straight" / "last.ckpt")["state_dict"]
    b = load_checkpoint(tmp_path / "resumed" / "last.ckpt")["state_dict"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_averaged_model_is_the_mean_of_the_last_epochs_and_survives_a_resume(tiny_data: Path, tmp_path: Path) -> None:
    """averaged.ckpt holds the mean of the weights at the end of the last N epochs (recorded here by a callback
    of our own at the same moment), decoding loads it, and a run resumed in the middle averages the same epochs."""
    snapshots: list[dict[str, torch.Tensor]] = []

    class Record(pl.Callback):
        def on_validation_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            if not trainer.sanity_checking:
                snapshots.append({k: v.detach().clone() for k, v in module.state_dict().items()})

    config = _config(tiny_data, max_epochs=4, average_epochs=3, dropout=0.2)
    returned = train(config, tmp_path / "straight", callbacks=[Record()])
    assert returned == tmp_path / "straight" / "averaged.ckpt" and len(snapshots) == 4
    averaged = load_checkpoint(tmp_path / "straight")
    assert averaged["averaged_epochs"] == [2, 3, 4] and "optimizer_states" not in averaged
    for key, value in averaged["state_dict"].items():
        expected = torch.stack([s[key] for s in snapshots[1:]]).mean(0)
        assert torch.allclose(value, expected, atol=1e-7), key
        assert not torch.equal(value, snapshots[-1][key]) or value.dim() == 0, key  # not the last epoch's weights
    model = load_model(tmp_path / "straight")
    assert model.source.name == "averaged.ckpt"
    decode_data_dir(tmp_path / "straight", tiny_data / "test", tmp_path / "decoded")  # decodes with it
    train(_config(tiny_data, max_epochs=2, average_epochs=3, dropout=0.2), tmp_path / "resumed")
    train(config, tmp_path / "resumed", resume=True)
    resumed = load_checkpoint(tmp_path / "resumed")
    assert resumed["averaged_epochs"] == [2, 3, 4]
    for key, value in averaged["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][key]), key


def test_resume_refuses_another_config_and_a_second_fresh_run(tiny_data: Path, tmp_path: Path) -> None:
    train(_config(tiny_data, max_epochs=1), tmp_path / "exp")
    with pytest.raises(InputError, match="already holds a training run"):
        train(_config(tiny_data, max_epochs=1), tmp_path / "exp")
    with pytest.raises(InputError, match=r"different config \(\['hidden_size'\]\)"):
        train(_config(tiny_data, hidden_size=16), tmp_path / "exp", resume=True)
    # A run whose config.yaml predates a key (an older gatescope) resumes when the key is at its default.
    saved = tmp_path / "exp" / "config.yaml"
    saved.write_text("\n".join(line for line in saved.read_text().splitlines() if not line.startswith("zeros_max_s:")))
    train(_config(tiny_data, max_epochs=2), tmp_path / "exp", resume=True)
    with pytest.raises(InputError, match=r"different config \(\['zeros_max_s'\]\)"):
        train(_config(tiny_data, max_epochs=3, zeros_max_s=1.0), tmp_path / "exp", resume=True)


class SaveWeights(pl.Callback):
    """Each DDP rank writes its final weights (to compare ranks after training)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        torch.save(pl_module.model.state_dict(), f"{self.folder}/rank{trainer.global_rank}.pt")


def test_two_process_ddp_on_cpu_ends_with_identical_weights(tiny_data: Path, tmp_path: Path) -> None:
    config = _config(tiny_data, strategy="ddp_spawn", devices="2", accelerator="cpu", max_epochs=2)
    train(config, tmp_path / "exp", callbacks=[SaveWeights(str(tmp_path))])
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    initial = load_checkpoint(tmp_path / "exp" / "last.ckpt")["state_dict"]
    for key, value in ranks[0].items():
        assert torch.equal(value, ranks[1][key]), key
        assert torch.equal(value, initial[f"model.{key}"])


@pytest.fixture(scope="module")
def tiny_exp(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exp") / "gru"
    train(_config(tiny_data, cell="gru", max_epochs=1), out)
    return out


def test_load_model_matches_the_checkpoint_and_decodes(tiny_exp: Path, tiny_data: Path) -> None:
    model = load_model(tiny_exp)
    assert model.tokens[0] == "<blk>" and not model.training
    dataset = CTCDataset(tiny_data / "test", TokenTable(tuple(model.tokens)))
    example = dataset[0]
    log_probs = model(example.feats.unsqueeze(0)).log_probs
    assert log_probs.shape == (1, example.feats.shape[0], len(model.tokens))
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(1, example.feats.shape[0]))
    greedy, out_greedy = decode_data_dir(tiny_exp, tiny_data / "test")
    beam, out_beam = decode_data_dir(tiny_exp, tiny_data / "test", beam=4)
    assert out_greedy.name == "decode_test_greedy" and out_beam.name == "decode_test_beam4"
    total = (out_beam / "per_utt.txt").read_text().splitlines()[-1].split()
    assert total[0] == "TOTAL" and math.isclose(float(total[-1]), beam, abs_tol=0.01)
    assert 0 <= greedy <= 200


def test_checkpoint_of_another_architecture_is_refused(tiny_exp: Path, tmp_path: Path) -> None:
    checkpoint = load_checkpoint(tiny_exp)
    checkpoint["hyper_parameters"]["hidden_size"] = 48
    torch.save(checkpoint, tmp_path / "other.ckpt")
    with pytest.raises(InputError, match="weights do not fit the architecture"):
        load_model(tmp_path / "other.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match=r"junk\.ckpt: not a gatescope checkpoint: weights-only loading refused"):
        load_model(tmp_path / "junk.ckpt")
    (tmp_path / "cut.ckpt").write_bytes((tiny_exp / "best.ckpt").read_bytes()[:4000])
    with pytest.raises(InputError, match=r"cut\.ckpt: not a readable checkpoint"):
        load_model(tmp_path / "cut.ckpt")
    import pickle

    (tmp_path / "code.ckpt").write_bytes(pickle.dumps({"x": print}))  # a pickled callable: code, not weights
    with pytest.raises(InputError, match=r"code\.ckpt: not a gatescope checkpoint: weights-only") as refused:
        load_model(tmp_path / "code.ckpt")
    assert "weights_only=False" not in str(refused.value) and "\n" not in str(refused.value)


def _damaged(tiny_data: Path, tmp_path: Path, how: str) -> Path:
    data = tmp_path / "train"
    shutil.copytree(tiny_data / "train", data)
    text = dict(line.split(" ", 1) for line in (data / "text").read_text().splitlines())
    victim = sorted(text)[1]
    if how == "empty transcript":
        text[victim] = ""
    elif how == "too many labels":
        text[victim] = " ".join(["aa", "iy"] * 2000)
    (data / "text").write_text("".join(f"{u} {t}\n" for u, t in sorted(text.items())))
    feats = dict(line.split(" ", 1) for line in (data / "feats.scp").read_text().splitlines())
    if how == "missing feats":
        del feats[victim]
    elif how == "nan features":
        matrix = kaldi_ark.read_matrix(feats[victim].strip()).copy()
        matrix[3, 2] = np.nan
        feats[victim] = kaldi_ark.write_matrices(tmp_path / "bad.ark", [(victim, matrix)])[victim]
    (data / "feats.scp").write_text("".join(f"{u} {f.strip()}\n" for u, f in sorted(feats.items())))
    return data


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("empty transcript", "empty transcript"),
        ("too many labels", "4000 labels need"),
        ("missing feats", "no entry in feats.scp"),
        ("nan features", "features contain NaN or inf"),
    ],
)
def test_bad_utterances_are_named_or_skipped(tiny_data: Path, tmp_path: Path, how: str, message: str) -> None:
    data = _damaged(tiny_data, tmp_path, how)
    tokens = TokenTable.for_target("phones", {})
    with pytest.raises(InputError, match=f"utterance .*: {message}"):
        CTCDataset(data, tokens)
    dataset = CTCDataset(data, tokens, skip_bad=True)
    assert len(dataset.skipped) == 1 and message in next(iter(dataset.skipped.values()))


def test_config_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=r"unknown key\(s\) \['hiden_size'\]"):
        load_config(TrainConfig, None, ["hiden_size=3"])
    with pytest.raises(ConfigError, match="cell must be one of"):
        load_config(TrainConfig, None, ["cell=transformer"])
    config = tmp_path / "bad.yaml"
    config.write_text("target: letters\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "exp")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "target must be one of" in err


def test_auto_resume_skips_a_finished_run_and_extends_a_longer_one(tiny_data: Path, tmp_path: Path) -> None:
    from gatescope.asr.training.trainer import train_or_resume

    train_or_resume(_config(tiny_data, max_epochs=1), tmp_path / "exp")
    first = (tmp_path / "exp" / "last.ckpt").stat().st_mtime_ns
    train_or_resume(_config(tiny_data, max_epochs=1), tmp_path / "exp")
    assert (tmp_path / "exp" / "last.ckpt").stat().st_mtime_ns == first, "a finished run is not retrained"
    train_or_resume(_config(tiny_data, max_epochs=2), tmp_path / "exp")
    assert load_checkpoint(tmp_path / "exp" / "last.ckpt")["epoch"] == 1


def test_sigkill_then_resume_equals_uninterrupted(tiny_data: Path, tmp_path: Path) -> None:
    """A real ``kill -9`` of ``gatescope train`` after its first checkpoint, then ``--resume``."""
    import os
    import signal
    import subprocess
    import sys

    import yaml

    values = {
        **SMALL,
        "max_epochs": 6,
        "dropout": 0.2,
        "train_dir": str(tiny_data / "train"),
        "valid_dir": str(tiny_data / "dev"),
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(values))
    command = [sys.executable, "-m", "gatescope", "train", "--config", str(config)]
    straight = subprocess.run(
        [*command, "--out", str(tmp_path / "straight")], check=True, capture_output=True, text=True
    )
    noise = [
        line for line in straight.stderr.splitlines() if "Tip" in line or "Warning" in line or "GPU available" in line
    ]
    assert not noise, noise  # a quiet log: no Lightning notices, no warnings about our own use of libraries
    victim = subprocess.Popen(
        [*command, "--out", str(tmp_path / "killed")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    last = tmp_path / "killed" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not last.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run must still have been going when killed"
    assert not (tmp_path / "killed" / "training.done").exists()
    subprocess.run([*command, "--out", str(tmp_path / "killed"), "--resume"], check=True, capture_output=True)
    a = load_checkpoint(tmp_path / "straight" / "last.ckpt")
    b = load_checkpoint(tmp_path / "killed" / "last.ckpt")
    assert a["epoch"] == b["epoch"] == 5
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key


def test_noise_augmentation_is_on_the_fly_seeded_and_resumable(tiny_data: Path, tmp_path: Path) -> None:
    from gatescope.noise import AugmentConfig

    tokens = TokenTable.for_target("phones", {})
    config = AugmentConfig(prob=1.0, types=("pink", "babble"), snr_min=0.0, snr_max=5.0)
    clean = CTCDataset(tiny_data / "train", tokens)
    noisy = CTCDataset(tiny_data / "train", tokens, augment=config, seed=3)
    a, b, c = noisy[(0, 0)], noisy[(0, 0)], noisy[(0, 1)]
    assert torch.equal(a.feats, b.feats)  # same (seed, epoch, index): same noise
    assert not torch.equal(a.feats, c.feats)  # another epoch: another draw
    assert a.feats.shape == clean[0].feats.shape
    assert (a.feats - clean[0].feats).abs().mean() > 0.1
    # Training with augmentation resumes exactly as well.
    overrides = dict(noise_prob=0.5, noise_types="white,babble", max_epochs=2, speed_factors="0.9,1.0,1.1",
                     channel_prob=0.5, vtlp_max=0.1)  # fmt: skip
    train(_config(tiny_data, **overrides), tmp_path / "straight")
    train(_config(tiny_data, **{**overrides, "max_epochs": 1}), tmp_path / "resumed")
    train(_config(tiny_data, **overrides), tmp_path / "resumed", resume=True)
    a_sd = load_checkpoint(tmp_path / "straight" / "last.ckpt")["state_dict"]
    b_sd = load_checkpoint(tmp_path / "resumed" / "last.ckpt")["state_dict"]
    for key in a_sd:
        assert torch.equal(a_sd[key], b_sd[key]), key
    with pytest.raises(InputError, match="unknown noise"):
        _config(tiny_data, noise_prob=0.5, noise_types="hiss")
    with pytest.raises(InputError, match="speed factors"):
        _config(tiny_data, speed_factors="0.9,3")


def test_speed_channel_and_warp_augmentation_change_the_features_reproducibly(tiny_data: Path) -> None:
    from gatescope.noise import AugmentConfig

    tokens = TokenTable.for_target("phones", {})
    clean = CTCDataset(tiny_data / "train", tokens)
    shapes = set()
    for config in (
        AugmentConfig(speed_factors=(0.9, 1.1)),
        AugmentConfig(channel_prob=1.0),
        AugmentConfig(vtlp_max=0.1),
    ):
        data = CTCDataset(tiny_data / "train", tokens, augment=config, seed=1)
        a, b = data[(2, 0)], data[(2, 0)]
        assert torch.equal(a.feats, b.feats) and not torch.equal(a.feats, clean[2].feats)
        shapes.add(a.feats.shape[0] == clean[2].feats.shape[0])
    assert shapes == {True, False}  # speed changes the length, the channel and the warp do not


def test_shifted_stats_of_a_one_utterance_speaker_are_the_perturbed_copys_own() -> None:
    from gatescope.asr.features.cmvn import apply_cmvn, cmvn_stats, shifted_stats

    rng = np.random.default_rng(0)
    clean = rng.normal(3.0, 2.0, (300, 5))
    perturbed = np.log(np.exp(clean[::2]) + 4.0)  # a noise floor in the log domain, and half the frames
    stats = shifted_stats(cmvn_stats([clean]), clean, perturbed)
    assert stats[0, -1] == 300, "the speaker's count"
    np.testing.assert_allclose(stats, cmvn_stats([perturbed]) * 300 / 150, rtol=1e-9)
    normalised = apply_cmvn(perturbed, stats)
    np.testing.assert_allclose(normalised.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(normalised.std(0), 1, atol=1e-5)


def test_cmvn_tracking_the_augmentation_removes_the_channels_offset(tiny_data: Path) -> None:
    from gatescope.noise import AugmentConfig

    tokens = TokenTable.for_target("phones", {})
    clean = CTCDataset(tiny_data / "train", tokens)
    config = AugmentConfig(channel_prob=1.0)
    plain = CTCDataset(tiny_data / "train", tokens, augment=config, seed=1)
    tracked = CTCDataset(tiny_data / "train", tokens, augment=config, seed=1, cmvn_tracks_augmentation=True)
    offsets = {"plain": 0.0, "tracked": 0.0}
    for index in range(len(clean)):
        reference = clean[index].feats.mean(0)
        for name, data in (("plain", plain), ("tracked", tracked)):
            offsets[name] += float((data[(index, 0)].feats.mean(0) - reference).abs().mean())
    assert offsets["tracked"] < 0.5 * offsets["plain"], offsets
    utterance = CTCDataset(tiny_data / "train", tokens, cmvn="utterance", augment=config, seed=1,
                           cmvn_tracks_augmentation=True)  # fmt: skip
    assert torch.equal(utterance[(0, 0)].feats, CTCDataset(tiny_data / "train", tokens, cmvn="utterance",
                       augment=config, seed=1)[(0, 0)].feats), "only per-speaker CMVN tracks"  # fmt: skip


def test_batches_sort_on_the_augmented_lengths(tiny_data: Path) -> None:
    from gatescope.asr.training.data_module import BucketBatchSampler
    from gatescope.noise import AugmentConfig

    tokens = TokenTable.for_target("phones", {})
    config = AugmentConfig(prob=0.5, types=("white", "reverb:0.3"), speed_factors=(0.9, 1.0, 1.1), channel_prob=0.5,
                           trim_prob=0.7, zeros_prob=0.5, zeros_max_s=1.0, nonspeech_prob=0.2,
                           trim_floor_db_min=15.0)  # fmt: skip
    data = CTCDataset(tiny_data / "train", tokens, augment=config, seed=5)
    changed = 0
    for epoch in range(3):
        predicted = data.epoch_frames(epoch)
        actual = [data[(index, epoch)].feats.shape[0] for index in range(len(data))]
        assert predicted == actual, f"epoch {epoch}"
        changed += sum(a != b for a, b in zip(actual, data.frames, strict=True))
    assert changed > len(data), "the draws changed lengths"
    # Sorted on those lengths, batches are runs of the sorted lengths (the least padding); on the unaugmented
    # lengths they pad more.
    more = 0
    for epoch in range(3):
        lengths = data.epoch_frames(epoch)
        ordered = sorted(lengths)
        least = sum(max(ordered[i : i + 2]) * len(ordered[i : i + 2]) for i in range(0, len(ordered), 2))
        padded = {}
        for name, epoch_frames in (("augmented", data.epoch_frames), ("unaugmented", None)):
            sampler = BucketBatchSampler(data.frames, 2, True, 0, epoch_source=lambda e=epoch: e,
                                         epoch_frames=epoch_frames)  # fmt: skip
            padded[name] = sum(max(lengths[i] for i in batch) * len(batch) for batch in sampler)
        assert padded["augmented"] == least <= padded["unaugmented"]
        more += padded["unaugmented"] > least
    assert more, "the unaugmented lengths batched these draws worse"


def test_nonspeech_examples_have_empty_targets_and_leave_the_other_draws_alone(tiny_data: Path) -> None:
    from gatescope.noise import AugmentConfig

    tokens = TokenTable.for_target("phones", {})
    channel = CTCDataset(tiny_data / "train", tokens, augment=AugmentConfig(channel_prob=1.0), seed=3)
    data = CTCDataset(tiny_data / "train", tokens, augment=AugmentConfig(channel_prob=1.0, nonspeech_prob=0.5), seed=3)
    replaced = 0
    for index in range(len(data)):
        for epoch in range(3):
            example, twin = data[(index, epoch)], channel[(index, epoch)]
            assert torch.equal(example.feats, data[(index, epoch)].feats), "seeded by (seed, epoch, index)"
            if example.targets.numel():
                assert torch.equal(example.feats, twin.feats) and torch.equal(example.targets, twin.targets)
            else:
                replaced += 1
                assert example.feats.shape == twin.feats.shape, "non-speech as long as the utterance it replaces"
                assert example.feats.std(dim=0).max() < twin.feats.std(dim=0).max()
    assert 0 < replaced < 3 * len(data)
    batch = collate([data[(i, 0)] for i in range(len(data))])
    loss = torch.nn.functional.ctc_loss(
        torch.randn(batch.feats.shape[1], len(data), len(tokens)).log_softmax(-1), batch.targets,
        batch.lengths, batch.target_lengths, reduction="mean",
    )  # fmt: skip
    assert torch.isfinite(loss), "CTC takes an empty transcript: every frame blank"


@pytest.mark.parametrize("mode", ["utterance", "sliding", "none"])
def test_cmvn_modes(tiny_data: Path, mode: str) -> None:
    from gatescope.asr.features.cmvn import OnlineCMVN

    tokens = TokenTable.for_target("phones", {})
    data = CTCDataset(tiny_data / "dev", tokens, cmvn=mode)
    raw = kaldi_ark.read_matrix(data.items[0][1])
    feats = data[0].feats.numpy()
    if mode == "utterance":
        np.testing.assert_allclose(feats.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(feats.std(0), 1, atol=1e-3)
    elif mode == "sliding":  # exactly what streaming computes frame by frame
        np.testing.assert_allclose(feats, OnlineCMVN("sliding", None, True).apply(raw), atol=1e-6)
    else:
        np.testing.assert_allclose(feats, raw)


def test_unreadable_ark_names_the_utterance_the_archive_and_the_offset(tiny_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "train"
    shutil.copytree(tiny_data / "train", data, ignore=shutil.ignore_patterns("data"))
    feats = dict(line.split(" ", 1) for line in (tiny_data / "train" / "feats.scp").read_text().splitlines())
    victim = sorted(feats)[1]
    ark, offset = feats[victim].strip().rsplit(":", 1)
    cut = tmp_path / "cut.ark"
    cut.write_bytes(Path(ark).read_bytes()[: int(offset) + 20])  # the victim's matrix is cut short
    feats[victim] = f"{cut}:{offset}"
    (data / "feats.scp").write_text("".join(f"{u} {f.strip()}\n" for u, f in sorted(feats.items())))
    with pytest.raises(InputError, match=rf"{cut}:{offset}: cannot read the matrix of utterance {victim}"):
        CTCDataset(data, TokenTable.for_target("phones", {}))
