"""``gatescope prepare folder``: a folder of a user's own recordings with transcripts -> one Kaldi data dir.

The layout is the one forced aligners and many small corpora use: every recording (WAV, FLAC, Ogg, MP3, NIST
SPHERE) has its transcript beside it under the same name, ``NAME.txt`` or ``NAME.lab`` (one line of words). Or
one table holds them all (``transcripts``): ``NAME words...`` per line as Kaldi's ``text``, or ``NAME|words``
as LJSpeech's ``metadata.csv`` (the last field: its normalised text), NAME the file name without its extension
or its path below the folder. Hidden files (``.NAME``, such as macOS's ``._NAME.wav``) are skipped.

Recordings directly in the folder are one speaker, named after the folder (or ``speaker``); recordings in a
subfolder belong to the speaker that subfolder is named after (``ROOT/<speaker>/**/NAME.wav``), so a session's
CMVN (``score-real --speaker-adapt``) follows each voice.

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
    transcript: str  # where the words came from: a file, or a table's line


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


def read_transcript_table(path: Path) -> dict[str, tuple[str, str]]:
    """``NAME words...`` or ``NAME|...|words`` lines -> ``{NAME: (words, "path:line")}``; blank lines skipped."""
    table: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip():
            continue
        key, text = line.split("|", 1) if "|" in line else [*line.split(maxsplit=1), ""][:2]
        key, where = key.strip(), f"{path}:{number}"
        if key in table:
            raise InputError(f"{where}: {key!r} again (first at {table[key][1]})")
        table[key] = (text.rsplit("|", 1)[-1], where)
    return table


def _words_of(path: Path, relative: Path, table: dict[str, tuple[str, str]] | None, used: set[str]) -> tuple[str, str]:
    """A recording's transcript text and where it came from (the table's key added to ``used``)."""
    if table is None:
        transcript = _transcript(path)
        return read_text_file(transcript), str(transcript)
    for key in (relative.as_posix(), relative.name):
        if key in table:
            used.add(key)
            return table[key]
    raise InputError(f"{path}: no line for {relative.name!r} (or {relative.as_posix()!r}) in the transcripts table")


def find_recordings(root: Path, transcripts: Path | None = None, speaker: str | None = None) -> list[Recording]:
    """Every recording under ``root`` with its transcript (beside it, or in the ``transcripts`` table), speaker
    (the recordings directly in ``root`` are ``speaker``, default the folder's name) and utterance id, sorted by
    utterance."""
    if not root.is_dir():
        raise InputError(f"{root}: no such directory (expected recordings with NAME.txt transcripts beside them)")
    table = read_transcript_table(transcripts) if transcripts is not None else None
    audio = sorted(
        p for p in root.rglob("*")
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)  # hidden: macOS's ._NAME.wav
    )  # fmt: skip
    if not audio:
        raise InputError(f"{root}: no recordings found ({', '.join(AUDIO_SUFFIXES)})")
    recordings: dict[str, Recording] = {}
    used: set[str] = set()
    for path in audio:
        relative = path.relative_to(root).with_suffix("")
        nested = len(relative.parts) > 1
        who = _NOT_ID.sub("_", relative.parts[0] if nested else speaker or root.resolve().name)
        utt = _NOT_ID.sub("_", "-".join((who, *(relative.parts[1:] if nested else relative.parts))))
        if utt in recordings:
            raise InputError(f"{path}: same utterance id {utt!r} as {recordings[utt].audio}; rename one")
        text, where = _words_of(path, relative, table, used)
        words = normalize_transcript(text)
        if not words:
            raise InputError(f"{where}: no words (a data dir's transcripts are never empty); leave the recording out")
        recordings[utt] = Recording(utt, who, path, words, where)
    if table is not None and len(used) < len(table):
        log.warning("%s: %d of its %d lines name no recording under %s", transcripts, len(table) - len(used),
                    len(table), root)  # fmt: skip
    numerals = [r for r in recordings.values() if any(any(c.isdigit() for c in w) for w in r.words)]
    if numerals:
        log.warning(
            "%d transcripts hold numerals (first: %s); write numbers as the words spoken, or a word model's WER "
            "counts them as errors", len(numerals), numerals[0].transcript,
        )  # fmt: skip
    return [recordings[utt] for utt in sorted(recordings)]


def prepare_folder(
    root: Path,
    data_dir: Path,
    sample_rate: int | None = None,
    transcripts: Path | None = None,
    speaker: str | None = None,
) -> Path:
    """Write the validated data dir ``data_dir`` for the recordings under ``root`` (their words beside them, or
    in the ``transcripts`` table: :func:`read_transcript_table`; ``speaker`` names those directly in ``root``);
    with ``sample_rate``, every
    recording at another rate gets a resampled 16-bit copy under ``data_dir/wav``. Without it the recordings must
    share one rate (a data dir has one). Nothing is written unless every recording reads. Returns ``data_dir``."""
    refuse_overlap(data_dir, {"RECORDINGS_DIR": root, "--transcripts": transcripts})
    recordings = find_recordings(root, transcripts, speaker)
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
        words = {rec.utt: " ".join(rec.words) for rec in recordings}
        write_table(staging / "text", words)
        write_table(staging / "text.wrd", words)
        write_speaker_tables(staging, {rec.utt: rec.speaker for rec in recordings})
        write_table(staging / "utt2dur", durations)
    return data_dir
