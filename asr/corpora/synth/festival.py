"""Festival (the Edinburgh speech synthesis system, Debian package ``festival``) as a third synthetic-speech backend.

Why festival: its diphone voices are made of waveform pieces cut from real recordings (``kal``: Debian's
``festvox-kallpc16k``, ``ked``: ``festvox-kdlpc16k``, residual-excited LPC), and ``slt_hts``
(``festvox-us-slt-hts``) is an HTS model of a real CMU ARCTIC speaker: real speakers' spectra from a third
synthesis method beside eSpeak's formants and flite's clustergen.

In: a prompt and a :class:`FestivalVoice`. Out: a :class:`~gatescope.asr.corpora.synth.timed.TimedSynthesis`
(int16 audio and the end time of every segment of festival's Segment relation, exact: 1 ms for the diphone
voices, 5 ms frames for HTS) and the phones of each prompt word said alone, from the same festival run;
:func:`~gatescope.asr.corpora.synth.timed.align_timed` turns them into TIMIT labels with
``conf/radio_timit.map`` (festival's US voices speak CMU's radio phone set, as flite does).

``ked`` writes the r-coloured vowel as two segments, ``er r`` ("author" ``ao th er r``); the ``r`` is joined
into the ``er`` so that a word holds no doubled phone. Speakers are varied by festival's ``Duration_Stretch``
and its intonation targets (``int_lr_params``: F0 mean and spread) and by a vocal-tract length factor as for
flite; ``slt_hts`` generates its own durations and F0 and follows only the vocal-tract length factor.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import soundfile as sf

from gatescope.asr.corpora.synth.align import Token
from gatescope.asr.corpora.synth.timed import TimedSynthesis, TimedVoice, parse_segments
from gatescope.errors import InputError

FESTIVAL_VOICES = {"kal": "kal_diphone", "ked": "ked_diphone", "slt_hts": "cmu_us_slt_arctic_hts"}
FESTIVAL_PACKAGES = {"kal": "festvox-kallpc16k", "ked": "festvox-kdlpc16k", "slt_hts": "festvox-us-slt-hts"}
FIXED_PROSODY = frozenset({"slt_hts"})  # voices that ignore Duration_Stretch and the intonation targets
SPLIT_ER = frozenset({"ked"})  # voices that write "er" as "er r"
_TIMEOUT_S = 120


@dataclass(frozen=True)
class FestivalVoice(TimedVoice):
    """A festival speaker (see :class:`~gatescope.asr.corpora.synth.timed.TimedVoice`)."""

    backend: ClassVar[str] = "festival"


@dataclass(frozen=True)
class FestivalSpeech:
    """One festival run: the synthesis, and the phones of every prompt word said alone (pauses dropped)."""

    synthesis: TimedSynthesis
    words_alone: dict[str, tuple[str, ...]]


def festival_path() -> str | None:
    """The ``festival`` program on PATH, or None where it is not installed."""
    return shutil.which("festival")


def installed_voices() -> list[str]:
    """The voices of :data:`FESTIVAL_VOICES` whose Debian package is installed (none without festival)."""
    if festival_path() is None:
        return []
    roots = [Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices")]
    found = {p.name for root in roots if root.is_dir() for p in root.glob("*/*") if p.is_dir()}
    return [name for name, voice in FESTIVAL_VOICES.items() if voice in found]


def _quote(text: str) -> str:
    """A Scheme string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _print_segments(utterance: str) -> str:
    return (
        f'(mapcar (lambda (s) (format t "%s:%f " (item.name s) (item.feat s "end"))) '
        f'(utt.relation.items {utterance} \'Segment))\n(format t "\\n")\n'
    )


def _script(text: str, words: list[str], voice: FestivalVoice, wav: Path) -> str:
    """Festival commands: the prompt synthesised and saved with its segments on one line, then each word's
    segments (text analysis and post-lexical rules only, no waveform) on a line of its own."""
    if voice.voice not in FESTIVAL_VOICES:
        raise InputError(f"festival voice {voice.voice!r} is not one of {', '.join(FESTIVAL_VOICES)}")
    lines = [f"(voice_{FESTIVAL_VOICES[voice.voice]})"]
    if voice.voice not in FIXED_PROSODY:
        lines.append(f"(Parameter.set 'Duration_Stretch {voice.duration_stretch:.4f})")
        for name, value in (("target_f0_mean", voice.f0_mean), ("target_f0_std", voice.f0_stddev)):
            if value > 0:  # the first entry of an association list wins
                lines.append(f"(set! int_lr_params (cons (list '{name} {value:.2f}) int_lr_params))")
    lines.append(f"(set! spoken (SynthText {_quote(text)}))")
    lines.append(f"(utt.save.wave spoken {_quote(str(wav))} 'riff)")
    script = "\n".join(lines) + "\n" + _print_segments("spoken")
    for word in words:
        script += (
            f"(set! alone (Utterance Text {_quote(word)}))\n"
            "(mapcar (lambda (module) (module alone)) "
            "(list Initialize Text Token_POS Token POS Phrasify Word Pauses PostLex))\n"
        ) + _print_segments("alone")
    return script


def _join_split_er(segments: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``er`` followed by ``r`` -> one ``er`` ending where the ``r`` ends (``ked``'s two-segment r-coloured vowel)."""
    out: list[tuple[str, int]] = []
    joined = False  # the last er already took its r: a second r is a phone of its own ("her room")
    for symbol, end in segments:
        if symbol == "r" and out and out[-1][0] == "er" and not joined:
            out[-1], joined = ("er", end), True
        else:
            out.append((symbol, end))
            joined = False
    return out


def speak(text: str, tokens: list[Token], voice: FestivalVoice) -> FestivalSpeech:
    """Speak ``text`` with festival; the words of ``tokens`` are also looked up alone in the same run."""
    program = festival_path()
    if program is None:
        raise InputError("the festival backend needs `festival` (Debian: apt-get install festival festvox-kallpc16k)")
    words = sorted({token.text for token in tokens})
    with tempfile.TemporaryDirectory(prefix="gatescope-festival-") as tmp:
        wav = Path(tmp) / "out.wav"
        script = Path(tmp) / "speak.scm"
        script.write_text(_script(text, words, voice, wav))
        result = subprocess.run(
            [program, "--batch", str(script)], capture_output=True, text=True, check=False, timeout=_TIMEOUT_S
        )
        lines = result.stdout.splitlines()
        if result.returncode != 0 or not wav.is_file() or len(lines) != 1 + len(words):
            detail = (result.stderr.strip() or result.stdout.strip())[:200]
            raise InputError(f"festival ({voice.voice}, {text!r}): exit {result.returncode}: {detail}")
        audio, rate = sf.read(wav, dtype="int16")
    source = f"festival ({voice.voice}, {text!r})"
    segments = parse_segments(lines[0], rate, source)
    alone = {
        word: [s for s, _ in parse_segments(line, rate, source)] for word, line in zip(words, lines[1:], strict=True)
    }
    if voice.voice in SPLIT_ER:
        segments = _join_split_er(segments)
        alone = {word: [s for s, _ in _join_split_er([(p, 0) for p in phones])] for word, phones in alone.items()}
    synthesis = TimedSynthesis(np.asarray(audio, dtype=np.int16), round(rate * voice.vtl), segments, "festival")
    return FestivalSpeech(synthesis, {w: tuple(p for p in phones if p != "pau") for w, phones in alone.items()})
