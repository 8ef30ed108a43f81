"""Flite (CMU's small synthesizer, Debian package ``flite``) as a second synthetic-speech backend beside eSpeak NG.

Why flite: its clustergen voices (``rms``, ``slt``, ``awb``, ``kal16``) are statistical models trained on real
CMU ARCTIC recordings, so they carry real speakers' spectra and prosody where eSpeak's formant voices do not.

In: a prompt and a :class:`FliteVoice`. Out: int16 audio with flite's own segment end times (``-psdur``), and
from those an :class:`~gatescope.asr.corpora.synth.align.Alignment` in TIMIT labels:

1. Phone boundaries are flite's segment ends, exact to the millisecond flite prints (1 ms = 16 samples).
2. Stops and affricates are one segment in flite; TIMIT writes a closure before the release. The segment's first
   half becomes the closure (``tcl`` before ``t``, ...), the second the release ("stop_split" in the summary).
3. Words: each word said alone gives its phone count; the utterance's phones are dealt out in order. Flite's
   post-lexical rules change vowels ("the" before a vowel), never the count; a mismatch is an error.
4. ``pau`` at the edges becomes ``h#``, inside ``pau``; neighbours of one 39-phone class in a word are joined.

A voice is varied into many speakers by flite's own duration stretch and F0 target (``rms`` ignores the F0
settings) and by a vocal-tract length factor: the audio is declared to have been sampled ``vtl`` times faster
than it was, so resampling to the corpus rate scales every formant by ``vtl`` (and the duration by ``1/vtl``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf

from gatescope.asr.corpora.synth.align import (
    CLOSURE_OF,
    Alignment,
    Segment,
    Token,
    frame_with_silence,
    join_doubles,
    word_segments,
)
from gatescope.errors import InputError

FLITE_VOICES = ("rms", "slt", "awb", "kal16")


@dataclass(frozen=True)
class FliteVoice:
    """A flite speaker: a voice plus duration stretch, F0 mean and spread in Hz (0: the voice's own), and a
    vocal-tract length factor (1.0: the recorded speaker's)."""

    voice: str
    duration_stretch: float = 1.0
    f0_mean: float = 0.0
    f0_stddev: float = 0.0
    vtl: float = 1.0

    def describe(self) -> str:
        """One line for the corpus's speaker table."""
        return (
            f"flite:{self.voice} stretch={self.duration_stretch:.2f} f0={self.f0_mean:.0f}"
            f"+-{self.f0_stddev:.0f} vtl={self.vtl:.3f}"
        )


@dataclass(frozen=True)
class FliteSynthesis:
    """One flite synthesis: int16 audio at ``sample_rate`` (with the vtl factor applied) and each segment's flite
    symbol with its end sample."""

    audio: np.ndarray
    sample_rate: int
    segments: list[tuple[str, int]]


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


def synthesize(text: str, voice: FliteVoice) -> FliteSynthesis:
    """Speak ``text`` with flite; segment ends come from ``-psdur``."""
    with tempfile.TemporaryDirectory(prefix="gatescope-flite-") as tmp:
        wav = Path(tmp) / "out.wav"
        printed = _run_flite([*_settings(voice), "-psdur", "-t", text, "-o", str(wav)])
        audio, rate = sf.read(wav, dtype="int16")
    segments = []
    for item in printed.split():
        symbol, _, end = item.rpartition(":")
        try:
            segments.append((symbol, round(float(end) * rate)))
        except ValueError:
            raise InputError(f"flite printed an unreadable segment {item!r} for {text!r}") from None
    return FliteSynthesis(np.asarray(audio, dtype=np.int16), round(rate * voice.vtl), segments)


@cache
def word_phones(word: str, voice_name: str) -> tuple[str, ...]:
    """The phones flite gives ``word`` said alone (pauses dropped)."""
    printed = _run_flite(["-voice", voice_name, "-ps", "-t", word, "-o", "none"])
    return tuple(symbol for symbol in printed.split() if symbol != "pau")


def align_flite(
    synthesis: FliteSynthesis,
    tokens: list[Token],
    symbol_map: dict[str, tuple[str, ...]],
    phones_of: Callable[[str], Sequence[str]],
) -> Alignment:
    """Phone and word segments of one flite synthesis, in samples at ``synthesis.sample_rate``.

    ``phones_of(word)`` gives the phones of a word said alone (:func:`word_phones` in the voice); the spoken
    phones are dealt out to the words by aligning them to those (:func:`word_owners`), since flite may say a word
    differently in context ("blessed" alone ``b l eh s ih d``, as a verb ``b l eh s t``; "a" ``ey`` / ``ax``).

    Raises:
        InputError: a flite symbol has no TIMIT label in ``conf/flite_timit.map``, or a word gets no spoken phone.
    """
    stats: Counter[str] = Counter()
    spoken = [symbol for symbol, _ in synthesis.segments if symbol != "pau"]
    owners, edits = word_owners(spoken, [list(phones_of(token.text)) for token in tokens])
    stats["context_edits"] += edits
    num_samples = len(synthesis.audio)
    phones: list[Segment] = []
    start, k = 0, 0
    for symbol, flite_end in synthesis.segments:
        if symbol not in symbol_map:
            raise InputError(f"flite phone {symbol!r} has no TIMIT label in conf/flite_timit.map")
        end = min(flite_end, num_samples)  # the last end, rounded, can pass the audio's end by a sample
        if end <= start and symbol == "pau":
            continue
        if end <= start:
            raise InputError(f"flite segment {symbol!r} ends at sample {end}, not after {start}")
        labels = symbol_map[symbol]
        if labels == ("pau",):
            phones.append(Segment(start, end, "pau"))
        else:
            word = owners[k]
            k += 1
            phones += _segments(start, end, labels, word, stats)
        start = end
    phones, stats["joined_double"] = join_doubles(phones)
    phones = frame_with_silence(phones, num_samples)
    return Alignment(phones, word_segments(phones, tokens), stats)


def word_owners(spoken: Sequence[str], words_alone: Sequence[Sequence[str]]) -> tuple[list[int], int]:
    """The word each spoken phone belongs to, and the number of edits that took.

    The spoken phones are aligned to the concatenated phones of the words said alone by edit distance (Levenshtein,
    ties broken towards substitution); a spoken phone takes the word of the phone it is aligned to, an inserted one
    the word of the phone before it (the next one at the start).

    Raises:
        InputError: a word has no spoken phone left (the synthesizer dropped it), naming the word's index.
    """
    reference = [(word, phone) for word, phones in enumerate(words_alone) for phone in phones]
    rows, cols = len(spoken) + 1, len(reference) + 1
    cost = np.zeros((rows, cols), dtype=np.int32)
    cost[:, 0], cost[0, :] = np.arange(rows), np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(
                cost[i - 1, j - 1] + (spoken[i - 1] != reference[j - 1][1]), cost[i - 1, j] + 1, cost[i, j - 1] + 1
            )
    owners: list[int | None] = [None] * len(spoken)
    i, j = rows - 1, cols - 1
    while i > 0:
        if j > 0 and cost[i, j] == cost[i - 1, j - 1] + (spoken[i - 1] != reference[j - 1][1]):
            owners[i - 1] = reference[j - 1][0]
            i, j = i - 1, j - 1
        elif j > 0 and cost[i, j] == cost[i, j - 1] + 1:
            j -= 1  # a phone of the word alone that was not spoken
        else:
            i -= 1  # a spoken phone the words alone do not have: owned by a neighbour below
    for k in range(len(owners)):  # inserted phones join the word before (the first word at the very start)
        if owners[k] is None:
            owners[k] = owners[k - 1] if k else next((o for o in owners if o is not None), 0)
    filled = [int(o) for o in owners if o is not None]
    missing = sorted(set(range(len(words_alone))) - set(filled))
    if missing:
        raise InputError(f"flite spoke no phone of word(s) {missing} of the prompt")
    return filled, int(cost[-1, -1])


def _segments(start: int, end: int, labels: tuple[str, ...], word: int, stats: Counter[str]) -> list[Segment]:
    """One flite segment as TIMIT segments: a stop gets its closure, a two-label symbol is split in halves."""
    middle = (start + end) // 2
    if len(labels) == 2:
        stats["split"] += 1
        return [Segment(start, middle, labels[0], word), Segment(middle, end, labels[1], word)]
    if labels[0] in CLOSURE_OF and end - start >= 2:
        stats["stop_split"] += 1
        return [Segment(start, middle, CLOSURE_OF[labels[0]], word), Segment(middle, end, labels[0], word)]
    stats["exact"] += 1
    return [Segment(start, end, labels[0], word)]
