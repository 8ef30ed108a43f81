"""Error rates with sclite-style counts: substitutions, deletions, insertions per utterance and in total.

Phone tasks are scored on the 39-phone folding (Lee & Hon): both sides are folded from the 48 training phones
and ``sil`` is dropped, as TIMIT results are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import jiwer

from gatescope.asr.phones import PhoneMap
from gatescope.asr.tokens import unspell

SCORING_DROPS = frozenset({"sil"})


@dataclass
class ErrorCounts:
    """sclite-style counts: reference words, substitutions, deletions, insertions, and the error rate."""

    ref_words: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Errors per reference token, in percent."""
        return 100.0 * self.errors / max(1, self.ref_words)

    def add(self, other: ErrorCounts) -> None:
        """Add another utterance's counts to these."""
        self.ref_words += other.ref_words
        self.substitutions += other.substitutions
        self.deletions += other.deletions
        self.insertions += other.insertions


def fold_for_scoring(tokens: list[str], target: str, phone_map: PhoneMap | None = None) -> list[str]:
    """Phones: 48 -> 39 and without ``sil``; characters: joined into words; words: unchanged."""
    if target == "chars":
        return unspell(tokens)
    if target != "phones":
        return tokens
    table = (phone_map or PhoneMap.load()).fold48to39
    return [table.get(t, t) for t in tokens if table.get(t, t) not in SCORING_DROPS]


def count_errors(reference: list[str], hypothesis: list[str]) -> ErrorCounts:
    """Levenshtein alignment counts of one utterance (an empty reference counts every token as inserted)."""
    if not reference:
        return ErrorCounts(0, 0, 0, len(hypothesis))
    if not hypothesis:
        return ErrorCounts(len(reference), 0, len(reference), 0)
    out = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    return ErrorCounts(len(reference), out.substitutions, out.deletions, out.insertions)


def score_utterances(refs: dict[str, list[str]], hyps: dict[str, list[str]]) -> ErrorCounts:
    """Total counts over every reference utterance (a missing hypothesis counts as empty)."""
    total = ErrorCounts()
    for utt, ref in refs.items():
        total.add(count_errors(ref, hyps.get(utt, [])))
    return total


def reference_errors(reference: list[str], hypothesis: list[str]) -> list[int]:
    """Errors charged to each reference token by the Levenshtein alignment of :func:`count_errors`.

    A substituted or deleted token counts 1; each inserted token is charged to the reference token it precedes
    (the last one for insertions at the end). The list sums to the utterance's error count, so errors can be
    located in time through the reference's alignment (e.g. the windows after a noise burst).
    """
    charged = [0] * len(reference)
    if not reference:
        return charged
    if not hypothesis:
        return [1] * len(reference)
    for chunk in jiwer.process_words(" ".join(reference), " ".join(hypothesis)).alignments[0]:
        if chunk.type in ("substitute", "delete"):
            for i in range(chunk.ref_start_idx, chunk.ref_end_idx):
                charged[i] += 1
        elif chunk.type == "insert":
            charged[min(chunk.ref_start_idx, len(reference) - 1)] += chunk.hyp_end_idx - chunk.hyp_start_idx
    return charged


def aligned_pairs(reference: list[str], hypothesis: list[str]) -> list[tuple[str | None, str | None]]:
    """The Levenshtein alignment of :func:`count_errors` as ``(ref, hyp)`` token pairs: equal or substituted
    tokens side by side, ``(ref, None)`` for a deletion, ``(None, hyp)`` for an insertion."""
    if not reference or not hypothesis:
        return [(r, None) for r in reference] + [(None, h) for h in hypothesis]
    pairs: list[tuple[str | None, str | None]] = []
    for chunk in jiwer.process_words(" ".join(reference), " ".join(hypothesis)).alignments[0]:
        refs = reference[chunk.ref_start_idx : chunk.ref_end_idx]
        hyps = hypothesis[chunk.hyp_start_idx : chunk.hyp_end_idx]
        if chunk.type in ("equal", "substitute"):
            pairs += list(zip(refs, hyps, strict=True))
        elif chunk.type == "delete":
            pairs += [(r, None) for r in refs]
        else:
            pairs += [(None, h) for h in hyps]
    return pairs


def sclite_alignment(reference: list[str], hypothesis: list[str]) -> tuple[str, str]:
    """sclite-style aligned REF and HYP lines of one utterance (:func:`sclite_lines`)."""
    return sclite_lines(aligned_pairs(reference, hypothesis))


def sclite_lines(pairs: list[tuple[str | None, str | None]]) -> tuple[str, str]:
    """The REF and HYP lines of :func:`aligned_pairs`: correct tokens in lower case, errors in upper case, ``***``
    for the missing side of an insertion or deletion, columns padded to equal width."""
    shown = []
    for ref, hyp in pairs:
        if ref is not None and hyp is not None:
            shown.append((ref.lower(), hyp.lower()) if ref == hyp else (ref.upper(), hyp.upper()))
        elif ref is not None:
            shown.append((ref.upper(), "*" * max(3, len(ref))))
        elif hyp is not None:
            shown.append(("*" * max(3, len(hyp)), hyp.upper()))
    widths = [max(len(r), len(h)) for r, h in shown]
    ref_line = " ".join(r.ljust(w) for (r, _), w in zip(shown, widths, strict=True)).rstrip()
    hyp_line = " ".join(h.ljust(w) for (_, h), w in zip(shown, widths, strict=True)).rstrip()
    return ref_line, hyp_line
