"""The ``gatescope`` command line: one module per command group, each parsing its options and calling one
library function. Only argparse is imported at start-up, so ``gatescope --help`` answers at once.

Errors: a :class:`gatescope.errors.GatescopeError` is printed as one line and exits 2 (``--debug`` shows its
traceback); any other exception is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from gatescope import __version__
from gatescope.cli import analyze, corpus, data, decode, download, noise, prepare, robustness, stream, train
from gatescope.cli.common import FORMATTER, Parser, make_parents
from gatescope.errors import GatescopeError

GROUPS = (download, corpus, prepare, data, train, decode, noise, robustness, analyze, stream)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every group registers its commands on one parser."""
    parser = Parser(
        prog="gatescope",
        description="Streaming speech-recognition robustness toolkit: corpora, features, deep LSTM/GRU CTC "
        "models, noise injection and memory analysis.",
        epilog="Start with `make demo`, or: gatescope corpus synth corpus/ && gatescope prepare timit corpus/ "
        "data/ && gatescope features data/train",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"gatescope {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = make_parents()
    for group in GROUPS:
        group.register(commands, parents)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; ``KEY=VALUE`` overrides may also follow the options (argparse alone takes them only where
    the positional stands)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or any("=" not in e or e.startswith("-") for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*args.overrides, *extra]
    return args


def _close_progress_bars() -> None:
    """End any live progress bar, so that an error gets a line of its own."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        for bar in list(getattr(tqdm.tqdm, "_instances", ())):
            bar.close()


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 done, 1 a check failed or a bug, 2 bad input, 130 Ctrl-C)."""
    # PyTorch backs CPU tensors of 2 MB and more with transparent huge pages when this is set (its opt-in since
    # 2.2): recording every gate of every frame writes hundreds of MB of fresh buffers, whose 4 kB page faults
    # otherwise make the analysis' recordings slower and their time vary by a fifth between runs (README "Speed").
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    args = parse_args(argv)
    if getattr(args, "quiet", True) is False and not sys.stderr.isatty():
        args.quiet = True  # progress bars only on a terminal: logs and pipes get the result lines alone
    debug = getattr(args, "debug", False)
    level = logging.DEBUG if debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except GatescopeError as err:
        if debug:
            raise
        _close_progress_bars()
        print(f"gatescope: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gatescope: interrupted; finished work is kept, re-run to resume", file=sys.stderr)
        return 130
