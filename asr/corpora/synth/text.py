"""Prompts for the synthetic corpus: sentences from a template grammar over a word list (conf/synth_lexicon.yaml).

Deterministic: the same ``numpy.random.Generator`` state gives the same sentence, so a corpus is a function of
its seed. Inflections (plural, past, third person) follow English spelling rules unless the lexicon lists the
irregular form as ``base/form``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from gatescope.errors import InputError

_SLOT = re.compile(r"\{(\w+)\}")
_VOWEL_LETTERS = "aeiou"


def _sibilant_suffix(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in _VOWEL_LETTERS:
        return word[:-1] + "ies"
    return word + "s"


def plural(noun: str) -> str:
    """Regular English plural (``box`` -> ``boxes``, ``city`` -> ``cities``)."""
    return _sibilant_suffix(noun)


def third_person(verb: str) -> str:
    """Present tense third person singular (``watch`` -> ``watches``)."""
    return _sibilant_suffix(verb)


def past(verb: str) -> str:
    """Regular English past tense (``bake`` -> ``baked``, ``carry`` -> ``carried``)."""
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in _VOWEL_LETTERS:
        return verb[:-1] + "ied"
    return verb + "ed"


def _words(raw: dict, key: str) -> list[str]:
    """A word list of the lexicon file; a category the file leaves out is empty (no template may use it)."""
    return str(raw.get(key) or "").split()


def _unique(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words))


def _pairs(entries: list[str], rule) -> list[tuple[str, str]]:
    """``base`` or ``base/form`` entries -> (base, form) pairs, the form by ``rule`` when not given."""
    out = []
    for entry in entries:
        base, _, form = entry.partition("/")
        out.append((base, form or rule(base)))
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Lexicon:
    """The prompt lexicon: word lists by part of speech and sentence templates (``conf/synth_lexicon.yaml``)."""

    names: list[str]
    places: list[str]
    nouns: list[tuple[str, str]]  # (singular, plural)
    adjectives: list[str]
    verbs: list[tuple[str, str]]  # (base, past)
    intransitive_verbs: list[tuple[str, str]]
    adverbs: list[str]
    prepositions: list[str]
    times: list[str]
    numbers: list[str]
    digits: list[str]  # zero .. nine, for digit strings (phone numbers, codes) as people read them out
    templates: list[str]

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """Read and check a lexicon YAML file."""
        try:
            raw = yaml.safe_load(path.read_text())
            return cls(
                names=_unique(_words(raw, "names")),
                places=_unique(_words(raw, "places")),
                nouns=_pairs(_words(raw, "nouns"), plural),
                adjectives=_unique(_words(raw, "adjectives")),
                verbs=_pairs(_words(raw, "verbs"), past),
                intransitive_verbs=_pairs(_words(raw, "intransitive_verbs"), past),
                adverbs=_unique(_words(raw, "adverbs")),
                prepositions=_unique(_words(raw, "prepositions")),
                times=_unique(t.strip() for t in (raw.get("times") or "").split("|") if t.strip()),
                numbers=_unique(_words(raw, "numbers")),
                digits=_unique(_words(raw, "digits")),
                templates=list(raw.get("templates") or []),
            )
        except FileNotFoundError:
            raise InputError(f"{path}: no such lexicon file") from None
        except (KeyError, AttributeError, TypeError, yaml.YAMLError) as err:
            raise InputError(f"{path}: not a valid lexicon ({type(err).__name__}: {err})") from None

    def vocabulary(self) -> set[str]:
        """Every word form the grammar can produce, lower case."""
        words = {w for pair in self.nouns + self.verbs + self.intransitive_verbs for w in pair}
        words |= {third_person(b) for b, _ in self.verbs + self.intransitive_verbs}
        words |= set(
            self.names + self.places + self.adjectives + self.adverbs + self.prepositions + self.numbers + self.digits
        )
        words |= {w for phrase in self.times for w in phrase.split()}
        words |= {w for t in self.templates for w in _SLOT.sub(" ", t).replace(",", " ").split() if w.isalpha()}
        return {w.lower().strip(".,?") for w in words} | {"a", "an"}


class SentenceGenerator:
    """Fills the lexicon's templates; ``sentence(rng)`` returns one capitalised, punctuated prompt."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        lx = lexicon
        self._choices: dict[str, list[str]] = {
            "name": lx.names,
            "place": lx.places,
            "noun": [s for s, _ in lx.nouns],
            "nouns": [p for _, p in lx.nouns],
            "adj": lx.adjectives,
            "verb": [b for b, _ in lx.verbs],
            "verbed": [p for _, p in lx.verbs],
            "verbs": [third_person(b) for b, _ in lx.verbs],
            "iverb": [b for b, _ in lx.intransitive_verbs],
            "iverbed": [p for _, p in lx.intransitive_verbs],
            "iverbs": [third_person(b) for b, _ in lx.intransitive_verbs],
            "adv": lx.adverbs,
            "prep": lx.prepositions,
            "time": lx.times,
            "num": lx.numbers,
            "digit": lx.digits,
        }
        if not lx.templates:
            raise InputError("the lexicon has no templates")
        for template in lx.templates:
            for slot in _SLOT.findall(template):
                if slot != "a" and slot not in self._choices:
                    raise InputError(f"template {template!r}: unknown slot {{{slot}}}")
                if slot != "a" and not self._choices[slot]:
                    raise InputError(f"template {template!r}: the lexicon has no words for {{{slot}}}")

    def template(self, rng: np.random.Generator) -> str:
        """A template drawn uniformly."""
        return self.lexicon.templates[int(rng.integers(len(self.lexicon.templates)))]

    def sentence(self, rng: np.random.Generator, template: str | None = None) -> str:
        """One sentence from ``template`` (default: a random one), its slots filled with random words."""
        template = template if template is not None else self.template(rng)

        def fill(match: re.Match) -> str:
            slot = match.group(1)
            if slot == "a":
                return "{a}"
            options = self._choices[slot]
            return options[int(rng.integers(len(options)))]

        text = _SLOT.sub(fill, template)
        # Articles agree with the word that follows them.
        text = re.sub(
            r"\{a\} (\w)",
            lambda m: ("an " if m.group(1).lower() in _VOWEL_LETTERS else "a ") + m.group(1),
            text,
        )
        return text[0].upper() + text[1:]
