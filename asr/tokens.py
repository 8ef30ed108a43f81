"""CTC token tables: index 0 is the blank, then the phones (48 TIMIT phones), the words of the training text, or
its characters with ``|`` ending every word (``chars``: a word task spelled out, decoded with a lexicon and LM)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError

BLANK = "<blk>"
WORD_BOUNDARY = "|"
TARGETS = ("phones", "words", "chars")


def spell(text: str) -> list[str]:
    """``"TWO WORDS"`` -> ``T W O | W O R D S |``: the character targets of a transcript."""
    return [token for word in text.split() for token in (*word, WORD_BOUNDARY)]


def unspell(tokens: list[str]) -> list[str]:
    """Character tokens back to words (split at ``|``)."""
    return [w for w in "".join(tokens).split(WORD_BOUNDARY) if w]


@dataclass(frozen=True)
class TokenTable:
    """CTC tokens: the blank at index 0, then the symbols of the target (phones, words or characters)."""

    symbols: tuple[str, ...]  # symbols[0] is the blank
    target: str = "phones"

    @classmethod
    def for_target(cls, target: str, train_text: dict[str, str]) -> TokenTable:
        """``phones``: the 48-phone set; ``words``: every word of the training transcripts, sorted; ``chars``:
        ``|``, the alphabet and every character of the training transcripts, sorted."""
        if target == "phones":
            return cls((BLANK, *PhoneMap.load().labels48), target)
        if target == "words":
            return cls((BLANK, *sorted({w for line in train_text.values() for w in line.split()})), target)
        if target == "chars":
            seen = {c for line in train_text.values() for c in line if not c.isspace()}
            # The whole alphabet (in the transcripts' case) and the apostrophe, so that a letter the training
            # transcripts happen to lack is still a token where dev or test transcripts have it.
            alphabet = string.ascii_lowercase if any(c.islower() for c in seen) else string.ascii_uppercase
            chars = sorted((seen | set(alphabet) | {"'"}) - {WORD_BOUNDARY})
            return cls((BLANK, WORD_BOUNDARY, *chars), target)
        raise InputError(f"target must be one of {TARGETS}, got {target!r}")

    @classmethod
    def read(cls, path: Path) -> TokenTable:
        """A ``tokens.txt`` as written by :meth:`write` (``symbol id`` lines, ids 0..N-1 in order)."""
        symbols = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
        if not symbols or symbols[0] != BLANK:
            raise InputError(f"{path}: the first token must be {BLANK}")
        return cls(tuple(symbols))

    def write(self, path: Path) -> None:
        """Write ``tokens.txt`` (``symbol id`` lines, as Kaldi's ``words.txt``)."""
        path.write_text("".join(f"{s} {i}\n" for i, s in enumerate(self.symbols)))

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str, utt: str = "") -> list[int]:
        """Token ids of a transcript (spelled out for ``chars``)."""
        index = {s: i for i, s in enumerate(self.symbols)}
        try:
            return [index[s] for s in (spell(text) if self.target == "chars" else text.split())]
        except KeyError as err:
            raise InputError(f"utterance {utt}: symbol {err.args[0]!r} is not in the token table") from None

    def decode(self, ids: list[int]) -> list[str]:
        """Token ids -> their symbols."""
        return [self.symbols[i] for i in ids]
