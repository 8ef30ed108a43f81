"""``gatescope prepare an4``: CMU's AN4 census database (about an hour of real read speech from 74 speakers, 16 kHz
NIST SPHERE), the smallest real-speech recipe of Kaldi, ESPnet and NeMo.

Layout of ``an4_sphere.tar.gz``: ``ROOT/etc/an4_{train,test}.fileids`` (one ``an4_clstk/<speaker>/<utt>`` per
line), ``ROOT/etc/an4_{train,test}.transcription`` (``<s> WORDS </s> (<utt>)``) and the audio under
``ROOT/wav/<fileid>.sph``. The test set is speaker-disjoint as distributed; ``dev`` holds the last
``dev_speakers`` training speakers (in sorted order), so all three splits are disjoint. Utterance ids are
``<speaker>-<utt>`` (Kaldi's speaker prefix); words are lower case.
"""

from __future__ import annotations

import re
from pathlib import Path

from gatescope.asr.data.datadir import validated_data_dir, write_speaker_tables
from gatescope.asr.data.sphere import read_header
from gatescope.errors import InputError
from gatescope.files import read_text_file, refuse_overlap, write_table

_TRANSCRIPT = re.compile(r"^(?:<s>)?\s*(?P<words>.*?)\s*(?:</s>)?\s*\((?P<utt>[^()\s]+)\)\s*$")


def read_transcription(path: Path) -> dict[str, str]:
    """``<s> WORDS </s> (UTT)`` lines -> ``{utt: "words"}`` (lower case)."""
    out = {}
    for lineno, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip():
            continue
        match = _TRANSCRIPT.match(line.strip())
        if match is None:
            raise InputError(f"{path}:{lineno}: expected '<s> WORDS </s> (UTTERANCE)', got {line.strip()[:60]!r}")
        if match["utt"] in out:
            raise InputError(f"{path}:{lineno}: utterance {match['utt']!r} transcribed twice")
        out[match["utt"]] = " ".join(match["words"].lower().split())
    return out


def _split(root: Path, name: str) -> dict[str, tuple[str, Path, str]]:
    """``{utt_id: (speaker, audio, words)}`` of ``an4_<name>``."""
    etc = root / "etc"
    words = read_transcription(etc / f"an4_{name}.transcription")
    entries = {}
    for lineno, line in enumerate(read_text_file(etc / f"an4_{name}.fileids").splitlines(), 1):
        fileid = line.strip()
        if not fileid:
            continue
        parts = fileid.split("/")
        if len(parts) != 3:
            raise InputError(
                f"{etc / f'an4_{name}.fileids'}:{lineno}: expected '<set>/<speaker>/<utt>', got {fileid!r}"
            )
        speaker, utt = parts[1], parts[2]
        audio = root / "wav" / f"{fileid}.sph"
        if utt not in words:
            raise InputError(f"{etc / f'an4_{name}.transcription'}: no transcript for {utt!r} (fileids line {lineno})")
        if not audio.is_file():
            raise InputError(f"{audio}: missing (listed in an4_{name}.fileids line {lineno})")
        entries[f"{speaker}-{utt}"] = (speaker, audio, words[utt])
    if not entries:
        raise InputError(f"{etc / f'an4_{name}.fileids'}: no utterances")
    return entries


def prepare_an4(root: Path, data_dir: Path, dev_speakers: int = 4) -> Path:
    """Write validated ``data_dir/{train,dev,test}`` (``wav.scp`` of SPHERE files, ``text`` and ``text.wrd``
    with the words, ``utt2spk``, ``spk2utt``, ``utt2dur``); returns ``data_dir``."""
    if not (root / "etc").is_dir():
        raise InputError(f"{root}: no etc/ folder (expected the an4/ folder of an4_sphere.tar.gz)")
    for split in ("train", "dev", "test"):
        refuse_overlap(data_dir / split, {"AN4_ROOT": root})
    train, test = _split(root, "train"), _split(root, "test")
    speakers = sorted({speaker for speaker, _, _ in train.values()})
    if len(speakers) <= dev_speakers:
        raise InputError(f"{root}: {len(speakers)} training speakers, too few to hold out {dev_speakers} for dev")
    held_out = set(speakers[-dev_speakers:]) if dev_speakers else set()
    splits = {
        "train": {u: e for u, e in train.items() if e[0] not in held_out},
        "dev": {u: e for u, e in train.items() if e[0] in held_out},
        "test": test,
    }
    for split, entries in splits.items():
        if not entries:
            continue
        with validated_data_dir(data_dir / split) as staging:
            write_table(staging / "wav.scp", {u: str(e[1].resolve()) for u, e in entries.items()})
            write_table(staging / "text", {u: e[2] for u, e in entries.items()})
            write_table(staging / "text.wrd", {u: e[2] for u, e in entries.items()})
            durations = {}
            for utt, (_, audio, _) in entries.items():
                header = read_header(audio)
                durations[utt] = f"{int(header['sample_count']) / int(header['sample_rate']):.3f}"
            write_table(staging / "utt2dur", durations)
            write_speaker_tables(staging, {u: e[0] for u, e in entries.items()})
    return data_dir
