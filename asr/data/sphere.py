"""NIST SPHERE headers, as in TIMIT and WSJ: ``NIST_1A``, the header size, ``name -type value`` fields, ``end_head``.

soundfile (libsndfile) reads the PCM payload; this module writes files in the exact TIMIT layout and parses the
header so that a truncated file is caught by comparing ``sample_count`` with the bytes actually present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gatescope.errors import InputError

HEADER_SIZE = 1024


def encode_header(fields: Mapping[str, int | str]) -> bytes:
    """A 1024-byte SPHERE header: ints as ``-i``, strings as ``-s<len>``, padded with spaces as TIMIT's are."""
    lines = ["NIST_1A", f"   {HEADER_SIZE}"]
    for name, value in fields.items():
        lines.append(f"{name} -i {value}" if isinstance(value, int) else f"{name} -s{len(value)} {value}")
    lines.append("end_head")
    text = ("\n".join(lines) + "\n").encode("ascii")
    if len(text) > HEADER_SIZE:
        raise ValueError(f"SPHERE header of {len(text)} bytes does not fit in {HEADER_SIZE}")
    return text + b" " * (HEADER_SIZE - len(text))


def sphere_bytes(samples: np.ndarray, sample_rate: int, extra: Mapping[str, int | str] | None = None) -> bytes:
    """Mono 16-bit little-endian PCM in a TIMIT-style SPHERE file (``sample_byte_format 01``)."""
    pcm = np.asarray(samples, dtype="<i2")
    if pcm.ndim != 1:
        raise ValueError("sphere_bytes writes mono audio: expected a 1-D array")
    fields: dict[str, int | str] = dict(extra or {})
    fields.update(
        channel_count=1,
        sample_count=len(pcm),
        sample_rate=sample_rate,
        sample_min=int(pcm.min(initial=0)),
        sample_max=int(pcm.max(initial=0)),
        sample_n_bytes=2,
        sample_byte_format="01",
        sample_sig_bits=16,
    )
    return encode_header(fields) + pcm.tobytes()


def _is_int(text: str) -> bool:
    """An optionally signed run of ASCII digits (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None


def read_header(path: Path) -> dict[str, int | str]:
    """The fields of a SPHERE header. Raises InputError naming the file if it is not one."""
    with open(path, "rb") as f:
        head = f.read(16)
        if not head.startswith(b"NIST_1A"):
            raise InputError(f"{path}: not a NIST SPHERE file (no NIST_1A magic)")
        try:
            size = int(head[8:16].strip())
        except ValueError:
            raise InputError(f"{path}: SPHERE header size field is not a number") from None
        f.seek(0)
        text = f.read(size).decode("ascii", errors="replace")
    if "end_head" not in text:
        raise InputError(f"{path}: SPHERE header has no end_head (truncated header?)")
    fields: dict[str, int | str] = {"header_size": size}
    for line in text.split("end_head")[0].splitlines()[2:]:
        parts = line.split(None, 2)
        if len(parts) == 3:
            name, kind, value = parts
            if kind == "-i" and not _is_int(value):
                raise InputError(f"{path}: SPHERE header field {name} is -i but its value {value!r} is not an integer")
            fields[name] = int(value) if kind == "-i" else value
    return fields


def is_sphere(path: Path) -> bool:
    """Whether the file starts with a NIST SPHERE header."""
    with open(path, "rb") as f:
        return f.read(7) == b"NIST_1A"


def check_complete(path: Path) -> None:
    """Raise InputError if the file holds fewer sample bytes than its header announces."""
    fields = read_header(path)
    numbers = [fields.get(k) for k in ("sample_count", "sample_n_bytes", "channel_count", "header_size")]
    if not all(isinstance(v, int) for v in numbers):
        raise InputError(f"{path}: SPHERE header lacks sample_count, sample_n_bytes or channel_count")
    count, width, channels, header_size = (int(v) for v in numbers)  # type: ignore[arg-type]
    if "shorten" in str(fields.get("sample_coding", "pcm")):
        return  # compressed: the payload size says nothing
    actual = path.stat().st_size
    if actual < header_size + count * width * channels:
        raise InputError(
            f"{path}: truncated SPHERE file: header announces {count} samples, "
            f"file holds {(actual - header_size) // (width * channels)}"
        )
