"""``gatescope align``: PocketSphinx's forced alignment of recordings to their words, held against the exact
alignments of the synthetic corpus; then frame labels from ``gatescope features``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.data.datadir import CTM_FILE, read_ctm, read_table, validate_data_dir
from gatescope.asr.features.extract import extract_features
from gatescope.asr.features.fbank import FeatureConfig
from gatescope.asr.phones import PhoneMap
from gatescope.cli import main
from gatescope.files import write_table

pytest.importorskip("pocketsphinx")

MIN_FRAME_AGREEMENT = 0.75  # of 39-phone frame labels with the synthesizer's own (84 % on the demo's test set)


def _frame_labels(spans: list[tuple[int, int, str]], shift: int) -> np.ndarray:
    fold = PhoneMap.load().to39
    labels = np.empty(spans[-1][1] // shift, dtype=object)
    for start, end, phone in spans:
        labels[start // shift : end // shift] = fold.get(phone, phone)
    return labels


@pytest.fixture()
def unaligned(tiny_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the tiny corpus's test set without its alignments, and those alignments."""
    data = tmp_path / "test"
    shutil.copytree(tiny_data / "test", data)
    exact = tmp_path / "exact.ctm"
    (data / CTM_FILE).rename(exact)
    for stale in ("labels.scp", "phones.txt"):
        (data / stale).unlink(missing_ok=True)
    return data, exact


def test_alignments_agree_with_the_synthesizers_and_give_frame_labels(unaligned: tuple[Path, Path], capsys) -> None:
    data, exact = unaligned
    extract_features(data, FeatureConfig(), progress=False)
    assert not (data / "labels.scp").exists()
    assert main(["align", str(data), "--quiet"]) == 0
    assert "recordings aligned" in capsys.readouterr().out
    assert validate_data_dir(data) == []  # contiguous, inside the audio
    rate = FeatureConfig().sample_rate
    made, truth = read_ctm(data / CTM_FILE, rate), read_ctm(exact, rate)
    assert made and set(made) <= set(truth)
    agree = total = 0
    for utt, spans in made.items():
        assert spans[0][0] == 0 and spans[-1][1] == sf.info(read_table(data / "wav.scp")[utt]).frames
        a, b = _frame_labels(spans, 160), _frame_labels(truth[utt], 160)
        n = min(a.size, b.size)
        agree, total = agree + int((a[:n] == b[:n]).sum()), total + n
    assert agree / total >= MIN_FRAME_AGREEMENT, agree / total
    # features made before the alignments existed are labelled now (their chunks are redone)
    extract_features(data, FeatureConfig(), progress=False)
    assert set(read_table(data / "labels.scp")) == set(made)
    # a data dir with alignments is refused, in one line
    assert main(["align", str(data), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "aligned already" in err and err.count("\n") == 1


def test_recordings_that_cannot_be_aligned_are_left_out(unaligned: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    data, _ = unaligned
    utts = sorted(read_table(data / "wav.scp"))
    text = read_table(data / "text.wrd")
    text[utts[0]] = "zzqxv " + text[utts[0]]  # a word no dictionary has
    write_table(data / "text.wrd", text)
    noise = tmp_path / "noise.wav"
    sf.write(noise, np.zeros(1600, np.float32), 16000)  # 0.1 s of silence cannot hold a sentence
    wavs = read_table(data / "wav.scp")
    wavs[utts[1]] = str(noise)
    write_table(data / "wav.scp", wavs)
    assert main(["align", str(data), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"left out {utts[0]}: no pronunciation for 'zzqxv'" in out
    assert f"left out {utts[1]}: PocketSphinx found no alignment" in out
    assert set(read_ctm(data / CTM_FILE, 16000)) == set(utts[2:])
