"""TIMIT phone sets and the standard 61 -> 48 -> 39 folding (Lee & Hon 1989, Kaldi's phones.60-48-39.map).

Models train on the 48-phone set and are scored on 39 phones; ``q`` (glottal stop) has no mapping and is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gatescope.errors import InputError
from gatescope.resources import conf_path

TIMIT_MAP_FILE = "phones.60-48-39.map"


@dataclass(frozen=True)
class PhoneMap:
    """The folding table: ``to48[label61]`` and ``to39[label61]``; labels without a mapping (q) are dropped."""

    to48: dict[str, str]
    to39: dict[str, str]
    dropped: frozenset[str]

    @classmethod
    def load(cls, path: Path | None = None) -> PhoneMap:
        """Read the 60-48-39 phone map (default: the standard one in the package data)."""
        path = path or conf_path(TIMIT_MAP_FILE)
        to48, to39, dropped = {}, {}, set()
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) == 1:
                dropped.add(fields[0])
            elif len(fields) == 3:
                to48[fields[0]], to39[fields[0]] = fields[1], fields[2]
            else:
                raise InputError(f"{path}:{lineno}: expected 'phone61 phone48 phone39' or a lone phone to drop")
        return cls(to48, to39, frozenset(dropped))

    @property
    def labels61(self) -> list[str]:
        """Every 61-set label, the dropped ones included, sorted."""
        return sorted(set(self.to48) | self.dropped)

    @property
    def labels48(self) -> list[str]:
        return sorted(set(self.to48.values()))

    @property
    def labels39(self) -> list[str]:
        return sorted(set(self.to39.values()))

    @property
    def fold48to39(self) -> dict[str, str]:
        return {self.to48[p]: self.to39[p] for p in self.to48}

    def is_known(self, label: str) -> bool:
        """Whether ``label`` is one of the 61 TIMIT phone labels."""
        return label in self.to48 or label in self.dropped

    def fold(self, labels: list[str], num_phones: int) -> list[str]:
        """Fold a 61-set sequence to ``num_phones`` (61, 48 or 39), removing unmapped labels such as ``q``."""
        if num_phones == 61:
            return [p for p in labels if p in self.to48]
        table = {48: self.to48, 39: self.to39}.get(num_phones)
        if table is None:
            raise ValueError(f"num_phones must be 61, 48 or 39, got {num_phones}")
        return [table[p] for p in labels if p in table]
