"""Atomic outputs: a reader never sees a half-written file, and a failed run leaves earlier output intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gatescope.errors import InputError

_UMASK = os.umask(0)
os.umask(_UMASK)  # read the process umask once: temp files are 0600, finished outputs get the usual mode


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode())


def write_table(path: Path, rows: dict[str, str]) -> None:
    """A Kaldi-style ``key value`` file, keys in ``LC_ALL=C`` order (Python's code-point order)."""
    write_text_atomic(path, "".join(f"{key} {rows[key]}\n" for key in sorted(rows)))


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh sibling folder to fill; on success it replaces ``target``, on error it is removed.

    Either the old ``target`` or the complete new one exists at every moment but the two renames at the end.
    """
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder; choose another output")
    if target.parent.exists() and not target.parent.is_dir():
        raise InputError(f"{target.parent}: exists and is not a folder; choose another output")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new"))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = target.with_name(f".{target.name}.old")
    shutil.rmtree(backup, ignore_errors=True)
    if target.exists():
        os.replace(target, backup)
    os.replace(staging, target)
    shutil.rmtree(backup, ignore_errors=True)


def _resolved(path: Path, role: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a symlink loop, 3.13 OSError
        raise InputError(f"{path}: a symbolic link loop (as the {role}); fix the link") from None


def refuse_overlap(out: Path, inputs: dict[str, Path | None]) -> None:
    """InputError when the output folder ``out`` is, lies inside, or contains one of the named ``inputs``
    (e.g. ``{"--data": data_dir}``): no command writes over, into or above what it reads; nor over a file that is
    not a folder. Called before any work starts."""
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder}: exists and is not a folder; choose another output")
    target = _resolved(out, "output")
    for name, source in inputs.items():
        if source is None:
            continue
        source = _resolved(source, name)
        if target == source or source in target.parents or target in source.parents:
            raise InputError(f"{out}: the output would overlap the input {name} {source}; choose another output")


def path_from(start: Path, path: Path) -> str:
    """``path`` relative to the folder ``start`` (e.g. ``../data/test`` from a report's folder): what a report shows
    instead of an absolute path of this machine, and still a path that resolves from where the report lies."""
    return os.path.relpath(Path(path).absolute(), Path(start).absolute())


def read_text_file(path: Path) -> str:
    """A UTF-8 text input; InputError naming the file when it is missing, a folder, or not UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a text file") from None
