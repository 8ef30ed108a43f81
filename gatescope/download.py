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


CHECKSUMS = ("md5", "sha256", "git-tree")


@dataclass(frozen=True)
class Resource:
    """A downloadable file: its name, mirror URLs (tried in order) and checksum: ``md5:HEX`` or ``sha256:HEX`` of
    the file, as the publisher gives it, or ``git-tree:HEX@FOLDER`` for a tar archive of a git repository (GitHub's
    release archives): the git tree hash of FOLDER inside the archive's top folder, which pins every byte of every
    file under it to a commit of the repository whatever the archive's compression."""

    name: str
    urls: tuple[str, ...]
    checksum: str
    local_hint: str = ""  # how to pass a local copy instead, e.g. "--librispeech DIR"

    def __post_init__(self) -> None:
        algorithm, _, digest = self.checksum.partition(":")
        if algorithm not in CHECKSUMS or not digest or (algorithm == "git-tree") != ("@" in digest):
            raise InputError(
                f"{self.name}: checksum must be 'md5:HEX', 'sha256:HEX' or 'git-tree:HEX@FOLDER', got {self.checksum!r}"
            )


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _git_object(kind: str, body: bytes) -> bytes:
    """The binary SHA-1 git names an object by: ``sha1(b"<kind> <size>\\0" + body)``."""
    return hashlib.sha1(f"{kind} {len(body)}".encode() + b"\0" + body, usedforsecurity=False).digest()


def git_tree_hash(files: dict[str, tuple[bytes, bool]]) -> str:
    """The hash git gives a folder holding ``files`` (path inside it -> (content, executable)), as ``git write-tree``
    would: blobs, then trees bottom up, entries in git's order (a folder sorts as its name plus ``/``)."""

    def tree(entries: dict[str, tuple[bytes, bool]]) -> bytes:
        children: dict[str, dict[str, tuple[bytes, bool]]] = {}
        items: list[tuple[str, bytes]] = []
        for path, (content, executable) in entries.items():
            head, _, rest = path.partition("/")
            if rest:
                children.setdefault(head, {})[rest] = (content, executable)
            else:
                items.append((head, f"{'100755' if executable else '100644'} {head}".encode() + b"\0"
                              + _git_object("blob", content)))  # fmt: skip
        items += [(f"{name}/", f"40000 {name}".encode() + b"\0" + tree(sub)) for name, sub in children.items()]
        return _git_object("tree", b"".join(entry for _, entry in sorted(items, key=lambda item: item[0].encode())))

    return tree(files).hex()


def _archive_folder(path: Path, folder: str) -> dict[str, tuple[bytes, bool]]:
    """The regular files under ``TOP/folder/`` of a tar archive (TOP: the archive's one top folder)."""
    files: dict[str, tuple[bytes, bool]] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            _, _, inside = member.name.partition("/")  # below the top folder
            prefix = folder.strip("/") + "/"
            if member.isfile() and inside.startswith(prefix):
                handle = tar.extractfile(member)
                assert handle is not None
                files[inside[len(prefix) :]] = (handle.read(), bool(member.mode & 0o111))
    return files


def verify(path: Path, checksum: str) -> bool:
    """Whether ``path`` has the ``md5:HEX`` / ``sha256:HEX`` / ``git-tree:HEX@FOLDER`` checksum."""
    algorithm, _, expected = checksum.partition(":")
    if algorithm == "git-tree":
        tree, _, folder = expected.partition("@")
        try:
            return git_tree_hash(_archive_folder(path, folder)) == tree.lower()
        except (tarfile.TarError, OSError, EOFError):
            return False
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
