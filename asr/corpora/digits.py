"""``gatescope prepare digits``: the Free Spoken Digit Dataset (real recordings) -> Kaldi data dirs.

Files are ``{digit}_{speaker}_{take}.wav`` (8 kHz mono). The test set is one held-out speaker (speaker-disjoint,
so the word error rate measures generalisation to a new voice); the dev set is the last ``dev_takes`` takes of
every digit of the training speakers. Transcripts are the digit's English word. At another ``sample_rate`` than
the recordings' 8 kHz (a 16 kHz phone model's features, alignments and analysis), resampled copies are written
into ``out_dir/wav`` and the data dirs point there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

from gatescope.asr.data.audio import read_audio, write_resampled_copy
from gatescope.asr.data.datadir import validated_data_dir, write_speaker_tables
from gatescope.errors import InputError
from gatescope.files import refuse_overlap, write_table

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<take>\d+)\.wav$")
FSDD_RATE = 8000


def _resampled_copy(path: Path, audio: np.ndarray, sample_rate: int, wav_dir: Path) -> tuple[Path, int]:
    """``audio`` (FSDD's 8 kHz) at ``sample_rate`` as 16-bit ``wav_dir/<name>`` (a copy at that rate from an
    earlier run is kept); returns its path and length in samples."""
    out = wav_dir / path.name
    if out.is_file() and (kept := sf.info(out)).samplerate == sample_rate:
        return out, kept.frames
    return out, write_resampled_copy(audio, FSDD_RATE, sample_rate, out)


def prepare_digits(
    recordings: Path, out_dir: Path, test_speaker: str = "theo", dev_takes: int = 5, sample_rate: int = FSDD_RATE
) -> Path:
    """Write ``out_dir/{train,dev,test}`` (and ``out_dir/wav`` at another ``sample_rate``); returns ``out_dir``."""
    if not recordings.is_dir():
        raise InputError(f"{recordings}: no such directory (expected FSDD's recordings/)")
    wav_dir = out_dir / "wav"
    for target in (out_dir / "train", out_dir / "dev", out_dir / "test", wav_dir):
        refuse_overlap(target, {"RECORDINGS_DIR": recordings})
    if sample_rate != FSDD_RATE:
        wav_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in sorted(recordings.glob("*.wav")):
        match = _NAME.match(path.name)
        if match is None:
            raise InputError(f"{path}: not named '<digit>_<speaker>_<take>.wav'")
        audio, _ = read_audio(path, expected_rate=FSDD_RATE)
        source, length = (
            (path, len(audio)) if sample_rate == FSDD_RATE else _resampled_copy(path, audio, sample_rate, wav_dir)
        )
        entries.append((match["speaker"], int(match["digit"]), int(match["take"]), source, length))
    speakers = {e[0] for e in entries}
    if test_speaker not in speakers:
        raise InputError(f"{recordings}: test speaker {test_speaker!r} not found (speakers: {sorted(speakers)})")
    max_take = max(e[2] for e in entries)
    splits: dict[str, list] = defaultdict(list)
    for entry in entries:
        speaker, _, take = entry[:3]
        split = "test" if speaker == test_speaker else "dev" if take > max_take - dev_takes else "train"
        splits[split].append(entry)
    for split in ("train", "dev", "test"):
        items = splits[split]
        utt = {e: f"{e[0]}_{e[1]}_{e[2]:02d}" for e in items}
        with validated_data_dir(out_dir / split) as staging:
            write_table(staging / "wav.scp", {utt[e]: str(e[3].resolve()) for e in items})
            write_table(staging / "text", {utt[e]: WORDS[e[1]] for e in items})
            write_table(staging / "text.wrd", {utt[e]: WORDS[e[1]] for e in items})
            write_speaker_tables(staging, {utt[e]: e[0] for e in items})
            write_table(staging / "utt2dur", {utt[e]: f"{e[4] / sample_rate:.6f}" for e in items})
    return out_dir
