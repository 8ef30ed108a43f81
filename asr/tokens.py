"""CTC token tables: index 0 is the blank, then the phones (48 TIMIT phones) or the words of the training text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatescope.asr.errors import InputError
from gatescope.asr.phones import PhoneMap

BLANK = "<blk>"


@dataclass(frozen=True)
class TokenTable:
    symbols: tuple[str, ...]  # symbols[0] is the blank

    @classmethod
    def for_target(cls, target: str, train_text: dict[str, str]) -> TokenTable:
        """``phones``: the 48-phone set; ``words``: every word of the training transcripts, sorted."""
        if target == "phones":
            return cls((BLANK, *PhoneMap.load().labels48))
        if target == "words":
            return cls((BLANK, *sorted({w for line in train_text.values() for w in line.split()})))
        raise InputError(f"target must be 'phones' or 'words', got {target!r}")

    @classmethod
    def read(cls, path: Path) -> TokenTable:
        """A ``tokens.txt`` as written by :meth:`write` (``symbol id`` lines, ids 0..N-1 in order)."""
        symbols = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
        if not symbols or symbols[0] != BLANK:
            raise InputError(f"{path}: the first token must be {BLANK}")
        return cls(tuple(symbols))

    def write(self, path: Path) -> None:
        path.write_text("".join(f"{s} {i}\n" for i, s in enumerate(self.symbols)))

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str, utt: str = "") -> list[int]:
        index = {s: i for i, s in enumerate(self.symbols)}
        try:
            return [index[s] for s in text.split()]
        except KeyError as err:
            raise InputError(f"utterance {utt}: symbol {err.args[0]!r} is not in the token table") from None

    def decode(self, ids: list[int]) -> list[str]:
        return [self.symbols[i] for i in ids]
