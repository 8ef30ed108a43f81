"""``gatescope prepare librispeech``: LibriSpeech (openslr.org/12, CC BY 4.0), the freely licensed read-speech
corpus many users own instead of WSJ.

Layout: ``ROOT/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with one
``<speaker>-<chapter>.trans.txt`` per chapter (``UTTID WORDS``), and ``ROOT/SPEAKERS.TXT``
(``ID | SEX | SUBSET | MINUTES | NAME``). Each subset found (``train-clean-100``, ``dev-clean``, ...) becomes a
data dir named with underscores; the speaker of an utterance is ``<speaker>-<chapter>``, as in Kaldi's recipe.
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
from tqdm import tqdm

from gatescope.asr.data.datadir import validated_data_dir, write_speaker_tables
from gatescope.errors import InputError
from gatescope.files import read_text_file, refuse_overlap, write_table


def read_speakers(path: Path) -> dict[str, str]:
    """``SPEAKERS.TXT`` -> ``{speaker: "m" | "f"}`` (comment lines start with ``;``)."""
    genders = {}
    for lineno, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip() or line.startswith(";"):
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 2 or fields[1].upper() not in ("M", "F"):
            raise InputError(f"{path}:{lineno}: expected 'ID | SEX | SUBSET | MINUTES | NAME'")
        genders[fields[0]] = fields[1].lower()
    return genders


def prepare_librispeech(root: Path, data_dir: Path, progress: bool = True) -> list[Path]:
    """One validated data dir per subset under ``root``; returns their paths."""
    if not root.is_dir():
        raise InputError(f"{root}: no such directory")
    subsets = sorted({p.parents[2] for p in root.glob("*/*/*/*.trans.txt")})
    if not subsets:
        raise InputError(f"{root}: no <subset>/<speaker>/<chapter>/*.trans.txt (not a LibriSpeech root?)")
    for subset in subsets:
        refuse_overlap(data_dir / subset.name.replace("-", "_"), {"ROOT": root})
    genders = read_speakers(root / "SPEAKERS.TXT") if (root / "SPEAKERS.TXT").is_file() else {}
    out = []
    for subset in subsets:
        wav, text, durations, utt2spk = {}, {}, {}, {}
        for trans in tqdm(sorted(subset.glob("*/*/*.trans.txt")), desc=subset.name, disable=not progress):
            for lineno, line in enumerate(read_text_file(trans).splitlines(), 1):
                if not line.strip():
                    continue
                utt, _, words = line.strip().partition(" ")
                audio = trans.parent / f"{utt}.flac"
                if not audio.is_file():
                    raise InputError(f"{trans}:{lineno}: no audio {audio.name} beside it")
                try:
                    info = sf.info(str(audio))
                except (sf.LibsndfileError, RuntimeError) as err:
                    raise InputError(f"{audio}: unreadable audio ({err})") from None
                wav[utt], text[utt] = str(audio), words.strip()
                durations[utt] = f"{info.frames / info.samplerate:.3f}"
                utt2spk[utt] = "-".join(utt.split("-")[:2])
        target = data_dir / subset.name.replace("-", "_")
        with validated_data_dir(target) as staging:
            write_table(staging / "wav.scp", wav)
            write_table(staging / "text", text)
            write_table(staging / "utt2dur", durations)
            write_speaker_tables(staging, utt2spk)
            speakers = set(utt2spk.values())
            if genders and all(s.split("-")[0] in genders for s in speakers):
                write_table(staging / "spk2gender", {s: genders[s.split("-")[0]] for s in speakers})
        out.append(target)
    return out
