"""``gatescope download``: a recipe's outside data, from pinned URLs with their published checksums."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatescope.cli.common import Parents, Subparsers, add_command


def _download(args: argparse.Namespace) -> int:
    from gatescope.download import extract, fetch, load_resources
    from gatescope.errors import InputError
    from gatescope.resources import conf_path

    table = load_resources(args.table or conf_path("downloads.yaml"))
    unknown = [name for name in args.names if name not in table]
    if unknown:
        raise InputError(f"unknown download {unknown[0]!r}; known: {', '.join(sorted(table))}")
    for name in args.names:
        archive = fetch(table[name], args.out, progress=not args.quiet)
        if args.extract:
            unpacked = extract(archive, args.out / name)
            print(f"{name}: {archive} (verified), unpacked into {unpacked}")
        else:
            print(f"{name}: {archive} (verified)")
    return 0


def register(commands: Subparsers, parents: Parents) -> None:
    """Add ``download``."""
    download = add_command(
        commands, "download", _download, parents=[parents.base, parents.quiet],
        help="fetch a recipe's outside data (pinned URLs and checksums, resumable)",
        description="Download files named in conf/downloads.yaml (or --table FILE) into --out: each from its\n"
        "mirrors in turn, resumed where a transfer stopped (NAME.part), kept only once its published\n"
        "checksum (MD5 or SHA-256) matches. Offline, it says in one line how to pass a local copy.",
        examples=[
            "gatescope download librispeech-dev-clean --out downloads/ --extract",
            "gatescope download librispeech-test-clean librispeech-test-other --out downloads/",
        ],
    )  # fmt: skip
    download.add_argument("names", nargs="+", metavar="NAME", help="resources to fetch (see conf/downloads.yaml)")
    download.add_argument("--out", type=Path, required=True, help="folder for the files")
    download.add_argument("--extract", action="store_true", help="also unpack each archive into OUT/NAME")
    download.add_argument("--table", type=Path, help="a downloads YAML instead of the package's")
