"""``gatescope prepare wsj``: Wall Street Journal (LDC93S6 WSJ0, LDC94S13 WSJ1) in the LDC disk layout.

Sets, by the standard index files (as Kaldi's ``wsj_data_prep.sh`` chooses them):

=============  =================================================  ==================================
``train_si84``  ``wsj0/doc/indices/train/tr_s_wv1.ndx``            7,138 utterances, 83 speakers
``train_si284`` that and ``wsj1/doc/indices/si_tr_s.ndx``           with WSJ1
``dev93``       ``wsj1/doc/indices/h1_p0.ndx``                     503 utterances, with WSJ1
``eval92``      ``wsj0/doc/indices/test/nvp/si_et_20.ndx``         333 utterances
=============  =================================================  ==================================

Index lines are ``disk:path`` (``11_1_1:wsj0/si_tr_s/011/011c0201.wv1``); a path is found under the given roots
whatever the disk folder and the letter case. Transcripts come from the ``.dot`` files (``TEXT (uttid)`` per line)
or, where none holds an utterance, the ``.lsn`` files. Audio is NIST SPHERE, often shorten-compressed; such files
are read through ``sph2pipe`` (or ``ffmpeg``) in ``wav.scp``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from gatescope.asr.data.datadir import validated_data_dir, write_speaker_tables
from gatescope.asr.data.sphere import read_header
from gatescope.errors import InputError
from gatescope.files import refuse_overlap, write_table

NOISE_WORD = "<NOISE>"
INDEX_FILES = {
    "train_si84": ("wsj0/doc/indices/train/tr_s_wv1.ndx",),
    "train_si284": ("wsj0/doc/indices/train/tr_s_wv1.ndx", "wsj1/doc/indices/si_tr_s.ndx"),
    "dev93": ("wsj1/doc/indices/h1_p0.ndx",),
    "eval92": ("wsj0/doc/indices/test/nvp/si_et_20.ndx",),
}
# Kaldi's recipe leaves this si84 speaker folder out of training (its recordings are not of the si84 kind).
EXCLUDED_TRAINING_FOLDER = "wsj0/si_tr_s/401/"
_TRANSCRIPT_LINE = re.compile(r"^(?P<text>.*)\((?P<utt>[A-Za-z0-9]{8})\)\s*$")


def normalize_transcript(text: str, noise_word: str = NOISE_WORD) -> str:
    """WSJ transcription conventions -> plain upper-case words (the rules of Kaldi's WSJ recipe):

    ``[loud_breath]`` and other bracketed noises -> ``noise_word``; partial noise marks that only open or close a
    noise over other words (``[<door_slam]``, ``[door_slam>]``, ``[/...]``, ``[.../]``) are dropped; ``<word>``
    (a word the talker inserted) -> ``word``; ``*word*`` (mispronounced) -> ``word``; a lone ``~`` or ``.`` is
    dropped; ``:`` (lengthening) and ``!`` (emphasis) marks inside a word are removed.
    """
    out = []
    for word in text.split():
        if re.fullmatch(r"\[<[^\]]*\]|\[[^\]]*>\]|\[/[^\]]*\]|\[[^\]]*/\]", word):
            continue
        if word in ("~", "~~", "."):
            continue
        if word.startswith("[") and word.endswith("]"):
            out.append(noise_word)
            continue
        if word.startswith("<") and word.endswith(">") and len(word) > 2:
            word = word[1:-1]
        word = re.sub(r"^\*(.+)\*$", r"\1", word).replace(":", "").replace("!", "")
        if word:
            out.append(word.upper())
    return " ".join(out)


def _index_files(roots: list[Path]) -> dict[str, Path]:
    """Every file under the roots by its path from ``wsj0/`` or ``wsj1/`` on, lower case."""
    found: dict[str, Path] = {}
    for root in roots:
        for path in root.rglob("*"):
            parts = [p.lower() for p in path.relative_to(root).parts]
            for i, part in enumerate(parts):
                if part in ("wsj0", "wsj1"):
                    found.setdefault("/".join(parts[i:]), path)
                    break
    return found


def read_index(path: Path) -> list[str]:
    """The audio paths an ``.ndx`` file lists (``wsj0/...wv1``, lower case); comments (``;``) are skipped."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        relative = line.split(":", 1)[-1].strip().lstrip("/").lower()
        if not relative.endswith(".wv1"):
            relative += ".wv1"  # the test-set indices leave the extension out
        entries.append(relative)
    return entries


def read_transcripts(paths: Iterable[Path]) -> dict[str, str]:
    """``uttid -> text`` from ``.dot``/``.lsn`` files (lines ``TEXT (uttid)``); ``.dot`` wins over ``.lsn``."""
    out: dict[str, str] = {}
    for path in sorted(paths, key=lambda p: p.suffix.lower() != ".dot"):
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            match = _TRANSCRIPT_LINE.match(line.strip())
            if match is None:
                raise InputError(f"{path}:{lineno}: expected 'TRANSCRIPT (uttid)', got {line.strip()[:60]!r}")
            out.setdefault(match["utt"].lower(), match["text"].strip())
    return out


def audio_source(path: Path) -> str:
    """``wav.scp`` entry for a SPHERE file: the path if it is PCM, a decompressing pipe if it is shorten."""
    header = read_header(path)
    if "shorten" not in str(header.get("sample_coding", "pcm")):
        return str(path)
    if shutil.which("sph2pipe"):
        return f"sph2pipe -f wav {path} |"
    if shutil.which("ffmpeg"):
        return f"ffmpeg -loglevel error -i {path} -f wav - |"
    raise InputError(
        f"{path}: shorten-compressed SPHERE audio; install sph2pipe (github.com/burrmill/sph2pipe) or ffmpeg "
        "(Debian/Ubuntu: sudo apt install ffmpeg) and run again"
    )


def _duration(path: Path) -> float:
    header = read_header(path)
    count, rate = header.get("sample_count"), header.get("sample_rate")
    if not isinstance(count, int) or not isinstance(rate, int) or rate <= 0:
        raise InputError(f"{path}: SPHERE header lacks sample_count or sample_rate")
    return count / rate


def prepare_wsj(wsj0: Path, wsj1: Path | None, data_dir: Path, progress: bool = True) -> Path:
    """Kaldi data dirs ``DATA_DIR/{train_si84,eval92}`` (and ``train_si284``, ``dev93`` with WSJ1): ``wav.scp``,
    ``text`` (normalised words), ``utt2spk`` (speaker = first three characters), ``spk2utt``, ``utt2dur``."""
    roots = [r for r in (wsj0, wsj1) if r is not None]
    for root in roots:
        if not root.is_dir():
            raise InputError(f"{root}: no such directory")
    files = _index_files(roots)
    transcripts = read_transcripts(files[k] for k in files if k.endswith((".dot", ".lsn")))
    sets = [s for s in INDEX_FILES if wsj1 is not None or not any("wsj1/" in i for i in INDEX_FILES[s])]
    for name in sets:
        refuse_overlap(data_dir / name, {f"WSJ root {root}": root for root in roots})
        utts: dict[str, Path] = {}
        for index in INDEX_FILES[name]:
            if index not in files:
                raise InputError(
                    f"{roots[-1] if index.startswith('wsj1') else wsj0}: no {index} (not an LDC WSJ layout?)"
                )
            for entry in read_index(files[index]):
                if name.startswith("train") and entry.startswith(EXCLUDED_TRAINING_FOLDER):
                    continue
                if entry not in files:
                    raise InputError(f"{files[index]}: lists {entry}, which is not under {', '.join(map(str, roots))}")
                utts[Path(entry).stem.lower()] = files[entry]
        missing = sorted(set(utts) - set(transcripts))
        if missing:
            raise InputError(f"{name}: no .dot/.lsn transcript for {len(missing)} utterance(s), e.g. {missing[0]}")
        with validated_data_dir(data_dir / name) as staging:
            wav, text, durations = {}, {}, {}
            for utt, path in tqdm(sorted(utts.items()), desc=f"prepare {name}", disable=not progress):
                wav[utt] = audio_source(path)
                text[utt] = normalize_transcript(transcripts[utt])
                durations[utt] = f"{_duration(path):.3f}"
            write_table(staging / "wav.scp", wav)
            write_table(staging / "text", text)
            write_table(staging / "utt2dur", durations)
            write_speaker_tables(staging, {utt: utt[:3] for utt in utts})
    return data_dir
