"""Shared fixtures: a tiny synthetic corpus, its Kaldi data dirs and features (built once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def _share_the_cores_among_workers() -> None:
    """Under pytest-xdist each worker, and every command it starts, gets its share of the cores as its thread
    count (set before torch loads), so two workers on two cores do not run four threads that spin against each
    other. An explicit OMP_NUM_THREADS wins."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


_share_the_cores_among_workers()

from gatescope.asr.corpora.synth.corpus import SynthCorpusConfig, generate_corpus  # noqa: E402

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


MEMORISED_ZEROS_S = 2.0  # the longest run of exact zeros the memorised model was trained with


def train_memorised(root: Path) -> None:
    """The :func:`memorised` model's corpus, data dir and training, under ``root``."""
    from gatescope.asr.corpora.timit import prepare_timit
    from gatescope.asr.features.extract import extract_features
    from gatescope.asr.features.fbank import FeatureConfig
    from gatescope.asr.training.config import TrainConfig
    from gatescope.asr.training.trainer import train

    corpus = SynthCorpusConfig(speakers=3, test_speakers=2, utts_per_speaker=2, seed=5, backends=("espeak",))
    generate_corpus(root / "corpus", corpus, jobs=1, progress=False)
    data = prepare_timit(root / "corpus", root / "data", progress=False)
    extract_features(data / "train", FeatureConfig(), progress=False)
    config = TrainConfig(
        train_dir=str(data / "train"), valid_dir=str(data / "train"), num_layers=2, hidden_size=64, batch_size=2,
        max_epochs=120, lr=0.01, lr_schedule="constant", frame_stack=3, zeros_prob=0.5,
        zeros_max_s=MEMORISED_ZEROS_S, progress_bar=False,
    )  # fmt: skip
    train(config, root / "exp")


@pytest.fixture(scope="session")
def memorised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(exp dir, training data dir) of a 2 x 64 LSTM that knows the two utterances of its training set by heart,
    trained with ``zeros_prob`` (runs of exact zeros around half the utterances, as a virtual microphone gives).
    Trained in a fresh interpreter, so the model is the same whichever tests ran before in this process (with the
    test files spread over processes, that differs from run to run; once it gave a model that lost phones)."""
    root = tmp_path_factory.mktemp("memorised")
    code = f"from pathlib import Path; from tests.conftest import train_memorised; train_memorised(Path({str(root)!r}))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parent.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "exp", root / "data" / "train"


@pytest.fixture
def virtual_mic(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a private PulseAudio server whose default source, the monitor of a 16 kHz null sink, is
    a virtual microphone that hears whatever is played into that sink, sample for sample."""
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
            ["pactl", "load-module", "module-null-sink", "sink_name=vspk", "rate=16000", "channels=1", "format=s16le"],
            ["pactl", "set-default-sink", "vspk"],
            # The sink's monitor is the microphone: it sends audio all the time, exact zeros while nothing plays,
            # as a real microphone would (a module-virtual-source on it sends nothing until something plays).
            ["pactl", "set-default-source", "vspk.monitor"],
            # An idle sink is suspended after a few seconds, and its monitor then sends nothing; keep it running.
            ["pactl", "unload-module", "module-suspend-on-idle"],
        ):
            subprocess.run(command, env=env, capture_output=True, check=True)
        yield env
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, check=False)
