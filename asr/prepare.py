"""``gatescope prepare timit``: TIMIT (or the synthetic corpus) -> Kaldi data dirs train/, dev/, test/.

The split follows every TIMIT recipe: train = all TRAIN speakers; dev = the 50 standard dev speakers and
test = the 24 core-test speakers, both from TEST (the other TEST speakers are left out). A synthetic corpus carries
its own lists in ``DOC/dev_spk.list`` and ``DOC/core_test_spk.list``; they take the place of the standard ones.

All input is read and checked before anything is written; each data dir is then written to a staging folder,
validated, and swapped into place, so bad input never damages an earlier preparation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from gatescope.asr.audio import read_audio
from gatescope.asr.datadir import CTM_FILE, validated_data_dir, write_speaker_tables
from gatescope.asr.errors import InputError
from gatescope.asr.fileio import write_table, write_text_atomic
from gatescope.asr.phones import PhoneMap
from gatescope.asr.resources import conf_path
from gatescope.asr.timit import (
    Segment,
    TimitUtterance,
    find_utterances,
    read_phn,
    read_speaker_list,
    read_txt,
    read_wrd,
)

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PreparedUtterance:
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
        f"{p.utt.utt_id} 1 {s.start / sample_rate:.6f} {(s.end - s.start) / sample_rate:.6f} {s.label}\n"
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
