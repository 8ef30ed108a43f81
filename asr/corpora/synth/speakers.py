"""Synthetic speakers, named like TIMIT speakers: an eSpeak voice variant with its own pitch, range and rate,
or a flite, festival or Piper voice with its own duration stretch, F0 and vocal-tract length
(``conf/synth_voices.yaml`` gives the ranges).

Speaker ids are a sex letter, ``V`` and a number (``FV001``, ``MV002``): five characters as in TIMIT, so the
real-TIMIT tooling (dialect-region folders, speaker lists, utterance prefixes) applies unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from gatescope.asr.corpora.synth.espeak import VoiceSettings
from gatescope.asr.corpora.synth.festival import FestivalVoice
from gatescope.asr.corpora.synth.flite import FliteVoice
from gatescope.asr.corpora.synth.piper import PiperVoice
from gatescope.asr.corpora.synth.timed import TimedVoice
from gatescope.errors import ConfigError, InputError

NUM_DIALECT_REGIONS = 8
BACKENDS = ("espeak", "flite", "festival", "piper")
_TIMED_VOICES: dict[str, type[TimedVoice]] = {"flite": FliteVoice, "festival": FestivalVoice, "piper": PiperVoice}


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: id, sex, split, dialect region and the eSpeak, flite, festival or Piper voice that makes
    it."""

    speaker_id: str  # e.g. "FV003"
    sex: str  # "f" or "m"
    split: str  # "train", "dev" or "test" (core test)
    dialect_region: int  # 1..8, the DR<n> folder
    voice: VoiceSettings | TimedVoice

    @property
    def backend(self) -> str:
        """The synthesizer that speaks for this speaker: "espeak", "flite", "festival" or "piper"."""
        return self.voice.backend if isinstance(self.voice, TimedVoice) else "espeak"

    @property
    def timit_split(self) -> str:
        """TIMIT's top folder: dev and core-test speakers both live under TEST, as in the real corpus."""
        return "TRAIN" if self.split == "train" else "TEST"


def _range(raw: dict, key: str, path: Path, kind: type = int) -> tuple:
    try:
        low, high = (kind(v) for v in raw[key])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}: '{key}' must be a [low, high] pair of {kind.__name__} values") from None
    return low, high


def _espeak_voice(raw: dict, path: Path, sex: str, variant: str, rng: np.random.Generator) -> VoiceSettings:
    pitch = _range(raw, f"{'male' if sex == 'm' else 'female'}_pitch", path)
    pitch_range, rate = _range(raw, "pitch_range", path), _range(raw, "rate_wpm", path)
    return VoiceSettings(
        voice=f"{raw['base_voice']}+{variant}",
        rate_wpm=int(rng.integers(rate[0], rate[1] + 1)),
        pitch=int(rng.integers(pitch[0], pitch[1] + 1)),
        pitch_range=int(rng.integers(pitch_range[0], pitch_range[1] + 1)),
    )


def _timed_voice(
    raw: dict, path: Path, sex: str, name: str, rng: np.random.Generator, kind: type[TimedVoice]
) -> TimedVoice:
    """A flite, festival or Piper speaker: draws from the ``<backend>_*`` ranges; a voice listed in
    ``<backend>_fixed_f0`` (``_fixed_stretch``) ignores that setting, so none is claimed for it (the draw is still
    made, so the speakers after it keep theirs). ``<backend>_male_vtl`` / ``_female_vtl``, where given, replace
    ``<backend>_vtl`` for that sex (one recorded voice made into speakers of both)."""
    key = kind.backend
    f0 = _range(raw, f"{key}_{'male' if sex == 'm' else 'female'}_f0", path, float)
    f0_stddev, stretch = _range(raw, f"{key}_f0_stddev", path, float), _range(raw, f"{key}_stretch", path, float)
    sex_vtl = f"{key}_{'male' if sex == 'm' else 'female'}_vtl"
    vtl = _range(raw, sex_vtl if sex_vtl in raw else f"{key}_vtl", path, float)
    follows_f0 = name not in str(raw.get(f"{key}_fixed_f0", "")).split()
    follows_stretch = name not in str(raw.get(f"{key}_fixed_stretch", "")).split()
    drawn_stretch = round(float(rng.uniform(*stretch)), 3)
    return kind(
        voice=str(name),
        duration_stretch=drawn_stretch if follows_stretch else 1.0,
        f0_mean=round(float(rng.uniform(*f0)), 1) if follows_f0 else 0.0,
        f0_stddev=round(float(rng.uniform(*f0_stddev)), 1) if follows_f0 else 0.0,
        vtl=round(float(rng.uniform(*vtl)), 3),
    )


def make_speakers(
    num_speakers: int, num_test: int, seed: int, voices_path: Path, backends: tuple[str, ...] = ("espeak",)
) -> list[Speaker]:
    """``num_speakers`` distinct speakers; the last ``num_test`` are test speakers, half of them (rounded
    down, at least one when there are two or more) the dev set, the rest the core test set. Sexes alternate;
    backends take turns by pairs of speakers, so each backend has both sexes in every split of enough size."""
    if num_speakers < 2 or not 1 <= num_test < num_speakers:
        raise InputError(f"need at least one train and one test speaker (speakers={num_speakers}, test={num_test})")
    unknown = [b for b in backends if b not in BACKENDS]
    if not backends or unknown:
        raise ConfigError(f"backends must be some of {', '.join(BACKENDS)} (got {', '.join(backends) or 'none'})")
    raw = yaml.safe_load(voices_path.read_text())
    rng = np.random.default_rng([seed, 7919])
    order = {
        ("espeak", sex): list(rng.permutation(raw[pool].split())) for sex, pool in (("m", "male"), ("f", "female"))
    }
    for stream, backend in enumerate(_TIMED_VOICES, 1):  # each its own stream: adding one moves no other's draws
        backend_rng = np.random.default_rng([seed, 7919, stream])
        for sex, sex_name in (("m", "male"), ("f", "female")):
            names = str(raw.get(f"{backend}_{sex_name}", "")).split()
            order[(backend, sex)] = list(backend_rng.permutation(names))
    num_dev = num_test // 2
    speakers = []
    for i in range(num_speakers):
        sex = "f" if i % 2 == 0 else "m"
        backend = backends[(i // 2) % len(backends)]
        voices = order[(backend, sex)]
        if not voices:
            raise ConfigError(f"{voices_path}: no {'male' if sex == 'm' else 'female'} voice for backend {backend}")
        name = voices[(i // (2 * len(backends))) % len(voices)]
        if backend == "espeak":
            voice: VoiceSettings | TimedVoice = _espeak_voice(raw, voices_path, sex, name, rng)
        else:
            voice = _timed_voice(raw, voices_path, sex, name, rng, _TIMED_VOICES[backend])
        position = i - (num_speakers - num_test)
        split = "train" if position < 0 else ("dev" if position < num_dev else "test")
        speakers.append(Speaker(f"{sex.upper()}V{i + 1:03d}", sex, split, i % NUM_DIALECT_REGIONS + 1, voice))
    return speakers
