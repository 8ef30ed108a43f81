"""Shared fixtures: a tiny synthetic corpus, its Kaldi data dirs and features (built once per session)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus

TINY = SynthCorpusConfig(speakers=4, test_speakers=2, utts_per_speaker=3, seed=11)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "corpus"
    generate_corpus(root, TINY, jobs=1, progress=False)
    return root


def assert_same_files(made: Path, reference: Path) -> None:
    """Both folders hold the same files, byte for byte (a corpus generated twice)."""
    files = sorted(p.relative_to(made) for p in made.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    for name in files:
        assert (made / name).read_bytes() == (reference / name).read_bytes(), name


TINY_FLITE = SynthCorpusConfig(speakers=4, test_speakers=2, utts_per_speaker=2, seed=11, backends=("flite",))


@pytest.fixture(scope="session")
def tiny_flite_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny corpus spoken by flite's voices alone (skipped where flite is not installed)."""
    from gatescope.asr.corpora.synth.flite import flite_path

    if flite_path() is None:
        pytest.skip("flite is not installed (make setup installs it as root; Debian: apt-get install flite)")
    root = tmp_path_factory.mktemp("synth_flite") / "corpus"
    generate_corpus(root, TINY_FLITE, jobs=1, progress=False)
    return root


TINY_FESTIVAL = SynthCorpusConfig(speakers=4, test_speakers=2, utts_per_speaker=2, seed=11, backends=("festival",))


@pytest.fixture(scope="session")
def tiny_festival_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny corpus spoken by festival's voices alone (skipped where festival or a voice is not installed)."""
    from gatescope.asr.corpora.synth.festival import FESTIVAL_VOICES, installed_voices

    if len(installed_voices()) < len(FESTIVAL_VOICES):
        pytest.skip("festival or one of its voices is not installed (make setup installs them as root)")
    root = tmp_path_factory.mktemp("synth_festival") / "corpus"
    generate_corpus(root, TINY_FESTIVAL, jobs=1, progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_data(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gatescope.asr.corpora.timit import prepare_timit
    from gatescope.asr.features.extract import extract_features
    from gatescope.asr.features.fbank import FeatureConfig

    out = prepare_timit(tiny_corpus, tmp_path_factory.mktemp("data") / "data", progress=False)
    for split in ("train", "dev", "test"):
        extract_features(out / split, FeatureConfig(), progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_models(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small unidirectional LSTM and GRU trained for two epochs on the tiny corpus (exp dirs)."""
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train

    root = tmp_path_factory.mktemp("exp")
    dirs = dict(train_dir=str(tiny_data / "train"), valid_dir=str(tiny_data / "dev"))
    small = dict(num_layers=2, hidden_size=32, batch_size=2, max_epochs=2, progress_bar=False, frame_stack=3)
    for cell in ("lstm", "gru"):
        train(TrainConfig(cell=cell, **dirs, **small), root / cell)
    return [root / "lstm", root / "gru"]


@pytest.fixture
def virtual_mic(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a private PulseAudio server whose default source is a virtual microphone fed by
    whatever is played into its default sink."""
    runtime = tmp_path / "pulse"
    runtime.mkdir()
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "HOME": str(tmp_path)}
    env["PULSE_SERVER"] = f"unix:{runtime}/native"
    started = subprocess.run(
        ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit", "--log-target=stderr"],
        env=env, capture_output=True, check=False,
    )  # fmt: skip
    if started.returncode != 0:
        pytest.skip(f"cannot start a PulseAudio server here: {started.stderr.decode().strip()[-200:]}")
    try:
        for command in (
            ["pactl", "load-module", "module-null-sink", "sink_name=vspk"],
            ["pactl", "load-module", "module-virtual-source", "source_name=vmic", "master=vspk.monitor"],
            ["pactl", "set-default-sink", "vspk"],
            ["pactl", "set-default-source", "vmic"],
        ):
            subprocess.run(command, env=env, capture_output=True, check=True)
        yield env
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, check=False)
