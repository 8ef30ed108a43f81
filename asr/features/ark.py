"""Kaldi ark/scp files through kaldi-io, with the byte offsets that ``feats.scp`` lines need.

kaldi-io prints a KALDI_ROOT warning to stderr when imported; it means nothing here, so it is silenced.
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gatescope.errors import InputError

with contextlib.redirect_stderr(io.StringIO()):
    import kaldi_io


def _write_ark(
    path: Path, items: Iterable[tuple[str, np.ndarray]], writer: Callable[[BinaryIO, np.ndarray, str], None]
) -> dict[str, str]:
    """Write ``(key, array)`` pairs to ``path`` atomically (temp file, then rename).

    Returns ``{key: "path:offset"}`` for the scp file, ``path`` absolute.
    """
    scp: dict[str, str] = {}
    absolute = path.resolve()
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            for key, array in items:
                offset = f.tell() + len(key.encode("latin1")) + 1  # the scp offset points past "key "
                writer(f, array, key)
                scp[key] = f"{absolute}:{offset}"
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return scp


def write_matrices(path: Path, items: Iterable[tuple[str, np.ndarray]]) -> dict[str, str]:
    """Binary float matrices (``FM``/``DM``), one per key, as Kaldi's ``copy-feats`` writes them."""
    return _write_ark(path, items, lambda f, m, k: kaldi_io.write_mat(f, m, key=k))


def write_int_vectors(path: Path, items: Iterable[tuple[str, np.ndarray]]) -> dict[str, str]:
    """Binary int32 vectors, as Kaldi alignments (``ali-to-phones --per-frame``) are written."""
    return _write_ark(path, items, lambda f, v, k: kaldi_io.write_vec_int(f, v.astype(np.int32), key=k))


# What kaldi-io raises for a missing, truncated or corrupt archive (it checks with assert and struct).
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    IndexError,
    AssertionError,
    MemoryError,
    struct.error,
    kaldi_io.UnknownMatrixHeader,
)


def read_matrix(rxfile: str, key: str = "") -> np.ndarray:
    """One matrix from an scp value (``path.ark:offset``); InputError naming the key, archive and offset when it
    cannot be read."""
    try:
        with warnings.catch_warnings():  # a corrupt header's sizes overflow numpy scalars before the read fails
            warnings.simplefilter("ignore", RuntimeWarning)
            return kaldi_io.read_mat(rxfile)
    except _READ_ERRORS as err:
        raise InputError(f"{rxfile}: cannot read the matrix{f' of {key}' if key else ''} ({_reason(err)})") from None


def read_int_vector(rxfile: str, key: str = "") -> np.ndarray:
    """One int32 vector from an scp value (``path.ark:offset``); errors as :func:`read_matrix`."""
    try:
        return kaldi_io.read_vec_int(rxfile)
    except _READ_ERRORS as err:
        raise InputError(f"{rxfile}: cannot read the vector{f' of {key}' if key else ''} ({_reason(err)})") from None


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else f"{type(err).__name__}: truncated or corrupt"


def read_matrix_scp(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """``(key, matrix)`` for each line of an scp file, in file order."""
    for line in path.read_text().splitlines():
        key, rxfile = line.split(maxsplit=1)
        yield key, read_matrix(rxfile, key)


def read_matrix_ark(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """``(key, matrix)`` for each entry of an ark file, in file order."""
    yield from kaldi_io.read_mat_ark(str(path))
