"""prepare timit on fixture trees in the real LDC layout, and the bad inputs it must refuse."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.corpora.timit import prepare_timit
from gatescope.asr.data.datadir import read_table, validate_data_dir
from gatescope.cli import main
from gatescope.errors import InputError

from .timit_fixture import PHONES, make_timit


def _lists(tmp_path: Path, speakers: dict[str, list[str]]) -> tuple[Path, Path]:
    dev, test = tmp_path / "dev.list", tmp_path / "test.list"
    dev.write_text("\n".join(s.upper() for s in speakers["dev"]) + "\n")
    test.write_text("\n".join(speakers["test"]) + "\n")
    return dev, test


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("upper", [True, False])
def test_prepare_real_layout(tmp_path: Path, upper: bool) -> None:
    speakers = make_timit(tmp_path / "TIMIT", upper=upper)
    dev, test = _lists(tmp_path, speakers)
    out = prepare_timit(tmp_path / "TIMIT", tmp_path / "data", dev, test, progress=False)
    utts = {split: read_table(out / split / "utt2spk") for split in ("train", "dev", "test")}
    assert sorted(utts["train"]) == sorted(f"{s}_{u}" for s in ("fcjf0", "mdab1", "mrws0") for u in ("si1027", "sx101"))
    assert set(utts["dev"].values()) == {"faks0"} and set(utts["test"].values()) == {"mdab0", "felc0"}
    assert not any("_sa" in u for split in utts.values() for u in split), "SA1/SA2 are dropped"
    for split in utts:
        assert validate_data_dir(out / split) == []
    text = read_table(out / "train" / "text")["fcjf0_sx101"].split()
    assert text == ["sil", "sh", "iy", "hh", "ae", "vcl", "d", "sil"], "61 -> 48 folding (hv->hh, dcl->vcl, h#->sil)"
    assert read_table(out / "train" / "text.wrd")["fcjf0_sx101"] == "she had"
    assert read_table(out / "train" / "spk2gender") == {"fcjf0": "f", "mdab1": "m", "mrws0": "m"}
    ctm = [line.split() for line in (out / "train" / "phones.ctm").read_text().splitlines()]
    first = [c for c in ctm if c[0] == "fcjf0_sx101"]
    assert [c[4] for c in first] == [p for p, _ in PHONES]
    assert round(float(first[1][2]) * 16000) == PHONES[0][1]


def test_synthetic_corpus_uses_its_own_speaker_lists(tiny_corpus: Path, tmp_path: Path) -> None:
    out = prepare_timit(tiny_corpus, tmp_path / "data", progress=False)
    dev = set((tiny_corpus / "DOC" / "dev_spk.list").read_text().split())
    assert set(read_table(out / "dev" / "utt2spk").values()) == dev


def _prepared(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    speakers = make_timit(tmp_path / "TIMIT")
    dev, test = _lists(tmp_path, speakers)
    prepare_timit(tmp_path / "TIMIT", tmp_path / "data", dev, test, progress=False)
    return tmp_path / "TIMIT", dev, test, _digest(tmp_path / "data")


def _stereo_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(2 * 17000, dtype="<i2").tobytes())


def _mono_wav(path: Path, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(17000, dtype="<i2").tobytes())


def _float_wav(path: Path, value: float) -> None:
    audio = np.zeros(17000, dtype=np.float32)
    audio[100] = value
    sf.write(path, audio, 16000, subtype="FLOAT", format="WAV")


def _edit_phn(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


BAD_INPUTS = {
    "corrupt audio": (lambda wav: wav.write_bytes(b"\x00garbage" * 100), "SX101.WAV", "unreadable audio"),
    "truncated audio": (lambda wav: wav.write_bytes(wav.read_bytes()[:3000]), "SX101.WAV", "truncated"),
    "empty audio": (lambda wav: wav.write_bytes(b""), "SX101.WAV", "empty audio file"),
    "wrong sample rate": (lambda wav: _mono_wav(wav, 8000), "SX101.WAV", "sample rate 8000 Hz, expected 16000"),
    "stereo": (lambda wav: _stereo_wav(wav), "SX101.WAV", "expected mono audio, found 2 channels"),
    "phn out of order": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [ls[0], ls[2], ls[1], *ls[3:]]),
        "SX101.PHN:2",
        "gap",
    ),
    "phn overlapping": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [ls[0], "1900 3600 sh", *ls[2:]]),
        "SX101.PHN:2",
        "overlaps",
    ),
    "phn past the end": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [*ls[:-1], "9500 99999 h#"]),
        "SX101.PHN:8",
        "past the end of the audio",
    ),
    "phn unknown label": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [ls[0], "2000 3600 xx", *ls[2:]]),
        "SX101.PHN:2",
        "unknown phone label 'xx'",
    ),
    "phn non-ascii digit": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [ls[0], "2000 2704\u00b2 sh", *ls[2:]]),
        "SX101.PHN:2",
        "expected 'start_sample end_sample label'",
    ),
    "sphere corrupt integer": (
        lambda wav: wav.write_bytes(wav.read_bytes().replace(b"sample_count -i ", b"sample_count -i x", 1)),
        "SX101.WAV",
        "sample_count is -i but its value",
    ),
    "nan samples": (lambda wav: _float_wav(wav, float("nan")), "SX101.WAV", "NaN or infinite samples"),
    "phn not numbers": (
        lambda wav: _edit_phn(wav.with_suffix(".PHN"), lambda ls: [ls[0], "a b sh", *ls[2:]]),
        "SX101.PHN:2",
        "expected 'start_sample end_sample label'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_keeps_earlier_output(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root, dev, test, before = _prepared(tmp_path)
    damage, where, what = BAD_INPUTS[case]
    damage(root / "TRAIN" / "DR1" / "FCJF0" / "SX101.WAV")
    code = main(
        [
            "prepare",
            "timit",
            str(root),
            str(tmp_path / "data"),
            "--dev-spk-list",
            str(dev),
            "--test-spk-list",
            str(test),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gatescope: error: ")
    assert where in err and what in err, err
    assert _digest(tmp_path / "data") == before, "earlier output must stay intact"


def test_out_of_order_lines_are_named_as_such(tmp_path: Path) -> None:
    make_timit(tmp_path / "TIMIT")
    phn = tmp_path / "TIMIT" / "TRAIN" / "DR1" / "FCJF0" / "SX101.PHN"
    _edit_phn(phn, lambda ls: [ls[1], ls[0], *ls[2:]])
    with pytest.raises(InputError, match=r"SX101.PHN:1: gap|SX101.PHN:2: .*out of order"):
        prepare_timit(tmp_path / "TIMIT", tmp_path / "data", progress=False)


def test_root_without_train_or_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "TIMIT" / "TRAIN").mkdir(parents=True)
    assert main(["prepare", "timit", str(tmp_path / "TIMIT"), str(tmp_path / "data")]) == 2
    assert "no TEST/ (or test/) directory" in capsys.readouterr().err
    assert main(["prepare", "timit", str(tmp_path / "nowhere"), str(tmp_path / "data")]) == 2
    assert "no such directory" in capsys.readouterr().err
