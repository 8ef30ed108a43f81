"""A non-editable install works on its own: every subpackage and the package data (conf/) are in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_package_runs_with_its_package_data(tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert (site / "gatescope" / "conf" / "espeak_timit.map").is_file() and (site / "gatescope" / "py.typed").is_file()
    env = {**os.environ, "PYTHONPATH": str(site)}  # dependencies come from this venv, gatescope from the install
    run = [sys.executable, "-m", "gatescope"]
    where = subprocess.run(
        [sys.executable, "-c", "import gatescope.asr.decoding.real_speech as m; print(m.__file__)"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site)), "the installed copy, not the checkout, must be imported"
    corpus = tmp_path / "corpus"
    data = tmp_path / "data"
    commands = [  # voices, lexicon, eSpeak and phone maps, speaker lists, the fbank defaults: all package data
        ["corpus", "synth", str(corpus), "--speakers", "3", "--test-speakers", "2", "--utts-per-speaker", "1"],
        ["prepare", "timit", str(corpus), str(data)],
        ["features", str(data / "dev")],
    ]
    for command in commands:
        done = subprocess.run([*run, *command, "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (data / "dev" / "feats.scp").is_file()
