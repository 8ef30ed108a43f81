"""AN4 in its distributed layout (etc/*.fileids, etc/*.transcription, wav/<fileid>.sph): the reader and the
prepare command, on a fixture written in that layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gatescope.asr.corpora.an4 import prepare_an4, read_transcription
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table, validate_data_dir
from gatescope.asr.data.sphere import sphere_bytes
from gatescope.cli import main
from gatescope.errors import InputError

TRAIN_SPEAKERS = ("fash", "fbbh", "fclc", "mblw", "mcen", "mdxs")
TEST_SPEAKERS = ("fcaw", "mjgm")


def an4_fixture(root: Path) -> Path:
    """An ``an4/`` folder as ``an4_sphere.tar.gz`` unpacks it: two utterances per speaker."""
    rng = np.random.default_rng(0)
    for name, folder, speakers in (("train", "an4_clstk", TRAIN_SPEAKERS), ("test", "an4test_clstk", TEST_SPEAKERS)):
        fileids, transcripts = [], []
        for k, speaker in enumerate(speakers):
            for j in range(2):
                utt = f"{'an' if j else 'cen'}{k * 2 + j + 1}-{speaker}-b"
                fileids.append(f"{folder}/{speaker}/{utt}")
                words = "RUBOUT G M E F THREE NINE" if j else "ENTER SIX TWO FOUR"
                transcripts.append(f"<s> {words} </s> ({utt})")
                audio = (rng.standard_normal(8000 + 800 * j) * 2000).astype(np.int16)
                path = root / "wav" / folder / speaker / f"{utt}.sph"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(sphere_bytes(audio, 16000))
        (root / "etc").mkdir(parents=True, exist_ok=True)
        (root / "etc" / f"an4_{name}.fileids").write_text("\n".join(fileids) + "\n")
        (root / "etc" / f"an4_{name}.transcription").write_text("\n".join(transcripts) + "\n")
    return root


def test_prepare_an4_gives_three_disjoint_validated_splits(tmp_path: Path) -> None:
    root = an4_fixture(tmp_path / "an4")
    out = prepare_an4(root, tmp_path / "data", dev_speakers=2)
    speakers = {}
    for split in ("train", "dev", "test"):
        assert validate_data_dir(out / split) == []
        speakers[split] = set(read_table(out / split / "utt2spk").values())
    assert speakers["test"] == set(TEST_SPEAKERS) and speakers["dev"] == {"mcen", "mdxs"}
    assert not speakers["train"] & speakers["dev"] and not speakers["train"] & speakers["test"]
    text = read_table(out / "train" / "text")
    assert text["fash-an2-fash-b"] == "rubout g m e f three nine"
    assert read_table(out / "train" / "text.wrd") == text
    audio, rate = read_audio(read_table(out / "test" / "wav.scp")["fcaw-cen1-fcaw-b"])
    assert rate == 16000 and len(audio) == 8000
    assert read_table(out / "test" / "utt2dur")["fcaw-an2-fcaw-b"] == "0.550"


def test_transcription_lines_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "an4_train.transcription"
    path.write_text("<s> YES </s> (an1-mblw-b)\n<s> GO  TO </s>   (an2-mblw-b)\n")
    assert read_transcription(path) == {"an1-mblw-b": "yes", "an2-mblw-b": "go to"}
    path.write_text("<s> YES </s>\n")
    with pytest.raises(InputError, match=r"an4_train\.transcription:1: expected"):
        read_transcription(path)
    root = an4_fixture(tmp_path / "an4")
    (root / "wav" / "an4_clstk" / "fash" / "cen1-fash-b.sph").unlink()
    with pytest.raises(InputError, match=r"cen1-fash-b\.sph: missing"):
        prepare_an4(root, tmp_path / "data")


def test_prepare_an4_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = an4_fixture(tmp_path / "an4")
    assert main(["prepare", "an4", str(root), str(tmp_path / "data"), "--dev-speakers", "1", "--quiet"]) == 0
    assert "test: 4 utterances, 2 speakers" in capsys.readouterr().out
    assert main(["prepare", "an4", str(tmp_path / "nothing"), str(tmp_path / "data2")]) == 2
    assert "no etc/ folder" in capsys.readouterr().err
