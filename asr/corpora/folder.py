"""``gatescope prepare folder``: a folder of a user's own recordings with transcripts -> one Kaldi data dir.

The layout is the one forced aligners and many small corpora use: every recording (WAV, FLAC, Ogg, MP3, NIST
SPHERE) has its transcript beside it under the same name, ``NAME.txt`` or ``NAME.lab`` (one line of words).
Recordings directly in the folder are one speaker, named after the folder; recordings in a subfolder belong to
the speaker that subfolder is named after (``ROOT/<speaker>/**/NAME.wav``), so a session's CMVN
(``score-real --speaker-adapt``) follows each voice.

Transcripts are normalised for scoring: lower case, punctuation removed (apostrophes inside words kept, hyphens
split words). Numbers are not spelled out (say "7" as "seven" in the transcript), and a transcript with a numeral
is noted, since a word model scores "7" against "seven" as an error.

Out: ``wav.scp`` (the recordings where they are, or resampled 16-bit copies under ``DATA_DIR/wav`` with
``sample_rate``), ``text`` and ``text.wrd`` (the words), ``utt2spk``/``spk2utt`` and ``utt2dur``. An utterance is
``<speaker>-<path below the speaker, '-' for '/'>``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from gatescope.asr.data.audio import read_audio, write_resampled_copy
from gatescope.asr.data.datadir import validated_data_dir, write_speaker_tables
from gatescope.errors import InputError
from gatescope.files import read_text_file, refuse_overlap, write_table

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".sph")
TRANSCRIPT_SUFFIXES = (".txt", ".lab")
_NOT_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_NOT_WORD = re.compile(r"[^\w' ]+")


@dataclass(frozen=True)
class Recording:
    """One recording of the folder: its utterance id, speaker, audio file and normalised words."""

    utt: str
    speaker: str
    audio: Path
    words: tuple[str, ...]


def normalize_transcript(text: str) -> tuple[str, ...]:
    """Words for scoring: lower case, hyphens split words, other punctuation dropped, apostrophes kept inside a
    word ("Don't-stop, OK?" -> ``("don't", "stop", "ok")``)."""
    cleaned = _NOT_WORD.sub(" ", text.lower().replace("-", " ").replace("_", " "))
    return tuple(w for w in (word.strip("'") for word in cleaned.split()) if w)


def _transcript(audio: Path) -> Path:
    found = [audio.with_suffix(s) for s in TRANSCRIPT_SUFFIXES if audio.with_suffix(s).is_file()]
    if not found:
        raise InputError(f"{audio}: no transcript beside it ({audio.stem}.txt or {audio.stem}.lab)")
    if len(found) > 1:
        raise InputError(f"{audio}: two transcripts beside it ({found[0].name} and {found[1].name}); keep one")
    return found[0]


def find_recordings(root: Path) -> list[Recording]:
    """Every recording under ``root`` with its transcript, speaker and utterance id, sorted by utterance."""
    if not root.is_dir():
        raise InputError(f"{root}: no such directory (expected recordings with NAME.txt transcripts beside them)")
    audio = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not audio:
        raise InputError(f"{root}: no recordings found ({', '.join(AUDIO_SUFFIXES)})")
    recordings: dict[str, Recording] = {}
    for path in audio:
        relative = path.relative_to(root).with_suffix("")
        speaker = _NOT_ID.sub("_", relative.parts[0] if len(relative.parts) > 1 else root.resolve().name)
        below = relative.parts[1:] if len(relative.parts) > 1 else relative.parts
        utt = _NOT_ID.sub("_", "-".join((speaker, *below)))
        if utt in recordings:
            raise InputError(f"{path}: same utterance id {utt!r} as {recordings[utt].audio}; rename one")
        transcript = _transcript(path)
        words = normalize_transcript(read_text_file(transcript))
        if not words:
            raise InputError(
                f"{transcript}: no words (a data dir's transcripts are never empty); leave the recording out"
            )
        recordings[utt] = Recording(utt, speaker, path, words)
    numerals = [r for r in recordings.values() if any(any(c.isdigit() for c in w) for w in r.words)]
    if numerals:
        log.warning(
            "%d transcripts hold numerals (first: %s); write numbers as the words spoken, or a word model's WER "
            "counts them as errors", len(numerals), _transcript(numerals[0].audio),
        )  # fmt: skip
    return [recordings[utt] for utt in sorted(recordings)]


def prepare_folder(root: Path, data_dir: Path, sample_rate: int | None = None) -> Path:
    """Write the validated data dir ``data_dir`` for the recordings under ``root``; with ``sample_rate``, every
    recording at another rate gets a resampled 16-bit copy under ``data_dir/wav``. Without it the recordings must
    share one rate (a data dir has one). Nothing is written unless every recording reads. Returns ``data_dir``."""
    refuse_overlap(data_dir, {"RECORDINGS_DIR": root})
    recordings = find_recordings(root)
    final_wav_dir = data_dir.resolve() / "wav"
    sources: dict[str, str] = {}
    durations: dict[str, str] = {}
    first: tuple[int, Path] | None = None
    with validated_data_dir(data_dir) as staging:
        for rec in recordings:
            samples, rate = read_audio(rec.audio)
            source, length = rec.audio.resolve(), samples.size
            if sample_rate is not None and rate != sample_rate:
                (staging / "wav").mkdir(exist_ok=True)
                length = write_resampled_copy(samples, rate, sample_rate, staging / "wav" / f"{rec.utt}.wav")
                source, rate = final_wav_dir / f"{rec.utt}.wav", sample_rate
            first = first or (rate, rec.audio)
            if rate != first[0]:
                raise InputError(f"{rec.audio}: recorded at {rate} Hz, {first[1]} at {first[0]} Hz; a data dir "
                                 "has one rate: pass --sample-rate N for resampled copies")  # fmt: skip
            sources[rec.utt] = str(source)
            durations[rec.utt] = f"{length / rate:.6f}"
        write_table(staging / "wav.scp", sources)
        transcripts = {rec.utt: " ".join(rec.words) for rec in recordings}
        write_table(staging / "text", transcripts)
        write_table(staging / "text.wrd", transcripts)
        write_speaker_tables(staging, {rec.utt: rec.speaker for rec in recordings})
        write_table(staging / "utt2dur", durations)
    return data_dir
