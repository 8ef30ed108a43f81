"""``gatescope prepare folder``: a user's own recordings with transcripts beside them -> one validated data dir,
which ``score-real`` scores exactly as it scores the same recordings in a corpus's own data dir."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.corpora.folder import normalize_transcript, prepare_folder, read_transcript_table
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table, validate_data_dir
from gatescope.asr.decoding.real_speech import score_recordings
from gatescope.cli import main


def _tone(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def _recording(path: Path, words: str, rate: int = 16000, seconds: float = 0.5, transcript: str = ".txt") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, _tone(seconds, rate), rate, subtype="PCM_16" if path.suffix != ".ogg" else "VORBIS")
    path.with_suffix(transcript).write_text(words + "\n")


def _user_folder(root: Path) -> Path:
    _recording(root / "alice" / "take1.wav", "Seven, please!")
    _recording(root / "alice" / "kitchen" / "take2.flac", "Don't-stop  NOW", seconds=0.75, transcript=".lab")
    _recording(root / "bob" / "b 1.ogg", "yes")
    _recording(root / "solo.wav", "hello world")
    (root / "notes.md").write_text("not a recording\n")
    (root / "alice" / "._take1.wav").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")  # hidden: skipped
    return root


def test_normalize_transcript() -> None:
    assert normalize_transcript("Don't-stop, OK?") == ("don't", "stop", "ok")
    assert normalize_transcript("  'Quoted' words;  Café  ") == ("quoted", "words", "café")
    assert normalize_transcript("...") == ()


def test_a_user_folder_becomes_one_data_dir_with_its_speakers(tmp_path: Path) -> None:
    root = _user_folder(tmp_path / "my_recordings")
    out = prepare_folder(root, tmp_path / "data")
    assert validate_data_dir(out) == []
    assert (
        read_table(out / "text.wrd")
        == read_table(out / "text")
        == {
            "alice-kitchen-take2": "don't stop now",
            "alice-take1": "seven please",
            "bob-b_1": "yes",
            "my_recordings-solo": "hello world",
        }
    )
    assert read_table(out / "utt2spk") == {
        "alice-kitchen-take2": "alice", "alice-take1": "alice", "bob-b_1": "bob", "my_recordings-solo": "my_recordings"
    }  # fmt: skip
    wavs = read_table(out / "wav.scp")
    assert wavs["bob-b_1"] == str((root / "bob" / "b 1.ogg").resolve()) and "notes" not in " ".join(wavs)
    durations = {utt: float(d) for utt, d in read_table(out / "utt2dur").items()}
    assert durations == pytest.approx({"alice-kitchen-take2": 0.75, "alice-take1": 0.5, "bob-b_1": 0.5,
                                       "my_recordings-solo": 0.5})  # fmt: skip


def test_mixed_rates_need_a_sample_rate_which_writes_resampled_copies(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    _recording(root / "a.wav", "one", rate=16000)
    _recording(root / "b.wav", "two", rate=8000)
    before = {p: p.read_bytes() for p in root.iterdir()}
    with pytest.raises(Exception, match=r"b\.wav: recorded at 8000 Hz, .*a\.wav at 16000 Hz.*--sample-rate"):
        prepare_folder(root, tmp_path / "data")
    assert not (tmp_path / "data").exists()
    out = prepare_folder(root, tmp_path / "data", sample_rate=8000)
    wavs = read_table(out / "wav.scp")
    assert wavs["rec-a"] == str((out / "wav" / "rec-a.wav").resolve())  # the 16 kHz one, resampled
    assert wavs["rec-b"] == str((root / "b.wav").resolve())  # already at 8 kHz: used where it is
    samples, rate = read_audio(wavs["rec-a"])
    assert rate == 8000 and samples.size == 4000 and float(read_table(out / "utt2dur")["rec-a"]) == 0.5
    assert {p: p.read_bytes() for p in root.iterdir()} == before


def test_bad_folders_are_refused_in_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "rec"
    _recording(root / "a.wav", "one")
    (root / "b.wav").write_bytes((root / "a.wav").read_bytes())  # no transcript
    cases = [
        (["prepare", "folder", str(root), str(tmp_path / "data")], "b.wav: no transcript beside it"),
        (["prepare", "folder", str(root), str(root / "data")], "would overlap the input"),
        (["prepare", "folder", str(tmp_path / "nope"), str(tmp_path / "data")], "nope: no such directory"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
        assert not (tmp_path / "data").exists()
    (root / "b.txt").write_text("two\n")
    (root / "b.lab").write_text("two\n")
    assert main(["prepare", "folder", str(root), str(tmp_path / "data")]) == 2
    assert "b.wav: two transcripts beside it (b.txt and b.lab)" in capsys.readouterr().err
    (root / "b.lab").unlink()
    (root / "b.txt").write_text(" ?! \n")
    assert main(["prepare", "folder", str(root), str(tmp_path / "data")]) == 2
    assert "b.txt: no words" in capsys.readouterr().err and not (tmp_path / "data").exists()


def test_one_table_of_transcripts_kaldi_or_ljspeech_style(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "rec"
    for name in ("LJ001-0001.wav", "LJ001-0002.wav", "bob/LJ001-0001.wav"):
        _recording(root / name, "unused")
        (root / name).with_suffix(".txt").unlink()
    ljspeech = tmp_path / "metadata.csv"
    ljspeech.write_text("LJ001-0001|Printing, in 1 sense|Printing, in one sense\n"
                        "LJ001-0002|Hello-there|Hello-there\nLJ001-0003|not here|not here\n"
                        "bob/LJ001-0001|Bob's line|Bob's line\n")  # fmt: skip
    with caplog.at_level(logging.WARNING):
        out = prepare_folder(root, tmp_path / "data", transcripts=ljspeech)
    assert read_table(out / "text") == {
        "bob-LJ001-0001": "bob's line", "rec-LJ001-0001": "printing in one sense", "rec-LJ001-0002": "hello there"
    }  # fmt: skip
    assert "metadata.csv: 1 of its 4 lines name no recording" in caplog.text
    kaldi = tmp_path / "text"
    kaldi.write_text("LJ001-0001\tONE TWO\n\nLJ001-0002 three\n")  # keys by name: bob's recording uses the first
    out = prepare_folder(root, tmp_path / "data2", transcripts=kaldi, speaker="lj")  # the flat ones' speaker
    assert read_table(out / "text") == {"bob-LJ001-0001": "one two", "lj-LJ001-0001": "one two",
                                        "lj-LJ001-0002": "three"}  # fmt: skip
    assert set(read_table(out / "utt2spk").values()) == {"bob", "lj"}
    kaldi.write_text("LJ001-0001 one\n")
    with pytest.raises(Exception, match=r"LJ001-0002\.wav: no line for 'LJ001-0002'"):
        prepare_folder(root, tmp_path / "data3", transcripts=kaldi)
    kaldi.write_text("LJ001-0001 one\nLJ001-0001 two\n")
    with pytest.raises(Exception, match=r"text:2: 'LJ001-0001' again \(first at .*text:1\)"):
        read_transcript_table(kaldi)
    assert not (tmp_path / "data3").exists()


def test_numerals_in_transcripts_are_noted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "rec"
    _recording(root / "a.wav", "call 911")
    _recording(root / "b.wav", "call nine one one")
    with caplog.at_level(logging.WARNING):
        prepare_folder(root, tmp_path / "data")
    assert "1 transcripts hold numerals (first: " in caplog.text and "a.txt" in caplog.text


def test_score_real_scores_a_folder_as_it_scores_the_corpus_data_dir(
    tiny_data: Path, tiny_models: list[Path], tmp_path: Path
) -> None:
    """The tiny corpus's dev and test recordings, copied into a user's folder layout (a subfolder per speaker,
    words in NAME.txt), give score-real exactly the same errors as the corpus's own data dirs, in all and per
    speaker."""
    corpus_dirs = [tiny_data / "dev", tiny_data / "test"]
    wavs, words, utt2spk = ({k: v for d in corpus_dirs for k, v in read_table(d / name).items()}
                            for name in ("wav.scp", "text.wrd", "utt2spk"))  # fmt: skip
    root = tmp_path / "my_recordings"
    for utt, wav in wavs.items():
        target = root / utt2spk[utt] / f"{utt}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(wav, target)
        target.with_suffix(".txt").write_text(words[utt] + "\n")
    folder = prepare_folder(root, tmp_path / "data")
    assert len(read_table(folder / "wav.scp")) == len(wavs)
    mine = score_recordings(tiny_models[0], [folder], progress=False)
    corpus = score_recordings(tiny_models[0], corpus_dirs, progress=False)
    assert mine.counts == corpus.counts and mine.counts.ref_words > 0
    # per speaker (the subfolders), as in the corpus; the speakers' counts add up to the whole
    assert mine.speakers == corpus.speakers and len(mine.speakers) == len(set(utt2spk.values())) > 1
    assert sum(c.ref_words for c in mine.speakers.values()) == mine.counts.ref_words
    assert sum(c.errors for c in mine.speakers.values()) == mine.counts.errors


def test_score_real_prints_and_writes_per_speaker_rates(
    tiny_data: Path, tiny_models: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "real"
    data = [tiny_data / "dev", tiny_data / "test"]
    assert main(["score-real", "--model", str(tiny_models[1]), "--data", str(data[0]), "--data", str(data[1]),
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    rates = json.loads((out / "result.json").read_text())["speaker_rates"]
    assert all((out / name).is_file() for name in ("hyp.txt", "ref.txt", "per_utt.txt", "align.txt", "confusions.txt"))
    assert sorted(rates) == sorted({s for d in data for s in read_table(d / "utt2spk").values()}) and len(rates) > 1
    assert "  per speaker: " + ", ".join(f"{spk} {rate:.2f}%" for spk, rate in rates.items()) in printed
