"""The command line: every subcommand is listed and documented with an example; errors are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatescope.cli import main


def test_top_level_help_lists_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "gatescope", "--help"], capture_output=True, text=True, check=True)
    for name in ("corpus", "prepare", "validate-data", "features", "train", "decode", "score-real", "stream"):
        assert name in result.stdout  # (every command's own --help: tests/test_cli_commands.py)


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


def test_noise_command_perturbs_a_data_dir_and_wavs(tiny_data: Path, tmp_path: Path) -> None:
    import json

    import numpy as np

    from gatescope.asr.data.audio import read_audio
    from gatescope.asr.data.datadir import read_table, validate_data_dir

    source = tiny_data / "test"
    out = tmp_path / "test_babble5"
    assert (
        main(
            [
                "noise",
                "--noise",
                "babble",
                "--snr",
                "5",
                "--data",
                str(source),
                "--out",
                str(out),
                "--quiet",
                "--babble-data",
                str(tiny_data / "train"),
            ]
        )
        == 0
    )
    assert validate_data_dir(out) == []
    clean, noisy = read_table(source / "wav.scp"), read_table(out / "wav.scp")
    assert clean.keys() == noisy.keys() and (out / "text").read_text() == (source / "text").read_text()
    for utt in clean:
        speech, noisy_wave = read_audio(clean[utt])[0].astype(np.float64), read_audio(noisy[utt])[0]
        snr = 10 * np.log10(np.mean(speech**2) / np.mean((noisy_wave - speech) ** 2))
        assert abs(snr - 5.0) < 0.1, utt  # 16-bit storage costs far less than 0.1 dB at 5 dB SNR
    burst = tmp_path / "test_burst"
    argv = ["noise", "--noise", "white", "--burst", "50%:0.2", "--snr", "replace", "--data", str(source)]
    assert main([*argv, "--out", str(burst), "--quiet"]) == 0
    spans = json.loads((burst / "perturbation.json").read_text())["burst_spans"]
    assert set(spans) == set(clean) and all(end - start == 3200 for start, end in spans.values())
    wav = Path(next(iter(clean.values())))
    assert main(["noise", "--noise", "pink", "--snr", "0", str(wav), "--out", str(tmp_path / "wavs")]) == 0
    assert (tmp_path / "wavs" / wav.name).is_file()


def test_noise_command_errors(tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = str(tiny_data / "test")
    cases = [
        (["--noise", "pink", "--data", source], "needs an SNR"),
        (["--noise", "hiss", "--snr", "3", "--data", source], "unknown noise 'hiss'"),
        (["--noise", "white", "--burst", "x", "--data", source], "expected START:DUR"),
        (["--noise", "babble", "--snr", "3", str(tmp_path / "a.wav")], "needs --babble-data"),
        (["--noise", f"file:{tmp_path}/none", "--snr", "3", "--data", source], "no such noise file"),
    ]
    for argv, message in cases:
        assert main(["noise", *argv, "--out", str(tmp_path / "out"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_stream_cmvn_choices_are_the_online_cmvn_modes() -> None:
    from gatescope.asr.features.cmvn import OnlineCMVN
    from gatescope.cli.common import STREAM_CMVN_CHOICES

    assert STREAM_CMVN_CHOICES == OnlineCMVN.MODES
