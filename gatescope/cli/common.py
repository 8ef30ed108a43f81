"""What every command shares: parent parsers for common options, argument types with valid ranges, and the help
layout. Imports nothing heavy, so ``gatescope --help`` starts at once."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Callable
from dataclasses import dataclass

FORMATTER = argparse.RawDescriptionHelpFormatter
MAX_WORDS_HELP = (
    "word models: the best path with 1 to N words, the task grammar PocketSphinx's anchor uses "
    "(isolated digits: 1); 0: no grammar (the default)"
)
# --cmvn of the streaming commands: OnlineCMVN.MODES, written out so that the parsers need not import numpy
STREAM_CMVN_CHOICES = ("global", "sliding", "online", "none")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``gatescope decode: error: argument --beam: must be >= 0, got -1`` and exit
    status 2, without the usage block (``--help`` shows that). Subcommand parsers inherit the class."""

    def error(self, message: str) -> typing.NoReturn:
        """Print ``PROG: error: MESSAGE (see --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


Handler = Callable[[argparse.Namespace], int]
Subparsers = argparse._SubParsersAction  # argparse has no public name for the object add_subparsers returns


@dataclass(frozen=True)
class Parents:
    """Parent parsers a command picks from: ``base`` (``--debug``, on every command), ``quiet``, ``jobs``, ``seed``."""

    base: argparse.ArgumentParser
    quiet: argparse.ArgumentParser
    jobs: argparse.ArgumentParser
    seed: argparse.ArgumentParser


def make_parents() -> Parents:
    """The shared option groups, each defined once."""
    base = Parser(add_help=False)
    base.add_argument("--debug", action="store_true", help="debug logs, and a traceback with every error")
    quiet = Parser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", help="no progress bar (bars show only on a terminal)")
    jobs = Parser(add_help=False)
    jobs.add_argument("--jobs", type=positive_int, default=1, help="worker processes (default 1)")
    seed = Parser(add_help=False)
    seed.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    return Parents(base, quiet, jobs, seed)


def add_command(
    commands: Subparsers,
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str,
    examples: list[str],
    parents: list[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """A subcommand with its one-line ``help``, a ``description`` and an ``examples`` epilog (each runs as written)."""
    label = "example" if len(examples) == 1 else "examples"
    parser = commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"{label}:\n" + "\n".join(f"  {e}" for e in examples),
        formatter_class=FORMATTER,
        parents=parents,
    )
    parser.set_defaults(func=handler)
    return parser


def _number(text: str, kind: type, low: float, low_open: bool) -> float:
    try:
        value = kind(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or value < low or (low_open and value == low):
        raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low:g}, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (``--jobs``, ``--rate``)."""
    return int(_number(text, int, 1, False))


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (``--beam``, where 0 means greedy; ``--seed``)."""
    return int(_number(text, int, 0, False))


def positive_float(text: str) -> float:
    """A finite number > 0 (``--chunk-ms``, ``--burst-dur``)."""
    return float(_number(text, float, 0, True))


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (``--endpoint-ms``, ``--seconds``, where 0 means never)."""
    return float(_number(text, float, 0, False))


def floats(text: str) -> list[float]:
    """Comma-separated numbers (``--lm-weights 0.5,1,2``)."""
    try:
        return [float(v) for v in text.split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def snr_value(text: str) -> float | None:
    """``--snr`` values: a number in dB, or ``replace`` (a burst that replaces the speech)."""
    if text == "replace":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"SNR must be a number in dB or 'replace', got {text!r}") from None
