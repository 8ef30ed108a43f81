"""Turn eSpeak NG phoneme events into TIMIT-style phone and word segments.

How each boundary is obtained (the corpus summary counts every rule that fired, so "exact" stays an honest claim):

1. Phone boundaries are eSpeak's phoneme events: the start sample of each phoneme, exact by construction.
2. Silences are exact too: eSpeak writes pauses and stop closures as runs of digital zeros at the end of the
   preceding phoneme's segment. A zero run of at least ``min_silence`` samples is cut off as its own segment,
   labelled as TIMIT labels it: the closure of the stop that follows (``tcl`` before ``t`` or ``ch``, ``dcl``
   before ``d`` or ``jh``, ...), otherwise ``epi`` (epenthetic silence).
3. Zero-length pause events (``_``) are dropped. A zero-length *phone* event (eSpeak reports a post-vocalic
   ``l`` at the same sample as the next phone, its sound merged into the previous segment) takes the second half
   of the preceding segment ("zero_length_split").
4. eSpeak speaks some word pairs as one unit ("in the"): their phonemes all carry the first word's text
   position. Each word but the last takes as many phonemes as it has when eSpeak says it alone, the last word
   the rest ("the" before a vowel is "D i:", not "D @2"; "merged_word_split"). If nothing is left for the last
   word, alignment fails rather than guess.
5. Symbols that TIMIT writes as two phones (``e@`` -> ``eh r``) split their segment in equal halves ("split").
   Where that puts two phones of the same 39-phone class side by side in a word (``i@3 r`` in "zero" would give
   ``ih r r``; ``3 3:`` gives ``axr er``), they are one phone, as TIMIT transcribes it: the two segments are joined
   under the longer one's label ("joined_double").
6. Pauses before the first and after the last phone become ``h#``, as in TIMIT; other pauses are ``pau``.

Also the segment helpers every backend's corpus writer shares: rescaling to the corpus rate, ``h#`` stretched
over the silence added around the speech, and the lines of a ``.PHN`` / ``.WRD`` file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gatescope.asr.corpora.synth.espeak import PhonemeEvent, Synthesis
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError

STRESS_MARKS = "',%="
CLOSURE_OF = {
    "p": "pcl",
    "t": "tcl",
    "k": "kcl",
    "b": "bcl",
    "d": "dcl",
    "g": "gcl",
    "ch": "tcl",
    "jh": "dcl",
}
_SILENCES = {"pau", "epi", "h#"}


@dataclass(frozen=True)
class Segment:
    """A labelled span ``[start, end)`` in samples; ``word`` is the index of the word it belongs to, or -1."""

    start: int
    end: int
    label: str
    word: int = -1


@dataclass
class Alignment:
    """An utterance's phone and word segments, with the counts of each boundary rule that fired."""

    phones: list[Segment]
    words: list[Segment]  # label = the word as written, lower case
    stats: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Token:
    """A word of the prompt and its 1-based character offset (eSpeak's ``text_position``)."""

    text: str
    offset: int


def tokenize(text: str) -> list[Token]:
    """Words of a prompt (letters and apostrophes), with their 1-based character offsets."""
    return [Token(m.group(0).lower(), m.start() + 1) for m in re.finditer(r"[A-Za-z']+", text)]


def load_symbol_map(path: Path) -> dict[str, tuple[str, ...]]:
    """Read ``conf/espeak_timit.map``: ``SYMBOL<TAB>LABEL [LABEL]`` lines, ``#`` comments."""
    mapping: dict[str, tuple[str, ...]] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) not in (2, 3):
            raise InputError(f"{path}:{lineno}: expected 'SYMBOL LABEL [LABEL]', got {line!r}")
        if parts[0] in mapping:
            raise InputError(f"{path}:{lineno}: symbol {parts[0]!r} mapped twice")
        mapping[parts[0]] = tuple(parts[1:])
    return mapping


def _trailing_zeros(audio: np.ndarray, start: int, end: int) -> int:
    """Length of the run of exact zero samples that ends at ``end`` (not reaching before ``start``)."""
    nonzero = np.flatnonzero(audio[start:end])
    return end - start if nonzero.size == 0 else end - start - 1 - int(nonzero[-1])


def _word_index(event: PhonemeEvent, tokens: list[Token]) -> int:
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].offset <= event.text_position:
            return i if event.text_position < tokens[i].offset + len(tokens[i].text) else -1
    return -1


def align(
    synthesis: Synthesis,
    tokens: list[Token],
    symbol_map: dict[str, tuple[str, ...]],
    phonemes_of: Callable[[str], list[str]],
    min_silence: int = 110,
) -> Alignment:
    """Phone and word segments of one synthesis, in samples at ``synthesis.sample_rate``.

    ``phonemes_of(word)`` gives the phonemes of a word said alone (used only to share out merged words).

    Raises:
        InputError: a phoneme symbol has no TIMIT mapping, or a word of the prompt was not spoken.
    """
    stats: Counter[str] = Counter()
    audio, num_samples = synthesis.audio, len(synthesis.audio)
    events = synthesis.phonemes
    # (start, end, symbol-without-stress, word index) from consecutive event samples.
    raw: list[list] = []
    for k, event in enumerate(events):
        end = events[k + 1].sample if k + 1 < len(events) else num_samples
        symbol = event.symbol.lstrip(STRESS_MARKS)
        if symbol not in symbol_map:
            raise InputError(f"eSpeak phoneme {symbol!r} has no TIMIT label in conf/espeak_timit.map")
        is_pause = symbol_map[symbol] == ("pau",)
        word = -1 if is_pause else _word_index(event, tokens)
        if end <= event.sample:
            if is_pause:
                stats["dropped_zero_length_pauses"] += 1
                continue
            previous = next((r for r in reversed(raw) if symbol_map[r[2]] != ("pau",)), None)
            if previous is None or previous[1] - previous[0] < 2:
                raise InputError(f"zero-length phoneme {symbol!r} at sample {event.sample} has no segment to share")
            middle = (previous[0] + previous[1]) // 2
            raw.append([middle, previous[1], symbol, word])
            previous[1] = middle
            raw.sort(key=lambda r: r[0])
            stats["zero_length_split"] += 1
            continue
        raw.append([event.sample, end, symbol, word])
    stats["merged_word_split"] = _share_mergedword_segments(raw, tokens, phonemes_of)

    phones: list[Segment] = []
    for k, (start, end, symbol, word) in enumerate(raw):
        labels = symbol_map[symbol]
        if labels == ("pau",):
            phones.append(Segment(start, end, "pau"))
            continue
        zeros = _trailing_zeros(audio, start, end)
        speech_end = end - zeros if zeros >= min_silence and end - zeros - start >= min_silence else end
        if len(labels) == 2:
            middle = (start + speech_end) // 2
            phones += [Segment(start, middle, labels[0], word), Segment(middle, speech_end, labels[1], word)]
            stats["split"] += 1
        else:
            phones.append(Segment(start, speech_end, labels[0], word))
            stats["exact"] += 1
        if speech_end < end:
            following = symbol_map[raw[k + 1][2]][0] if k + 1 < len(raw) else "pau"
            following_word = raw[k + 1][3] if k + 1 < len(raw) else -1
            if following in CLOSURE_OF:
                phones.append(Segment(speech_end, end, CLOSURE_OF[following], following_word))
                stats["closure"] += 1
            else:
                phones.append(Segment(speech_end, end, "epi"))
                stats["epi"] += 1
    phones, stats["joined_double"] = join_doubles(phones)
    phones = frame_with_silence(phones, num_samples)
    return Alignment(phones, word_segments(phones, tokens), stats)


def join_doubles(phones: list[Segment]) -> tuple[list[Segment], int]:
    """Join neighbouring segments of one word whose labels fold to the same 39-phone class (see rule 5)."""
    fold = PhoneMap.load().to39
    joined: list[Segment] = []
    count = 0
    for seg in phones:
        last = joined[-1] if joined else None
        if (
            last is not None and seg.word >= 0 and last.word == seg.word and last.end == seg.start
            and fold.get(last.label, last.label) == fold.get(seg.label, seg.label)
        ):  # fmt: skip
            label = last.label if last.end - last.start >= seg.end - seg.start else seg.label
            joined[-1] = Segment(last.start, seg.end, label, seg.word)
            count += 1
        else:
            joined.append(seg)
    return joined, count


def _share_mergedword_segments(raw: list[list], tokens: list[Token], phonemes_of: Callable[[str], list[str]]) -> int:
    """Give the words of a merged unit their phonemes (see rule 4); returns how many words were shared out."""
    spoken = {r[3] for r in raw}
    shared = 0
    i = 0
    while i < len(tokens):
        j = i + 1
        while j < len(tokens) and j not in spoken:
            j += 1
        if j > i + 1 and i in spoken:
            members = [r for r in raw if r[3] == i]
            counts = [len(phonemes_of(tokens[t].text)) for t in range(i, j - 1)]
            counts.append(len(members) - sum(counts))  # the last word's form depends on what follows it
            if counts[-1] < 1:
                words = " ".join(t.text for t in tokens[i:j])
                raise InputError(
                    f"eSpeak spoke {words!r} as one unit of {len(members)} phonemes; alone its first "
                    f"words have {counts[:-1]}"
                )
            position = 0
            for t, count in zip(range(i, j), counts, strict=True):
                for r in members[position : position + count]:
                    r[3] = t
                position += count
            shared += j - i - 1
        i = j
    return shared


def frame_with_silence(phones: list[Segment], num_samples: int) -> list[Segment]:
    """Merge neighbouring silences; leading and trailing silence becomes ``h#`` covering the whole file."""
    speech = [i for i, p in enumerate(phones) if p.label not in _SILENCES]
    if not speech:
        raise InputError("the synthesizer produced no phones")
    first, last = speech[0], speech[-1]
    body = phones[first : last + 1]
    merged: list[Segment] = []
    for seg in body:
        if merged and seg.label in _SILENCES and merged[-1].label in _SILENCES:
            merged[-1] = Segment(merged[-1].start, seg.end, "pau")
        else:
            merged.append(seg)
    head = [Segment(0, merged[0].start, "h#")] if merged[0].start > 0 else []
    tail = [Segment(merged[-1].end, num_samples, "h#")] if merged[-1].end < num_samples else []
    return head + merged + tail


def word_segments(phones: list[Segment], tokens: list[Token]) -> list[Segment]:
    """Each prompt word's span: from its first to its last phone segment (every word must have one)."""
    spans: dict[int, tuple[int, int]] = {}
    for p in phones:
        if p.word >= 0:
            start, end = spans.get(p.word, (p.start, p.end))
            spans[p.word] = (min(start, p.start), max(end, p.end))
    missing = [t.text for i, t in enumerate(tokens) if i not in spans]
    if missing:
        raise InputError(f"the synthesizer did not speak the word(s) {missing} of the prompt")
    return [Segment(*spans[i], tokens[i].text, i) for i in range(len(tokens))]


def segment_lines(segments: list[Segment]) -> str:
    """Segments as the lines of a TIMIT ``.PHN`` / ``.WRD`` file: ``start end label``."""
    return "".join(f"{s.start} {s.end} {s.label}\n" for s in segments)


def rescale_segments(segments: list[Segment], ratio: float, offset: int) -> list[Segment]:
    """Map boundaries to the output rate; segments that round to zero length are dropped (none in practice)."""
    out = []
    for s in segments:
        start, end = round(s.start * ratio) + offset, round(s.end * ratio) + offset
        if end > start:
            out.append(Segment(start, end, s.label, s.word))
    return out


def extend_silence(phones: list[Segment], num_samples: int) -> list[Segment]:
    """Stretch (or add) the leading and trailing ``h#`` over the padding around the speech."""
    head, tail = phones[0], phones[-1]
    phones = list(phones)
    if head.label == "h#":
        phones[0] = Segment(0, head.end, "h#")
    elif head.start > 0:
        phones.insert(0, Segment(0, head.start, "h#"))
    if tail.label == "h#":
        phones[-1] = Segment(tail.start, num_samples, "h#")
    elif tail.end < num_samples:
        phones.append(Segment(tail.end, num_samples, "h#"))
    return phones
