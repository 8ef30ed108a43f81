"""The command line: every subcommand is listed and documented with an example; errors are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatescope.cli import main

SUBCOMMANDS = ["corpus synth", "prepare timit", "validate-data", "features"]


def test_top_level_help_lists_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "gatescope", "--help"], capture_output=True, text=True, check=True)
    for name in ("corpus", "prepare", "validate-data", "features"):
        assert name in result.stdout


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out and f"gatescope {command}" in out


def test_end_to_end_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    args = ["--speakers", "3", "--test-speakers", "2", "--utts-per-speaker", "2", "--quiet"]
    assert main(["corpus", "synth", str(corpus), *args]) == 0
    assert main(["prepare", "timit", str(corpus), str(data), "--quiet"]) == 0
    assert main(["features", str(data / "dev"), "--quiet", "num_mel_bins=30"]) == 0
    assert main(["validate-data", str(data / "dev")]) == 0
    out = capsys.readouterr().out
    assert "fbank dim 30" in out and "valid Kaldi data dir" in out
    assert main(["features", str(data / "dev"), "bogus=1"]) == 2
    assert "unknown key(s) ['bogus']" in capsys.readouterr().err
