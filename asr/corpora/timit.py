"""TIMIT in the LDC layout (or gatescope's synthetic corpus, which has the same layout) -> Kaldi data dirs.

``ROOT/{TRAIN,TEST}/DR<n>/<SPEAKER>/<UTT>.{WAV,PHN,WRD,TXT}``, upper- or lower-case names. The SA1/SA2 dialect
sentences are dropped, as every TIMIT recipe does. Each ``.PHN`` must tile the audio: lines in order, no overlap,
no gap, none past the end, every label in the 61-phone set.

``prepare_timit`` splits as every TIMIT recipe does: train = all TRAIN speakers; dev = the 50 standard dev speakers
and test = the 24 core-test speakers, both from TEST (the other TEST speakers are left out). A synthetic corpus
carries its own lists in ``DOC/dev_spk.list`` and ``DOC/core_test_spk.list``; they take the place of the standard
ones. All input is read and checked before anything is written; each data dir is then written to a staging folder,
validated, and swapped into place, so bad input never damages an earlier preparation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import CTM_FILE, ctm_line, validated_data_dir, write_speaker_tables
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError
from gatescope.files import read_text_file, refuse_overlap, write_table, write_text_atomic
from gatescope.resources import conf_path

AUDIO_SUFFIX = ".wav"


@dataclass(frozen=True)
class TimitUtterance:
    """One TIMIT utterance on disk: its split, speaker, name and the paths of its four files."""

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
    """A labelled span of samples, ``[start, end)``, from a ``.PHN`` or ``.WRD`` line."""

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
        if len(fields) != 3 or not _is_count(fields[0]) or not _is_count(fields[1]):
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


def _is_count(text: str) -> bool:
    """A run of ASCII digits (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def read_txt(path: Path) -> str:
    """The prompt of a ``.TXT`` file ("0 end_sample text")."""
    fields = path.read_text(errors="replace").split(maxsplit=2)
    if len(fields) < 3 or not _is_count(fields[0]) or not _is_count(fields[1]):
        raise InputError(f"{path}:1: expected '0 end_sample text'")
    return fields[2].strip()


def read_speaker_list(path: Path) -> set[str]:
    """A speaker list (one id a line, any case), as TIMIT's dev and core-test lists."""
    if not path.is_file():
        raise InputError(f"{path}: no such speaker list")
    return {line.strip().lower() for line in read_text_file(path).splitlines() if line.strip()}


log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PreparedUtterance:
    """An utterance read and checked, ready to be written into a data dir."""

    utt: TimitUtterance
    num_samples: int
    phones: list[Segment]
    words: list[Segment]
    prompt: str


def _speaker_lists(corpus_dir: Path, dev_list: Path | None, test_list: Path | None) -> tuple[set[str], set[str]]:
    doc = next((corpus_dir / d for d in ("DOC", "doc") if (corpus_dir / d).is_dir()), None)
    if dev_list is None:
        own = doc / "dev_spk.list" if doc else None
        dev_list = own if own and own.is_file() else conf_path("timit_dev_spk.list")
    if test_list is None:
        own = doc / "core_test_spk.list" if doc else None
        test_list = own if own and own.is_file() else conf_path("timit_core_test_spk.list")
    log.info("dev speakers from %s, core-test speakers from %s", dev_list, test_list)
    dev, test = read_speaker_list(dev_list), read_speaker_list(test_list)
    if dev & test:
        raise InputError(f"{dev_list}: speakers {sorted(dev & test)} are also in {test_list}")
    return dev, test


def _split_of(utt: TimitUtterance, dev: set[str], test: set[str]) -> str | None:
    if utt.split == "train":
        return "train"
    return "dev" if utt.speaker in dev else "test" if utt.speaker in test else None


def _read_utterance(utt: TimitUtterance, sample_rate: int, phone_map: PhoneMap) -> PreparedUtterance:
    audio, _ = read_audio(utt.wav, expected_rate=sample_rate)
    n = len(audio)
    return PreparedUtterance(utt, n, read_phn(utt.phn, n, phone_map), read_wrd(utt.wrd, n), read_txt(utt.txt))


def _write_split(out: Path, items: list[PreparedUtterance], sample_rate: int, phone_map: PhoneMap) -> None:
    labels = {p.utt.utt_id: [s.label for s in p.phones] for p in items}
    write_table(out / "wav.scp", {p.utt.utt_id: str(p.utt.wav.resolve()) for p in items})
    write_table(out / "text", {u: " ".join(phone_map.fold(seq, 48)) for u, seq in labels.items()})
    write_table(out / "text.61", {u: " ".join(phone_map.fold(seq, 61)) for u, seq in labels.items()})
    write_table(out / "text.wrd", {p.utt.utt_id: " ".join(w.label for w in p.words) for p in items})
    write_speaker_tables(out, {p.utt.utt_id: p.utt.speaker for p in items})
    write_table(out / "spk2gender", {p.utt.speaker: p.utt.sex for p in items})
    write_table(out / "utt2dur", {p.utt.utt_id: f"{p.num_samples / sample_rate:.6f}" for p in items})
    ctm = [
        ctm_line(p.utt.utt_id, s.start, s.end, s.label, sample_rate)
        for p in sorted(items, key=lambda p: p.utt.utt_id)
        for s in p.phones
    ]
    write_text_atomic(out / CTM_FILE, "".join(ctm))


def prepare_timit(
    corpus_dir: Path,
    out_dir: Path,
    dev_list: Path | None = None,
    test_list: Path | None = None,
    sample_rate: int = 16000,
    progress: bool = True,
) -> Path:
    """Write ``out_dir/{train,dev,test}`` Kaldi data dirs from a TIMIT-layout corpus; returns ``out_dir``.

    Raises:
        InputError: a missing TRAIN/TEST, a bad audio or transcription file (named with its line), a speaker
            list that selects nobody, or a data dir that fails validation.
    """
    for name in SPLITS:
        refuse_overlap(out_dir / name, {"TIMIT_ROOT": corpus_dir})
    phone_map = PhoneMap.load()
    dev, test = _speaker_lists(corpus_dir, dev_list, test_list)
    by_split: dict[str, list[PreparedUtterance]] = {s: [] for s in SPLITS}
    utterances = find_utterances(corpus_dir)
    for utt in tqdm(utterances, desc="reading corpus", unit="utt", disable=not progress):
        split = _split_of(utt, dev, test)
        if split is not None:
            by_split[split].append(_read_utterance(utt, sample_rate, phone_map))
    for split, items in by_split.items():
        if not items:
            raise InputError(f"{corpus_dir}: no utterances for the {split} set (check the speaker lists)")
    for split, items in by_split.items():
        with validated_data_dir(out_dir / split) as staging:
            _write_split(staging, items, sample_rate, phone_map)
        log.info("%s: %d utterances, %d speakers", out_dir / split, len(items), len({p.utt.speaker for p in items}))
    return out_dir
