"""Fetching a recipe's outside data: pinned URLs, checksums, resumable transfers, atomic results.

In: a :class:`Resource` (a file name, its mirror URLs and its published checksum) and a folder. Out: the verified
file in that folder, or an :class:`~gatescope.errors.InputError` that says in one line what failed and how to pass
a local copy instead. A transfer cut short leaves ``NAME.part``; the next call asks the server for the rest (an
HTTP range request) and starts over only where the server does not offer ranges. The file gets its final name
only once its checksum matches, so a half or corrupt download is never taken for data.

Only the standard library (urllib, hashlib, tarfile): nothing to install, and proxies work as urllib knows them
(``https_proxy``).
"""

from __future__ import annotations

import hashlib
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gatescope.errors import InputError
from gatescope.files import atomic_directory

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Resource:
    """A downloadable file: its name, mirror URLs (tried in order) and checksum (``md5:HEX`` or ``sha256:HEX``,
    as the publisher gives it)."""

    name: str
    urls: tuple[str, ...]
    checksum: str
    local_hint: str = ""  # how to pass a local copy instead, e.g. "--librispeech DIR"

    def __post_init__(self) -> None:
        algorithm, _, digest = self.checksum.partition(":")
        if algorithm not in ("md5", "sha256") or not digest:
            raise InputError(f"{self.name}: checksum must be 'md5:HEX' or 'sha256:HEX', got {self.checksum!r}")


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, checksum: str) -> bool:
    """Whether ``path`` has the ``md5:HEX`` / ``sha256:HEX`` checksum."""
    algorithm, _, expected = checksum.partition(":")
    return file_digest(path, algorithm) == expected.lower()


def _transfer(url: str, part: Path, progress: bool, timeout: float) -> None:
    """Append the rest of ``url`` to ``part`` (a range request from its size; a full restart without ranges)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part file is complete
            return
        raise
    with response:
        resumed = have and response.status == 206
        total = int(response.headers.get("Content-Length") or 0) + (have if resumed else 0)
        done = have if resumed else 0
        with part.open("ab" if resumed else "wb") as out:
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                done += len(chunk)
                if progress and total:
                    print(f"\r{part.name[:-5]}: {done / 2**20:.1f} of {total / 2**20:.1f} MiB", end="", file=sys.stderr)
        if progress and total:
            print(file=sys.stderr)
        if total and done < total:
            raise urllib.error.URLError(f"the transfer stopped at {done} of {total} bytes")


def fetch(resource: Resource, folder: Path, progress: bool = True, timeout: float = 30.0) -> Path:
    """``folder/resource.name``, downloaded and verified unless it is there and verifies already.

    Raises:
        InputError: no mirror could be reached or every transfer failed (the message says how to pass a local
            copy), or the downloaded file's checksum differs from the pinned one (the file is removed).
    """
    target = folder / resource.name
    if target.is_file() and verify(target, resource.checksum):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{resource.name}.part"
    failures = []
    for url in resource.urls:
        try:
            _transfer(url, part, progress, timeout)
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {getattr(err, 'reason', err)}")
            continue
        if verify(part, resource.checksum):
            part.replace(target)
            return target
        part.unlink()  # a wrong file is never resumed
        failures.append(f"{url}: checksum mismatch (expected {resource.checksum})")
    hint = f"; or download it yourself and pass {resource.local_hint}" if resource.local_hint else ""
    raise InputError(f"{resource.name}: could not download ({'; '.join(failures)}){hint}")


def extract(archive: Path, out_dir: Path) -> Path:
    """Unpack a tar archive into ``out_dir`` atomically (a partial unpack never takes its name); members that
    would land outside it (absolute paths, ``..``, links out) are refused by tarfile's ``data`` filter."""
    try:
        with atomic_directory(out_dir) as staging, tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as err:
        raise InputError(f"{archive}: cannot unpack ({err})") from None
    return out_dir


def load_resources(path: Path) -> dict[str, Resource]:
    """The resources of a downloads YAML (``conf/downloads.yaml``): ``NAME: {file, urls, checksum, local}``."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text())
        return {
            name: Resource(entry["file"], tuple(entry["urls"]), entry["checksum"], entry.get("local", ""))
            for name, entry in raw.items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as err:
        raise InputError(f"{path}: not a downloads table ({type(err).__name__}: {err})") from None
