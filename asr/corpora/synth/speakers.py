"""Synthetic speakers: an eSpeak voice variant with its own pitch, range and rate, named like TIMIT speakers.

Speaker ids are a sex letter, ``V`` and a number (``FV001``, ``MV002``): five characters as in TIMIT, so the
real-TIMIT tooling (dialect-region folders, speaker lists, utterance prefixes) applies unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from gatescope.asr.corpora.synth.espeak import VoiceSettings
from gatescope.errors import InputError

NUM_DIALECT_REGIONS = 8


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: id, sex, split, dialect region and the eSpeak voice settings that make it."""

    speaker_id: str  # e.g. "FV003"
    sex: str  # "f" or "m"
    split: str  # "train", "dev" or "test" (core test)
    dialect_region: int  # 1..8, the DR<n> folder
    voice: VoiceSettings

    @property
    def timit_split(self) -> str:
        """TIMIT's top folder: dev and core-test speakers both live under TEST, as in the real corpus."""
        return "TRAIN" if self.split == "train" else "TEST"


def _range(raw: dict, key: str, path: Path) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in raw[key])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: '{key}' must be a [low, high] pair of integers") from None
    return low, high


def make_speakers(num_speakers: int, num_test: int, seed: int, voices_path: Path) -> list[Speaker]:
    """``num_speakers`` distinct speakers; the last ``num_test`` are test speakers, half of them (rounded
    down, at least one when there are two or more) the dev set, the rest the core test set. Sexes alternate."""
    if num_speakers < 2 or not 1 <= num_test < num_speakers:
        raise InputError(f"need at least one train and one test speaker (speakers={num_speakers}, test={num_test})")
    raw = yaml.safe_load(voices_path.read_text())
    variants = {"m": raw["male"].split(), "f": raw["female"].split()}
    pitch = {"m": _range(raw, "male_pitch", voices_path), "f": _range(raw, "female_pitch", voices_path)}
    pitch_range, rate = _range(raw, "pitch_range", voices_path), _range(raw, "rate_wpm", voices_path)
    rng = np.random.default_rng([seed, 7919])
    order = {sex: list(rng.permutation(names)) for sex, names in variants.items()}
    num_dev = num_test // 2
    speakers = []
    for i in range(num_speakers):
        sex = "f" if i % 2 == 0 else "m"
        pool = order[sex]
        voice = VoiceSettings(
            voice=f"{raw['base_voice']}+{pool[(i // 2) % len(pool)]}",
            rate_wpm=int(rng.integers(rate[0], rate[1] + 1)),
            pitch=int(rng.integers(pitch[sex][0], pitch[sex][1] + 1)),
            pitch_range=int(rng.integers(pitch_range[0], pitch_range[1] + 1)),
        )
        position = i - (num_speakers - num_test)
        split = "train" if position < 0 else ("dev" if position < num_dev else "test")
        speakers.append(Speaker(f"{sex.upper()}V{i + 1:03d}", sex, split, i % NUM_DIALECT_REGIONS + 1, voice))
    return speakers
