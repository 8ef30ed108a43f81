"""Word n-gram language models: interpolated modified Kneser-Ney estimation and the ARPA format.

Estimation follows Chen & Goodman (1998) as KenLM's ``lmplz`` does:

* Sentences are padded as ``<s> w1 ... wn </s>``. The highest order uses raw counts; lower orders use
  *continuation counts* (the number of distinct words seen before the n-gram), except for n-grams that start with
  ``<s>``, which cannot be extended to the left and keep their raw counts.
* Per order, three discounts from the count-of-counts ``n1..n4``: ``Y = n1 / (n1 + 2 n2)``,
  ``D1 = 1 - 2Y n2/n1``, ``D2 = 2 - 3Y n3/n2``, ``D3+ = 3 - 4Y n4/n3``.
* ``p(w | h) = (a(hw) - D(a(hw))) / a(h.) + gamma(h) p(w | h')`` with
  ``gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / a(h.)``; unigrams interpolate with the uniform
  distribution over the vocabulary (including ``<unk>``, excluding ``<s>``).

The ARPA file stores, for every n-gram seen, ``log10 p(w | h)`` and, for every n-gram that is also a context, the
backoff ``log10 gamma``; an unseen n-gram's probability is the backoff of its context times the lower order's.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gatescope.errors import InputError
from gatescope.files import write_bytes_atomic, write_text_atomic

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
NO_PROB = -99.0  # ARPA's log10 probability of <s>, which is never predicted


@dataclass
class NgramLM:
    """``logprob[order][ngram]`` (log10) and ``backoff[order][ngram]`` (log10), orders from 1."""

    order: int
    logprob: dict[int, dict[tuple[str, ...], float]] = field(default_factory=dict)
    backoff: dict[int, dict[tuple[str, ...], float]] = field(default_factory=dict)

    @property
    def vocabulary(self) -> list[str]:
        return sorted(w for (w,) in self.logprob[1])

    def score(self, word: str, history: tuple[str, ...]) -> float:
        """``log10 p(word | history)`` by backing off (unknown words score as ``<unk>``)."""
        if (word,) not in self.logprob[1]:
            word = UNK
        history = history[-(self.order - 1) :] if self.order > 1 else ()
        penalty = 0.0
        while True:
            gram = (*history, word)
            found = self.logprob[len(gram)].get(gram)
            if found is not None:
                return penalty + found
            penalty += self.backoff.get(len(history), {}).get(history, 0.0) if history else 0.0
            history = history[1:]

    def sentence_logprob(self, words: list[str]) -> float:
        """log10 probability of a sentence including ``</s>``."""
        history: tuple[str, ...] = (BOS,)
        total = 0.0
        for word in [*words, EOS]:
            total += self.score(word, history)
            history = (*history, word)
        return total

    def perplexity(self, sentences: Iterable[list[str]]) -> float:
        """Perplexity on ``sentences`` (word lists), each counted with its end-of-sentence token."""
        total, tokens = 0.0, 0
        for words in sentences:
            total += self.sentence_logprob(words)
            tokens += len(words) + 1
        return 10 ** (-total / max(1, tokens))

    def write_arpa(self, path: Path) -> Path:
        """The ARPA text format (tab-separated, as KenLM and SRILM read it); ``.gz`` is compressed."""
        lines = ["", "\\data\\"]
        lines += [f"ngram {n}={len(self.logprob[n])}" for n in range(1, self.order + 1)]
        for n in range(1, self.order + 1):
            lines += ["", f"\\{n}-grams:"]
            for gram in sorted(self.logprob[n]):
                entry = f"{self.logprob[n][gram]:.6f}\t{' '.join(gram)}"
                if n < self.order and gram in self.backoff.get(n, {}):
                    entry += f"\t{self.backoff[n][gram]:.6f}"
                lines.append(entry)
        lines += ["", "\\end\\", ""]
        text = "\n".join(lines)
        if path.suffix == ".gz":
            write_bytes_atomic(path, gzip.compress(text.encode(), mtime=0))
        else:
            write_text_atomic(path, text)
        return path

    @classmethod
    def read_arpa(cls, path: Path) -> NgramLM:
        """Read an ARPA file (as written by :meth:`write_arpa` or KenLM)."""
        opener = gzip.open if path.suffix == ".gz" else open
        lm: NgramLM | None = None
        section = 0
        with opener(path, "rt") as handle:
            for lineno, raw in enumerate(handle, 1):
                line = raw.strip()
                if not line or line.startswith("ngram ") or line == "\\data\\":
                    continue
                if line == "\\end\\":
                    break
                if line.endswith("-grams:"):
                    section = int(line[1:].split("-")[0])
                    lm = lm or cls(order=0)
                    lm.order = max(lm.order, section)
                    lm.logprob[section], lm.backoff[section] = {}, {}
                    continue
                fields = line.split("\t") if "\t" in line else line.split()
                if lm is None or section == 0 or len(fields) < 2:
                    raise InputError(f"{path}:{lineno}: not an ARPA n-gram line")
                gram = tuple(fields[1].split()) if "\t" in line else tuple(fields[1 : 1 + section])
                lm.logprob[section][gram] = float(fields[0])
                rest = fields[2:] if "\t" in line else fields[1 + section :]
                if rest:
                    lm.backoff[section][gram] = float(rest[0])
        if lm is None:
            raise InputError(f"{path}: no n-gram sections (not an ARPA file)")
        return lm


def _discounts(counts: Counter[tuple[str, ...]]) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the count-of-counts (with safe fallbacks for tiny corpora)."""
    n = Counter(c for c in counts.values() if c <= 4)  # n_k: how many n-grams occur exactly k times
    n1, n2, n3, n4 = (n.get(k, 0) for k in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return 0.5, 1.0, 1.5  # too little data for the estimates: fixed, increasing discounts
    y = n1 / (n1 + 2 * n2)
    return max(0.0, 1 - 2 * y * n2 / n1), max(0.0, 2 - 3 * y * n3 / n2), max(0.0, 3 - 4 * y * n4 / n3)


def train_kneser_ney(sentences: Iterable[list[str]], order: int = 3) -> NgramLM:
    """An interpolated modified Kneser-Ney model of ``order`` from tokenised sentences (see the module doc)."""
    if order < 1:
        raise InputError(f"n-gram order must be at least 1, got {order}")
    raw: dict[int, Counter[tuple[str, ...]]] = {n: Counter() for n in range(1, order + 1)}
    for words in sentences:
        padded = [BOS, *words, EOS]
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                gram = tuple(padded[i : i + n])
                if gram != (BOS,):
                    raw[n][gram] += 1
    if not raw[1]:
        raise InputError("the LM text is empty")
    # Adjusted counts: raw at the top order and for <s>-initial grams, left-continuation counts below.
    adjusted: dict[int, Counter[tuple[str, ...]]] = {order: raw[order]}
    for n in range(order - 1, 0, -1):
        left: Counter[tuple[str, ...]] = Counter(gram[1:] for gram in raw[n + 1])
        adjusted[n] = Counter({g: (c if g[0] == BOS else left.get(g, c)) for g, c in raw[n].items()})
    vocabulary = sorted({g[0] for g in raw[1]} | {UNK})
    lm = NgramLM(order)
    lower: dict[tuple[str, ...], float] = {}  # probabilities of the order below (linear)
    for n in range(1, order + 1):
        d1, d2, d3 = _discounts(adjusted[n])
        by_context: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = defaultdict(list)
        for gram, count in adjusted[n].items():
            by_context[gram[:-1]].append((gram, count))
        probs: dict[tuple[str, ...], float] = {}
        gammas: dict[tuple[str, ...], float] = {}
        for context, grams in by_context.items():
            total = sum(c for _, c in grams)
            kept = [1 if c == 1 else 2 if c == 2 else 3 for _, c in grams]
            gamma = (d1 * kept.count(1) + d2 * kept.count(2) + d3 * kept.count(3)) / total
            gammas[context] = gamma
            for gram, count in grams:
                discount = d1 if count == 1 else d2 if count == 2 else d3
                base = 1.0 / len(vocabulary) if n == 1 else _backed_off(lower, lm, gram[1:])
                probs[gram] = (count - discount) / total + gamma * base
        if n == 1:
            gamma = gammas[()]
            for word in vocabulary:
                probs.setdefault((word,), gamma / len(vocabulary))
            probs[(BOS,)] = 0.0
        lm.logprob[n] = {g: (math.log10(p) if p > 0 else NO_PROB) for g, p in probs.items()}
        if n > 1:
            lm.backoff[n - 1] = {
                c: (math.log10(g) if g > 0 else NO_PROB) for c, g in gammas.items() if c in lm.logprob[n - 1]
            }
        lower = probs
    return lm


def _backed_off(lower: dict[tuple[str, ...], float], lm: NgramLM, gram: tuple[str, ...]) -> float:
    """p(gram) at the order below, backing off further when that order has not seen it."""
    if gram in lower:
        return lower[gram]
    return 10 ** lm.score(gram[-1], gram[:-1])


def read_sentences(path: Path) -> list[list[str]]:
    """One sentence per line, words separated by spaces (a leading utterance id is not expected)."""
    if not path.is_file():
        raise InputError(f"{path}: no such LM text file")
    return [line.split() for line in path.read_text().splitlines() if line.strip()]
