"""Configs: every numeric setting has a declared valid range, checked when the config is built."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from gatescope.analysis.memory.analyze import AnalysisConfig
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.asr.models.acoustic import ModelConfig
from gatescope.asr.training.config import TrainConfig
from gatescope.cli import main
from gatescope.config import Range, load_config
from gatescope.errors import ConfigError

CONFIGS = [FeatureConfig, ModelConfig, TrainConfig, AnalysisConfig]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_every_numeric_field_has_a_range(cls: type) -> None:
    hints = typing.get_type_hints(cls)
    numeric = {
        f.name for f in dataclasses.fields(cls)
        if hints[f.name] in (int, float) or typing.get_args(hints[f.name])[:1] in ((int,), (float,))
    }  # fmt: skip
    assert numeric - set(cls.RANGES) == set(), "numeric fields without a declared range"
    assert cls() is not None  # the defaults are valid


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (TrainConfig, "hidden_size", 0), (TrainConfig, "num_layers", 0), (TrainConfig, "lr", float("nan")),
        (TrainConfig, "batch_size", 0), (TrainConfig, "dropout", 1.5), (TrainConfig, "max_epochs", 0),
        (TrainConfig, "noise_prob", 2.0), (FeatureConfig, "num_mel_bins", -5), (FeatureConfig, "frame_shift_ms", 0),
        (AnalysisConfig, "burst_positions", (0.5, 1.5)),
    ],
)  # fmt: skip
def test_values_out_of_range_are_refused(cls: type, field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{field} must be in"):
        cls(**{field: value})


def test_range_bounds_and_nan() -> None:
    assert 0.0 in Range(0.0) and 0.0 not in Range(0.0, low_open=True) and float("nan") not in Range(-1e9, 1e9)
    assert str(Range(0, 1, low_open=True)) == "(0, 1]"


def test_bad_value_in_a_file_names_the_file_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("hidden_size: 0\n")
    with pytest.raises(ConfigError, match=rf"{config}: hidden_size must be in \[1, 65536\], got 0"):
        load_config(TrainConfig, config)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "exp")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hidden_size" in err and not (tmp_path / "exp").exists()
    assert main(["features", str(tmp_path), "frame_shift_ms=0"]) == 2
    assert "command line: frame_shift_ms must be in" in capsys.readouterr().err
