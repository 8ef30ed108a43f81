"""prepare digits on a small tree named like the Free Spoken Digit Dataset, and the results table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gatescope.asr.corpora.digits import prepare_digits
from gatescope.asr.data.datadir import read_table, validate_data_dir
from gatescope.errors import InputError


def _fsdd(root: Path, takes: int = 7) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for speaker in ("george", "jackson", "theo"):
        for digit in range(10):
            for take in range(takes):
                sf.write(
                    root / f"{digit}_{speaker}_{take}.wav", rng.standard_normal(4000) * 0.1, 8000, subtype="PCM_16"
                )
    return root


def test_speaker_disjoint_split(tmp_path: Path) -> None:
    out = prepare_digits(_fsdd(tmp_path / "rec"), tmp_path / "data", test_speaker="theo", dev_takes=2)
    test = read_table(out / "test" / "utt2spk")
    train = read_table(out / "train" / "utt2spk")
    dev = read_table(out / "dev" / "utt2spk")
    assert set(test.values()) == {"theo"} and "theo" not in set(train.values()) | set(dev.values())
    assert len(test) == 70 and len(dev) == 2 * 10 * 2 and len(train) == 5 * 10 * 2
    assert read_table(out / "train" / "text")["george_7_03"] == "seven"
    for split in ("train", "dev", "test"):
        assert validate_data_dir(out / split) == []


def test_another_rate_writes_resampled_copies_and_leaves_the_recordings(tmp_path: Path) -> None:
    recordings = _fsdd(tmp_path / "rec", takes=1)
    before = {p.name: p.read_bytes() for p in recordings.iterdir()}
    out = prepare_digits(recordings, tmp_path / "data", sample_rate=16000)
    for split in ("train", "dev", "test"):
        assert validate_data_dir(out / split) == []
        for utt, wav in read_table(out / split / "wav.scp").items():
            copy, rate = sf.read(wav, dtype="float32")
            original, _ = sf.read(recordings / Path(wav).name, dtype="float32")
            assert Path(wav).parent == out / "wav" and rate == 16000 and copy.size == 2 * original.size
            # the same signal: every other sample of the copy is the original's (band-limited noise aside)
            assert np.corrcoef(copy[::2], original)[0, 1] > 0.9
            assert float(read_table(out / split / "utt2dur")[utt]) == pytest.approx(original.size / 8000)
    assert {p.name: p.read_bytes() for p in recordings.iterdir()} == before
    with pytest.raises(InputError, match="RECORDINGS_DIR"):  # the copies never go into the recordings
        prepare_digits(recordings, recordings / "x", sample_rate=16000)


def test_bad_names_and_missing_speaker(tmp_path: Path) -> None:
    root = _fsdd(tmp_path / "rec", takes=1)
    with pytest.raises(InputError, match="test speaker 'nicolas' not found"):
        prepare_digits(root, tmp_path / "data", test_speaker="nicolas")
    (root / "seven.wav").write_bytes(b"")
    with pytest.raises(InputError, match=r"seven\.wav: not named"):
        prepare_digits(root, tmp_path / "data")
