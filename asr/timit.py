"""Read a TIMIT corpus in the LDC layout (or gatescope's synthetic corpus, which has the same layout).

``ROOT/{TRAIN,TEST}/DR<n>/<SPEAKER>/<UTT>.{WAV,PHN,WRD,TXT}``, upper- or lower-case names. The SA1/SA2 dialect
sentences are dropped, as every TIMIT recipe does. Each ``.PHN`` must tile the audio: lines in order, no overlap,
no gap, none past the end, every label in the 61-phone set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatescope.asr.errors import InputError
from gatescope.asr.phones import PhoneMap

AUDIO_SUFFIX = ".wav"


@dataclass(frozen=True)
class TimitUtterance:
    split: str  # "train" or "test" (TIMIT's top folder)
    speaker: str  # lower case, e.g. "fcjf0"
    name: str  # lower case, e.g. "si1027"
    wav: Path
    phn: Path
    wrd: Path
    txt: Path

    @property
    def utt_id(self) -> str:
        return f"{self.speaker}_{self.name}"

    @property
    def sex(self) -> str:
        return self.speaker[0]


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    label: str


def _child(folder: Path, name: str) -> Path | None:
    """``folder/name`` in whatever case the corpus uses."""
    for candidate in (name.upper(), name.lower()):
        if (folder / candidate).is_dir():
            return folder / candidate
    return None


def find_utterances(root: Path) -> list[TimitUtterance]:
    """Every utterance under ``root`` except SA1/SA2, sorted by utterance id.

    Raises:
        InputError: ``root`` lacks TRAIN/ or TEST/, or an utterance misses one of its four files.
    """
    if not root.is_dir():
        raise InputError(f"{root}: no such directory (expected a TIMIT root with TRAIN/ and TEST/)")
    utterances = []
    for split in ("train", "test"):
        top = _child(root, split)
        if top is None:
            raise InputError(f"{root}: not a TIMIT root: no {split.upper()}/ (or {split}/) directory")
        for wav in sorted(p for p in top.glob("*/*/*") if p.suffix.lower() == AUDIO_SUFFIX):
            name = wav.stem.lower()
            if name in ("sa1", "sa2"):
                continue
            sidecars = {}
            for ext in ("phn", "wrd", "txt"):
                found = [wav.with_suffix(s) for s in (f".{ext.upper()}", f".{ext}") if wav.with_suffix(s).is_file()]
                if not found:
                    raise InputError(f"{wav}: no .{ext.upper()} file beside it")
                sidecars[ext] = found[0]
            utterances.append(TimitUtterance(split, wav.parent.name.lower(), name, wav, **sidecars))
    if not utterances:
        raise InputError(f"{root}: TRAIN/ and TEST/ hold no DR*/SPEAKER/*.WAV files")
    return sorted(utterances, key=lambda u: u.utt_id)


def _parse_lines(path: Path) -> list[tuple[int, int, int, str]]:
    rows = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 3 or not fields[0].isdigit() or not fields[1].isdigit():
            raise InputError(f"{path}:{lineno}: expected 'start_sample end_sample label', got {line.strip()!r}")
        start, end = int(fields[0]), int(fields[1])
        if end <= start:
            raise InputError(f"{path}:{lineno}: end sample {end} is not after start sample {start}")
        rows.append((lineno, start, end, fields[2]))
    if not rows:
        raise InputError(f"{path}: empty transcription")
    return rows


def read_phn(path: Path, audio_samples: int, phone_map: PhoneMap) -> list[Segment]:
    """Phone segments of a ``.PHN`` file, checked to tile ``[0, audio_samples)`` up to its last line."""
    segments: list[Segment] = []
    previous_end = 0
    for lineno, start, end, label in _parse_lines(path):
        if start < previous_end:
            what = "out of order" if segments and start < segments[-1].start else "overlaps the previous line"
            raise InputError(f"{path}:{lineno}: segment {start}-{end} {what} (previous ends at {previous_end})")
        if start > previous_end:
            raise InputError(
                f"{path}:{lineno}: gap of {start - previous_end} samples before this segment "
                f"(previous ends at {previous_end})"
            )
        if end > audio_samples:
            raise InputError(
                f"{path}:{lineno}: segment ends at sample {end}, past the end of the audio ({audio_samples} samples)"
            )
        if not phone_map.is_known(label):
            raise InputError(f"{path}:{lineno}: unknown phone label {label!r} (not in the TIMIT 61-phone set)")
        segments.append(Segment(start, end, label))
        previous_end = end
    return segments


def read_wrd(path: Path, audio_samples: int) -> list[Segment]:
    """Word segments of a ``.WRD`` file: in order of start, inside the audio (words may share boundaries)."""
    segments: list[Segment] = []
    for lineno, start, end, word in _parse_lines(path):
        if segments and start < segments[-1].start:
            raise InputError(f"{path}:{lineno}: word {word!r} starts before the previous word (out of order)")
        if end > audio_samples:
            raise InputError(
                f"{path}:{lineno}: word ends at sample {end}, past the end of the audio ({audio_samples} samples)"
            )
        segments.append(Segment(start, end, word.lower()))
    return segments


def read_txt(path: Path) -> str:
    """The prompt of a ``.TXT`` file ("0 end_sample text")."""
    fields = path.read_text(errors="replace").split(maxsplit=2)
    if len(fields) < 3 or not fields[0].isdigit() or not fields[1].isdigit():
        raise InputError(f"{path}:1: expected '0 end_sample text'")
    return fields[2].strip()


def read_speaker_list(path: Path) -> set[str]:
    """A speaker list (one id a line, any case), as TIMIT's dev and core-test lists."""
    if not path.is_file():
        raise InputError(f"{path}: no such speaker list")
    return {line.strip().lower() for line in path.read_text().splitlines() if line.strip()}
