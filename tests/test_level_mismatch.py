"""Level-mismatch augmentation: a share of the training utterances moved by a level their speaker's CMVN
statistics do not follow, seeded, along the features' own gain direction."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gatescope.asr.data.dataset import CTCDataset, LevelMismatch
from gatescope.asr.features import ark as kaldi_ark
from gatescope.asr.features.cmvn import stats_mean_var
from gatescope.asr.features.fbank import FeatureConfig, compute_features
from gatescope.asr.tokens import TokenTable
from gatescope.asr.training.config import TrainConfig
from gatescope.config import load_config
from gatescope.errors import ConfigError


@pytest.mark.parametrize("kind", ["fbank", "mfcc"])
@pytest.mark.parametrize("deltas", [False, True])
def test_the_gain_direction_is_what_a_louder_recording_does_to_the_features(kind: str, deltas: bool) -> None:
    config = FeatureConfig(kind=kind, num_mel_bins=23, dither=0.0, add_deltas=deltas, sample_rate=8000)
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(8000) * 0.1).astype(np.float32)
    louder = (audio * math.exp(0.5)).astype(np.float32)  # power times e: every log mel energy + 1 nat
    moved = (compute_features(louder, config) - compute_features(audio, config)).numpy()
    direction = config.gain_direction()
    assert direction.shape == (config.dim,)
    np.testing.assert_allclose(moved[5:-5], np.broadcast_to(direction, moved[5:-5].shape), atol=2e-3)
    if kind == "fbank":
        assert np.all(direction[:23] == 1.0)
    else:
        assert math.isclose(direction[0], math.sqrt(23), rel_tol=1e-5) and np.abs(direction[1:]).max() < 1e-5


def test_shifts_are_seeded_shared_as_asked_and_within_the_range() -> None:
    mismatch = LevelMismatch(prob=0.5, max_db=20.0)
    shifts = [mismatch.shift_db(3, epoch, index) for epoch in range(4) for index in range(250)]
    assert shifts == [mismatch.shift_db(3, epoch, index) for epoch in range(4) for index in range(250)]
    moved = [s for s in shifts if s != 0.0]
    assert 0.42 < len(moved) / len(shifts) < 0.58 and max(abs(s) for s in moved) <= 20.0
    assert min(moved) < -15 and max(moved) > 15  # both directions, across the range
    assert shifts != [mismatch.shift_db(4, epoch, index) for epoch in range(4) for index in range(250)]
    assert LevelMismatch().shift_db(3, 0, 0) == 0.0 and LevelMismatch(1.0, 0.0).shift_db(3, 0, 0) == 0.0


def test_a_shifted_example_is_its_clean_self_moved_by_the_shift_over_the_speakers_deviation(tiny_data: Path) -> None:
    train = tiny_data / "train"
    tokens = TokenTable.for_target("phones", {})
    clean = CTCDataset(train, tokens)
    mismatch = LevelMismatch(prob=1.0, max_db=20.0)
    shifted = CTCDataset(train, tokens, seed=5, level_mismatch=mismatch)
    none = CTCDataset(train, tokens, seed=5, level_mismatch=LevelMismatch(prob=0.0, max_db=20.0))
    direction = load_config(FeatureConfig, train / "feat_conf.yaml").gain_direction()
    utt = shifted.items[2][0]
    speaker_stats = shifted.stats[utt]
    _, var = stats_mean_var(speaker_stats)
    for epoch in (0, 1):
        shift = mismatch.shift_db(5, epoch, 2) * math.log(10) / 10
        expected = clean[2].feats + torch.from_numpy((shift * direction / np.sqrt(var)).astype(np.float32))
        torch.testing.assert_close(shifted[(2, epoch)].feats, expected, atol=1e-4, rtol=1e-5)
        assert torch.equal(none[(2, epoch)].feats, clean[2].feats)
    assert not torch.equal(shifted[(2, 0)].feats, shifted[(2, 1)].feats)  # another epoch: another draw
    assert kaldi_ark.read_matrix(shifted.items[2][1]).shape[0] == clean[2].feats.shape[0]


def test_the_training_config_validates_the_settings() -> None:
    config = load_config(TrainConfig, None, ["level_mismatch_prob=0.5", "level_mismatch_db=20"])
    assert (config.level_mismatch_prob, config.level_mismatch_db) == (0.5, 20.0)
    with pytest.raises(ConfigError, match="level_mismatch_prob"):
        load_config(TrainConfig, None, ["level_mismatch_prob=1.5"])
    with pytest.raises(ConfigError, match="level_mismatch_db"):
        load_config(TrainConfig, None, ["level_mismatch_db=-3"])
