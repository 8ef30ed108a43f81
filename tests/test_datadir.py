"""validate-data: each kind of problem is found and named with its file (and line)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gatescope.asr.data.datadir import validate_data_dir
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.cli import main
from gatescope.config import load_config
from gatescope.errors import InputError


@pytest.fixture
def data(tiny_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "train"
    shutil.copytree(tiny_data / "train", out)
    return out


def _rewrite(path: Path, edit) -> None:
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")


CASES = {
    "unsorted": ("text", lambda ls: [ls[1], ls[0], *ls[2:]], "text:2: not sorted"),
    "duplicate": ("utt2spk", lambda ls: [ls[0], ls[0], *ls[1:]], "utt2spk:2: duplicate key"),
    "missing utterance": ("text", lambda ls: ls[1:], "text: utterance set differs from utt2spk: missing 1"),
    "extra utterance": ("wav.scp", lambda ls: [*ls, "zz_extra /x.wav"], "wav.scp: utterance set differs"),
    "speaker prefix": ("utt2spk", lambda ls: [ls[0].split()[0] + " other", *ls[1:]], "does not start with its speaker"),
    "zero duration": ("utt2dur", lambda ls: [ls[0].split()[0] + " 0", *ls[1:]], "is not a positive number"),
    "no value": ("text", lambda ls: [ls[0].split()[0], *ls[1:]], "text:1: expected 'key value'"),
    "reserved symbol": ("text", lambda ls: [ls[0] + " <eps>", *ls[1:]], "reserved symbol"),
    "ctm gap": ("phones.ctm", lambda ls: [ls[0], *ls[2:]], "phones.ctm:2:"),
    "ctm past the end": (
        "phones.ctm",
        lambda ls: [*ls[:-1], " ".join([*ls[-1].split()[:3], "99.0", "h#"])],
        "past the end of the audio",
    ),
    "spk2utt disagrees": ("spk2utt", lambda ls: [" ".join(ls[0].split()[:-1]), *ls[1:]], "disagree with utt2spk"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_problems_are_found_and_named(data: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_data_dir(data) == []
    name, edit, expected = CASES[case]
    _rewrite(data / name, edit)
    problems = [str(p) for p in validate_data_dir(data)]
    assert any(expected in p and name in p for p in problems), problems
    assert main(["validate-data", str(data)]) == 2
    captured = capsys.readouterr()
    assert expected in captured.out and captured.err.count("\n") == 1


def test_missing_required_file(data: Path) -> None:
    (data / "spk2utt").unlink()
    assert [str(p) for p in validate_data_dir(data)] == [f"{data / 'spk2utt'}: required file is missing"]


def test_config_overrides_and_unknown_keys(tmp_path: Path) -> None:
    config = load_config(FeatureConfig, None, ["num_mel_bins=80", "add_deltas=true"])
    assert config.num_mel_bins == 80 and config.add_deltas is True and config.dim == 240
    with pytest.raises(InputError, match=r"unknown key\(s\) \['num_mel_bin'\]"):
        load_config(FeatureConfig, None, ["num_mel_bin=80"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: fbank\nframe_shift: 10\n")
    with pytest.raises(InputError, match=r"bad\.yaml: unknown key"):
        load_config(FeatureConfig, bad)
    with pytest.raises(InputError, match="expects int"):
        load_config(FeatureConfig, None, ["num_mel_bins=many"])
