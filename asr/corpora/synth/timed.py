"""Alignment for synthesizers that give every segment with its end time: flite (``-psdur``), festival (its
Segment relation) and Piper (its duration predictor's frame counts).

In: a :class:`TimedSynthesis` (audio plus each segment's symbol and end sample), the prompt's tokens, the
backend's symbol map (``conf/<backend>_timit.map``) and the phones of each word said alone. Out: an
:class:`~gatescope.asr.corpora.synth.align.Alignment` in TIMIT labels:

1. Phone boundaries are the synthesizer's segment ends, exact to the resolution it prints (1 ms for flite and
   festival's diphone voices, 5 ms frames for HTS voices).
2. Stops and affricates are one segment; TIMIT writes a closure before the release. The segment's first half
   becomes the closure (``tcl`` before ``t``, ...), the second the release ("stop_split" in the summary).
3. Words: the spoken phones are dealt out to the words by an edit-distance alignment to the words said alone
   (:func:`word_owners`), since a synthesizer may say a word differently in context.
4. ``pau`` at the edges becomes ``h#``, inside ``pau``; neighbours of one 39-phone class in a word are joined.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

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


@dataclass(frozen=True)
class TimedVoice:
    """A speaker of a timed backend: a voice plus duration stretch, F0 mean and spread in Hz (0: the voice's own),
    and a vocal-tract length factor (1.0: the recorded speaker's). Subclasses name the ``backend``."""

    backend: ClassVar[str] = ""
    voice: str
    duration_stretch: float = 1.0
    f0_mean: float = 0.0
    f0_stddev: float = 0.0
    vtl: float = 1.0

    def describe(self) -> str:
        """One line for the corpus's speaker table."""
        return (
            f"{self.backend}:{self.voice} stretch={self.duration_stretch:.2f} f0={self.f0_mean:.0f}"
            f"+-{self.f0_stddev:.0f} vtl={self.vtl:.3f}"
        )


@dataclass(frozen=True)
class TimedSynthesis:
    """One synthesis: int16 audio at ``sample_rate`` (with any vocal-tract length factor applied) and each
    segment's symbol with its end sample; ``backend`` names the synthesizer in error messages."""

    audio: np.ndarray
    sample_rate: int
    segments: list[tuple[str, int]]
    backend: str = "flite"


def parse_segments(printed: str, sample_rate: int, source: str) -> list[tuple[str, int]]:
    """``SYMBOL:END_SECONDS`` items separated by white space (flite's ``-psdur`` format) -> (symbol, end sample)."""
    segments = []
    for item in printed.split():
        symbol, _, end = item.rpartition(":")
        try:
            segments.append((symbol, round(float(end) * sample_rate)))
        except ValueError:
            raise InputError(f"{source}: unreadable segment {item!r}") from None
    return segments


def align_timed(
    synthesis: TimedSynthesis,
    tokens: list[Token],
    symbol_map: dict[str, tuple[str, ...]],
    phones_of: Callable[[str], Sequence[str]],
) -> Alignment:
    """Phone and word segments of one synthesis, in samples at ``synthesis.sample_rate``.

    ``phones_of(word)`` gives the phones of a word said alone in the same voice; the spoken phones are dealt out
    to the words by aligning them to those (:func:`word_owners`), since a synthesizer may say a word differently in
    context (flite's "blessed" alone ``b l eh s ih d``, as a verb ``b l eh s t``; "a" ``ey`` / ``ax``).

    Raises:
        InputError: a symbol has no TIMIT label in ``symbol_map``, or a word gets no spoken phone.
    """
    stats: Counter[str] = Counter()
    spoken = [symbol for symbol, _ in synthesis.segments if symbol != "pau"]
    owners, edits = word_owners(spoken, [list(phones_of(token.text)) for token in tokens])
    stats["context_edits"] += edits
    num_samples = len(synthesis.audio)
    phones: list[Segment] = []
    start, k = 0, 0
    for symbol, printed_end in synthesis.segments:
        if symbol not in symbol_map:
            raise InputError(f"{synthesis.backend} phone {symbol!r} has no TIMIT label in the backend's phone map")
        end = min(printed_end, num_samples)  # the last end, rounded, can pass the audio's end by a sample
        if end <= start and symbol == "pau":
            continue
        if end <= start:
            raise InputError(f"{synthesis.backend} segment {symbol!r} ends at sample {end}, not after {start}")
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
        raise InputError(f"the synthesizer spoke no phone of word(s) {missing} of the prompt")
    return filled, int(cost[-1, -1])


def _segments(start: int, end: int, labels: tuple[str, ...], word: int, stats: Counter[str]) -> list[Segment]:
    """One printed segment as TIMIT segments: a stop gets its closure, a two-label symbol is split in halves."""
    middle = (start + end) // 2
    if len(labels) == 2:
        stats["split"] += 1
        return [Segment(start, middle, labels[0], word), Segment(middle, end, labels[1], word)]
    if labels[0] in CLOSURE_OF and end - start >= 2:
        stats["stop_split"] += 1
        return [Segment(start, middle, CLOSURE_OF[labels[0]], word), Segment(middle, end, labels[0], word)]
    stats["exact"] += 1
    return [Segment(start, end, labels[0], word)]
