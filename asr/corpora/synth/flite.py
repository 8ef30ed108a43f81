"""Flite (CMU's small synthesizer, Debian package ``flite``) as a second synthetic-speech backend beside eSpeak NG.

Why flite: its clustergen voices (``rms``, ``slt``, ``awb``, ``kal16``) are statistical models trained on real
CMU ARCTIC recordings, so they carry real speakers' spectra and prosody where eSpeak's formant voices do not.

In: a prompt and a :class:`FliteVoice`. Out: a :class:`~gatescope.asr.corpora.synth.timed.TimedSynthesis`: int16
audio with flite's own segment end times (``-psdur``, exact to the millisecond), which
:func:`~gatescope.asr.corpora.synth.timed.align_timed` turns into TIMIT labels.

A voice is varied into many speakers by flite's own duration stretch and F0 target (``rms`` ignores the F0
settings) and by a vocal-tract length factor: the audio is declared to have been sampled ``vtl`` times faster
than it was, so resampling to the corpus rate scales every formant by ``vtl`` (and the duration by ``1/vtl``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile as sf

from gatescope.asr.corpora.synth.timed import TimedSynthesis, TimedVoice, parse_segments
from gatescope.errors import InputError

FLITE_VOICES = ("rms", "slt", "awb", "kal16")


@dataclass(frozen=True)
class FliteVoice(TimedVoice):
    """A flite speaker (see :class:`~gatescope.asr.corpora.synth.timed.TimedVoice`)."""

    backend: ClassVar[str] = "flite"


def flite_path() -> str | None:
    """The ``flite`` program on PATH, or None where it is not installed."""
    return shutil.which("flite")


def _settings(voice: FliteVoice) -> list[str]:
    if voice.voice not in FLITE_VOICES:
        raise InputError(f"flite voice {voice.voice!r} is not one of {', '.join(FLITE_VOICES)}")
    args = ["-voice", voice.voice, "--setf", f"duration_stretch={voice.duration_stretch:.4f}"]
    if voice.f0_mean > 0:
        args += ["--setf", f"int_f0_target_mean={voice.f0_mean:.2f}"]
    if voice.f0_stddev > 0:
        args += ["--setf", f"int_f0_target_stddev={voice.f0_stddev:.2f}"]
    return args


def _run_flite(args: list[str]) -> str:
    program = flite_path()
    if program is None:
        raise InputError("the flite backend needs the `flite` program (Debian: apt-get install flite)")
    result = subprocess.run([program, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(f"flite {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()[:200]}")
    return result.stdout


def synthesize(text: str, voice: FliteVoice) -> TimedSynthesis:
    """Speak ``text`` with flite; segment ends come from ``-psdur``."""
    with tempfile.TemporaryDirectory(prefix="gatescope-flite-") as tmp:
        wav = Path(tmp) / "out.wav"
        printed = _run_flite([*_settings(voice), "-psdur", "-t", text, "-o", str(wav)])
        audio, rate = sf.read(wav, dtype="int16")
    segments = parse_segments(printed, rate, f"flite ({text!r})")
    return TimedSynthesis(np.asarray(audio, dtype=np.int16), round(rate * voice.vtl), segments, "flite")


@cache
def word_phones(word: str, voice_name: str) -> tuple[str, ...]:
    """The phones flite gives ``word`` said alone (pauses dropped)."""
    printed = _run_flite(["-voice", voice_name, "-ps", "-t", word, "-o", "none"])
    return tuple(symbol for symbol in printed.split() if symbol != "pau")
