"""Kaldi data directories: gatescope's interchange format, and a validator in the spirit of validate_data_dir.sh.

A data dir holds ``key value`` tables sorted in ``LC_ALL=C`` order:

=============  =========================================================================
wav.scp        utterance -> audio path (or a Kaldi ``cmd |`` pipe)
text           utterance -> training transcript (48 TIMIT phones for phone tasks)
text.61        utterance -> the 61-phone transcript (``q`` removed)
text.wrd       utterance -> the word transcript
utt2spk        utterance -> speaker; every utterance id starts with its speaker id
spk2utt        speaker -> its utterances
spk2gender     speaker -> ``m`` or ``f``
utt2dur        utterance -> duration in seconds
phones.ctm     ``utt 1 start_s dur_s phone`` lines: the time alignment (61-phone labels)
feats.scp      utterance -> Kaldi ark offset of its features (``gatescope features``)
cmvn.scp       speaker -> ark offset of its CMVN statistics
labels.scp     utterance -> ark offset of its frame-level phone labels (int32, see ``phones.txt``)
=============  =========================================================================
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gatescope.errors import InputError
from gatescope.files import atomic_directory, read_text_file, refuse_overlap, write_table

REQUIRED_FILES = ("wav.scp", "text", "utt2spk", "spk2utt")
UTTERANCE_FILES = ("wav.scp", "text", "text.61", "text.wrd", "utt2spk", "utt2dur", "feats.scp", "labels.scp")
SPEAKER_FILES = ("spk2utt", "spk2gender", "cmvn.scp")
CTM_FILE = "phones.ctm"
# Symbols Kaldi reserves (epsilon, disambiguation, sentence boundaries): never in a transcript.
FORBIDDEN_WORDS = frozenset({"<eps>", "<s>", "</s>", "#0"})
CTM_TOLERANCE_S = 0.5 / 16000 + 1e-6  # half a sample at 16 kHz plus the 6-decimal rounding of times


@dataclass(frozen=True)
class Problem:
    """A problem found by the validator: the file, the line (0 when not on one line) and what is wrong."""

    file: Path
    line: int  # 0 when the problem is not on one line
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def read_table(path: Path, allow_empty: bool = False) -> dict[str, str]:
    """A ``key value`` file as a dict. Raises InputError on a repeated key, or on a line without a value
    unless ``allow_empty`` (then the value is "": an empty transcript that the caller reports or skips)."""
    table: dict[str, str] = {}
    for lineno, line in enumerate(read_text_file(path).splitlines(), 1):
        key, _, value = line.strip().partition(" ")
        if not key or (not value.strip() and not allow_empty):
            raise InputError(f"{path}:{lineno}: expected 'key value', got {line!r}")
        if key in table:
            raise InputError(f"{path}:{lineno}: key {key!r} appears twice")
        table[key] = value.strip()
    return table


def _check_table(path: Path, problems: list[Problem]) -> dict[str, str]:
    """Read one table, appending problems: empty values, repeated keys, keys out of LC_ALL=C order."""
    table: dict[str, str] = {}
    previous = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        problems.append(Problem(path, 0, f"not UTF-8 ({err.reason} at byte {err.start})"))
        return table
    for lineno, line in enumerate(lines, 1):
        key, _, value = line.strip().partition(" ")
        if not key or not value.strip():
            problems.append(Problem(path, lineno, f"expected 'key value', got {line!r}"))
            continue
        if key in table:
            problems.append(Problem(path, lineno, f"duplicate key {key!r}"))
            continue
        if previous is not None and key < previous:
            problems.append(
                Problem(path, lineno, f"not sorted: {key!r} comes after {previous!r} (LC_ALL=C order required)")
            )
        table[key] = value.strip()
        previous = key
    return table


def _check_ctm(path: Path, durations: dict[str, float], problems: list[Problem]) -> None:
    """Per utterance: segments start at 0, are contiguous, and end inside the audio."""
    expected_start: dict[str, float] = {}
    for lineno, line in enumerate(read_text_file(path).splitlines(), 1):
        fields = line.split()
        if len(fields) != 5:
            problems.append(Problem(path, lineno, f"expected 'utt channel start dur phone', got {line!r}"))
            continue
        utt, start, dur = fields[0], float(fields[2]), float(fields[3])
        if utt not in durations:
            problems.append(Problem(path, lineno, f"utterance {utt!r} is not in utt2dur"))
            continue
        if dur <= 0:
            problems.append(Problem(path, lineno, f"segment of non-positive duration {dur}"))
        if abs(start - expected_start.get(utt, 0.0)) > CTM_TOLERANCE_S:
            problems.append(
                Problem(
                    path,
                    lineno,
                    f"{utt}: segment starts at {start:.6f}s, expected "
                    f"{expected_start.get(utt, 0.0):.6f}s (not contiguous)",
                )
            )
        if start + dur > durations[utt] + CTM_TOLERANCE_S:
            problems.append(
                Problem(
                    path,
                    lineno,
                    f"{utt}: segment ends at {start + dur:.6f}s, past the end of the audio ({durations[utt]:.6f}s)",
                )
            )
        expected_start[utt] = start + dur


def validate_data_dir(data_dir: Path) -> list[Problem]:
    """Every problem found in ``data_dir`` (empty list: valid). Checks what Kaldi's validate_data_dir.sh
    checks: required files, sorted unique keys, the same utterances in every per-utterance file, utt2spk and
    spk2utt agreeing, utterance ids prefixed by their speaker id, durations > 0, no reserved symbols in
    transcripts, and alignments that start at 0, are contiguous and stay inside the audio."""
    problems: list[Problem] = []
    if not data_dir.is_dir():
        return [Problem(data_dir, 0, "no such data directory")]
    for name in REQUIRED_FILES:
        if not (data_dir / name).is_file():
            problems.append(Problem(data_dir / name, 0, "required file is missing"))
    if problems:
        return problems
    tables = {
        name: _check_table(data_dir / name, problems)
        for name in UTTERANCE_FILES + SPEAKER_FILES
        if (data_dir / name).is_file()
    }

    utts = set(tables["utt2spk"])
    for name in UTTERANCE_FILES:
        if name in tables and set(tables[name]) != utts:
            missing, extra = sorted(utts - set(tables[name])), sorted(set(tables[name]) - utts)
            detail = (
                f"missing {len(missing)} utterance(s), e.g. {missing[0]!r}"
                if missing
                else f"{len(extra)} utterance(s) not in utt2spk, e.g. {extra[0]!r}"
            )
            problems.append(Problem(data_dir / name, 0, f"utterance set differs from utt2spk: {detail}"))

    spk2utt_expected: dict[str, list[str]] = defaultdict(list)
    for utt, spk in tables["utt2spk"].items():
        spk2utt_expected[spk].append(utt)
        if not utt.startswith(spk):
            problems.append(
                Problem(
                    data_dir / "utt2spk",
                    0,
                    f"utterance {utt!r} does not start with its speaker id {spk!r} (sorting would break)",
                )
            )
    for spk, value in tables["spk2utt"].items():
        if sorted(value.split()) != sorted(spk2utt_expected.get(spk, [])):
            problems.append(Problem(data_dir / "spk2utt", 0, f"speaker {spk!r}: utterances disagree with utt2spk"))
    if set(tables["spk2utt"]) != set(spk2utt_expected):
        problems.append(Problem(data_dir / "spk2utt", 0, "speakers differ from those in utt2spk"))
    for name in ("spk2gender", "cmvn.scp"):
        if name in tables and set(tables[name]) != set(spk2utt_expected):
            problems.append(Problem(data_dir / name, 0, "speakers differ from those in utt2spk"))
    for spk, gender in tables.get("spk2gender", {}).items():
        if gender not in ("m", "f"):
            problems.append(Problem(data_dir / "spk2gender", 0, f"speaker {spk!r}: gender {gender!r}, expected m/f"))

    for name in ("text", "text.61", "text.wrd"):
        for utt, transcript in tables.get(name, {}).items():
            bad = FORBIDDEN_WORDS.intersection(transcript.split())
            if bad:
                problems.append(Problem(data_dir / name, 0, f"{utt}: reserved symbol(s) {sorted(bad)} in transcript"))

    durations: dict[str, float] = {}
    for utt, value in tables.get("utt2dur", {}).items():
        try:
            durations[utt] = float(value)
        except ValueError:
            durations[utt] = 0.0
        if not durations[utt] > 0:
            problems.append(Problem(data_dir / "utt2dur", 0, f"{utt}: duration {value!r} is not a positive number"))
    if (data_dir / CTM_FILE).is_file():
        if not durations:
            problems.append(Problem(data_dir / CTM_FILE, 0, "alignments need utt2dur to be checked"))
        else:
            _check_ctm(data_dir / CTM_FILE, durations, problems)
    return problems


def read_transcripts(data_dir: Path, wavs: dict[str, str]) -> dict[str, str]:
    """The words of every recording of ``wavs`` from ``text.wrd`` (else ``text``); InputError for one without."""
    path = data_dir / ("text.wrd" if (data_dir / "text.wrd").is_file() else "text")
    table = read_table(path)
    missing = sorted(set(wavs) - set(table))
    if missing:
        raise InputError(
            f"{path}: no transcript for {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    return {utt: table[utt] for utt in wavs}


def ctm_line(utt: str, start: int, end: int, label: str, sample_rate: int) -> str:
    """One ``phones.ctm`` line: a labelled span ``[start, end)`` in samples as ``utt 1 start_s dur_s label``."""
    return f"{utt} 1 {start / sample_rate:.6f} {(end - start) / sample_rate:.6f} {label}\n"


def read_ctm(path: Path, sample_rate: int) -> dict[str, list[tuple[int, int, str]]]:
    """``phones.ctm`` as sample spans per utterance: ``{utt: [(start, end, phone), ...]}``."""
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for line in read_text_file(path).splitlines():
        utt, _, start, dur, phone = line.split()
        first = round(float(start) * sample_rate)
        spans[utt].append((first, round((float(start) + float(dur)) * sample_rate), phone))
    return dict(spans)


FEATURE_OUTPUTS = ("feats.scp", "cmvn.scp", "feat_conf.yaml")


def require_files(data_dir: Path, names: tuple[str, ...]) -> None:
    """InputError naming the first of ``names`` missing from ``data_dir`` (with a hint for feature outputs)."""
    for name in names:
        if not (data_dir / name).is_file():
            hint = " (run gatescope features on the data dir)" if name in FEATURE_OUTPUTS else ""
            raise InputError(f"{data_dir / name}: missing{hint}")


def describe_data_dir(data_dir: Path) -> str:
    """One line for logs: ``DATA_DIR: N utterances, M speakers (validated)``."""
    utts = len((data_dir / "utt2spk").read_text().splitlines())
    spks = len((data_dir / "spk2utt").read_text().splitlines())
    return f"{data_dir}: {utts} utterances, {spks} speakers (validated)"


def write_speaker_tables(data_dir: Path, utt2spk: dict[str, str]) -> None:
    """``utt2spk`` and the ``spk2utt`` derived from it."""
    spk2utt: dict[str, list[str]] = defaultdict(list)
    for utt, spk in utt2spk.items():
        spk2utt[spk].append(utt)
    write_table(data_dir / "utt2spk", utt2spk)
    write_table(data_dir / "spk2utt", {spk: " ".join(sorted(utts)) for spk, utts in spk2utt.items()})


@contextlib.contextmanager
def validated_data_dir(target: Path) -> Iterator[Path]:
    """A staging folder to write a data dir into; it replaces ``target`` only if it validates.

    Raises:
        InputError: the first problem :func:`validate_data_dir` finds (``target`` is then left as it was).
    """
    with atomic_directory(target) as staging:
        yield staging
        problems = validate_data_dir(staging)
        if problems:  # named as the data dir it would have become, not as the staging folder
            raise InputError(
                f"prepared {target.name} data dir is invalid: {problems[0]}".replace(str(staging), str(target))
            )


COMBINED_TABLES = ("wav.scp", "utt2spk", "text", "text.wrd", "spk2gender", "utt2dur")


def combine_data_dirs(out_dir: Path, sources: list[Path]) -> Path:
    """One data dir holding every utterance of ``sources`` (Kaldi's ``utils/combine_data.sh``): each table that
    all sources have is merged and sorted, ``spk2utt`` rebuilt; features are not carried (extract them anew).

    Raises:
        InputError: fewer than two sources, an utterance or speaker id in two sources with different data, or
        a source that is not a data dir (its first problem).
    """
    if len(sources) < 2:
        raise InputError("combine needs at least two source data dirs")
    refuse_overlap(out_dir, {f"source {s}": s for s in sources})
    for source in sources:
        require_files(source, ("wav.scp", "utt2spk", "text"))
    names = [n for n in COMBINED_TABLES if all((s / n).is_file() for s in sources)]
    with validated_data_dir(out_dir) as staging:
        for name in names:
            merged: dict[str, str] = {}
            owner: dict[str, Path] = {}
            for source in sources:
                for key, value in read_table(source / name).items():
                    if key in merged and merged[key] != value:
                        raise InputError(f"{source / name}: {key!r} is also in {owner[key] / name}, differently")
                    merged[key], owner[key] = value, source
            if name == "utt2spk":  # written with the spk2utt derived from it
                write_speaker_tables(staging, merged)
            else:
                write_table(staging / name, merged)
    return out_dir
