"""The files a scored decode leaves for a reader, as sclite's reports do.

In: per-utterance reference and hypothesis tokens (already folded for scoring). Out, in a folder, each written
atomically: ``hyp.txt`` and ``ref.txt`` (``utt tokens...``), ``per_utt.txt`` (counts and error rate per
utterance, then the total), ``align.txt`` (REF/HYP lines aligned, errors in upper case, ``***`` for gaps) and
``confusions.txt`` (the substitution pairs, deleted and inserted tokens, most frequent first). ``decode`` and
``score-real`` write them the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gatescope.asr.decoding.scoring import ErrorCounts, aligned_pairs, count_errors, sclite_lines
from gatescope.files import write_text_atomic

CONFUSIONS_SHOWN = 50  # rows per table of confusions.txt


@dataclass
class Confusions:
    """How often each reference token was replaced by which, deleted, and each hypothesis token inserted."""

    substitutions: Counter[tuple[str, str]] = field(default_factory=Counter)
    deletions: Counter[str] = field(default_factory=Counter)
    insertions: Counter[str] = field(default_factory=Counter)

    def add(self, pairs: list[tuple[str | None, str | None]]) -> None:
        """Count one utterance's errors from its :func:`aligned_pairs`."""
        for ref, hyp in pairs:
            if ref is not None and hyp is not None and ref != hyp:
                self.substitutions[ref, hyp] += 1
            elif hyp is None and ref is not None:
                self.deletions[ref] += 1
            elif ref is None and hyp is not None:
                self.insertions[hyp] += 1

    def render(self, limit: int = CONFUSIONS_SHOWN) -> str:
        """Three tables, most frequent first (ties in token order), ``limit`` rows each."""

        def table(title: str, counts: Counter) -> str:
            rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            head = f"{title} ({sum(counts.values())} in all, {len(counts)} distinct)\n"
            return head + "".join(f"{n:6d}  {' ==> '.join(k) if isinstance(k, tuple) else k}\n" for k, n in rows)

        tables: list[tuple[str, Counter]] = [
            ("SUBSTITUTIONS  ref ==> hyp", self.substitutions), ("DELETIONS", self.deletions),
            ("INSERTIONS", self.insertions),
        ]  # fmt: skip
        return "\n".join(table(title, counts) for title, counts in tables)


def write_score_files(out_dir: Path, refs: dict[str, list[str]], hyps: dict[str, list[str]]) -> ErrorCounts:
    """Write the five files into ``out_dir`` for every utterance of ``refs`` (a missing hypothesis is empty);
    returns the total counts."""
    total = ErrorCounts()
    confusions = Confusions()
    rows, alignments = [], []
    for utt in sorted(refs):
        ref, hyp = refs[utt], hyps.get(utt, [])
        counts = count_errors(ref, hyp)
        total.add(counts)
        pairs = aligned_pairs(ref, hyp)  # one alignment for the confusions and the REF/HYP lines
        confusions.add(pairs)
        rows.append(f"{utt} {counts.ref_words} {counts.substitutions} {counts.deletions} {counts.insertions} "
                    f"{counts.rate:.2f}\n")  # fmt: skip
        ref_line, hyp_line = sclite_lines(pairs)
        correct = counts.ref_words - counts.substitutions - counts.deletions
        alignments.append(
            f"id: ({utt})\nScores: (#C #S #D #I) {correct} {counts.substitutions} {counts.deletions} "
            f"{counts.insertions}\nREF:  {ref_line}\nHYP:  {hyp_line}\n\n"
        )
    write_text_atomic(out_dir / "hyp.txt", "".join(f"{u} {' '.join(hyps.get(u, []))}\n" for u in sorted(refs)))
    write_text_atomic(out_dir / "ref.txt", "".join(f"{u} {' '.join(refs[u])}\n" for u in sorted(refs)))
    header = "utt ref_tokens sub del ins err%\n"
    footer = f"TOTAL {total.ref_words} {total.substitutions} {total.deletions} {total.insertions} {total.rate:.2f}\n"
    write_text_atomic(out_dir / "per_utt.txt", header + "".join(rows) + footer)
    write_text_atomic(out_dir / "align.txt", "".join(alignments))
    write_text_atomic(out_dir / "confusions.txt", confusions.render())
    return total
