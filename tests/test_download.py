"""The downloader against a local HTTP server on 127.0.0.1: resume, truncation, checksum mismatch, offline."""

from __future__ import annotations

import hashlib
import http.server
import io
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatescope.cli import main
from gatescope.download import Resource, extract, fetch, load_resources, verify
from gatescope.errors import InputError
from gatescope.resources import conf_path

PAYLOAD = bytes(range(256)) * 4000  # about 1 MB


class _Server(http.server.ThreadingHTTPServer):
    """Serves ``files`` with HTTP ranges; ``cut_after`` bytes ends a response early (a dropped connection),
    ``ranges=False`` ignores range requests as some servers do."""

    files: dict[str, bytes]
    cut_after: int | None = None
    ranges: bool = True
    requests: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.headers.get("Range") or "")
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.server.ranges and self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].rstrip("-"))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if self.server.cut_after is not None:
            chunk = chunk[: self.server.cut_after]
            self.server.cut_after = None  # the next attempt goes through
        self.wfile.write(chunk)

    def log_message(self, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests = {"/data.bin": PAYLOAD}, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def _url(server: _Server, path: str = "/data.bin") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _resource(server: _Server, checksum: str | None = None) -> Resource:
    good = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    return Resource("data.bin", (_url(server),), checksum or good, "--data-dir DIR")


def test_download_verifies_and_a_second_call_reuses_the_file(server: _Server, tmp_path: Path) -> None:
    path = fetch(_resource(server), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "data.bin.part").exists()
    fetch(_resource(server), tmp_path, progress=False)
    assert len(server.requests) == 1, "a verified file is not fetched again"
    md5 = Resource("data.bin", (_url(server),), "md5:" + hashlib.md5(PAYLOAD).hexdigest())
    assert fetch(md5, tmp_path, progress=False) == path


def test_a_truncated_transfer_is_resumed_with_a_range_request(server: _Server, tmp_path: Path) -> None:
    server.cut_after = 300_000
    with pytest.raises(InputError, match="stopped at 300000 of"):
        fetch(_resource(server), tmp_path, progress=False)
    assert (tmp_path / "data.bin.part").stat().st_size == 300_000 and not (tmp_path / "data.bin").exists()
    path = fetch(_resource(server), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests[-1] == "bytes=300000-"


def test_a_server_without_ranges_restarts_from_zero(server: _Server, tmp_path: Path) -> None:
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:1000])
    server.ranges = False
    assert fetch(_resource(server), tmp_path, progress=False).read_bytes() == PAYLOAD


def test_checksum_mismatch_keeps_nothing(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="checksum mismatch"):
        fetch(_resource(server, "sha256:" + "0" * 64), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_offline_is_one_line_that_says_how_to_pass_a_local_copy(tmp_path: Path) -> None:
    resource = Resource("data.bin", ("http://127.0.0.1:9/data.bin",), "md5:" + "0" * 32, "--data-dir DIR")
    with pytest.raises(InputError, match="could not download") as info:
        fetch(resource, tmp_path, progress=False, timeout=2)
    assert "--data-dir DIR" in str(info.value) and "\n" not in str(info.value)


def test_a_mirror_is_tried_after_a_dead_url(server: _Server, tmp_path: Path) -> None:
    good = _resource(server)
    resource = Resource(good.name, (_url(server, "/missing.bin"), _url(server)), good.checksum)
    assert fetch(resource, tmp_path, progress=False).read_bytes() == PAYLOAD


def test_extract_is_atomic_and_refuses_members_outside(tmp_path: Path) -> None:
    def tar_with(name: str) -> Path:
        path = tmp_path / f"{name.replace('/', '_')}.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.size = 5
            tar.addfile(info, io.BytesIO(b"hello"))
        return path

    out = extract(tar_with("LibriSpeech/README.TXT"), tmp_path / "unpacked")
    assert (out / "LibriSpeech" / "README.TXT").read_bytes() == b"hello"
    with pytest.raises(InputError, match="cannot unpack"):
        extract(tar_with("../escape.txt"), tmp_path / "evil")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "escape.txt").exists()


def test_the_package_table_pins_every_resource() -> None:
    table = load_resources(conf_path("downloads.yaml"))
    assert "librispeech-dev-clean" in table and "fsdd" in table
    for resource in table.values():
        assert resource.urls and all(u.startswith("https://") for u in resource.urls)
        algorithm, _, digest = resource.checksum.partition(":")
        assert len(digest.partition("@")[0]) == {"md5": 32, "sha256": 64, "git-tree": 40}[algorithm]


SHARED_NOISE = Path(__file__).resolve().parents[2] / "shared" / "data" / "noise" / "doing_the_dishes.wav"


@pytest.mark.skipif(not SHARED_NOISE.is_file(), reason="needs Speech Commands' doing_the_dishes.wav beside the clone")
def test_the_pinned_recorded_noise_is_the_speech_commands_file(tmp_path: Path) -> None:
    """The SHA-256 pinned for the demo's recorded noise is that of Speech Commands' own file (a copy of it from
    the dataset, our fixture data); a file with one byte changed fails it."""
    resource = load_resources(conf_path("downloads.yaml"))["noise-dishes"]
    assert verify(SHARED_NOISE, resource.checksum)
    changed = bytearray(SHARED_NOISE.read_bytes())
    changed[1000] ^= 1
    (tmp_path / "changed.wav").write_bytes(bytes(changed))
    assert not verify(tmp_path / "changed.wav", resource.checksum)


def _repository_files() -> dict[str, bytes]:
    """A small repository: a nested folder, names whose git order differs from plain sorting, an executable."""
    return {
        "README.md": b"readme\n",
        "recordings/0_alice_0.wav": bytes(range(200)),
        "recordings/0_alice_10.wav": b"ten",
        "recordings/0_alice_1.wav": b"one",
        "recordings/a-b.wav": b"dash",
        "recordings/a/b.wav": b"nested",  # the folder "a" sorts as "a/", after "a-b.wav"
        "recordings/run.sh": b"#!/bin/sh\n",
    }


def _git_tree(root: Path, folder: str) -> str:
    """What git itself calls the tree of ``root/folder`` (the real git, as the reference)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    return git("rev-parse", f"HEAD:{folder}")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_tree_checksum_equals_git_and_pins_every_byte(server: _Server, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for name, content in _repository_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    (root / "recordings" / "run.sh").chmod(0o755)
    tree = _git_tree(root, "recordings")
    archive = tmp_path / "release.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "README.md", "repo-1.0/README.md")
        tar.add(root / "recordings", "repo-1.0/recordings")
    assert verify(archive, f"git-tree:{tree}@recordings")
    server.files["/release.tar.gz"] = archive.read_bytes()
    resource = Resource("release.tar.gz", (_url(server, "/release.tar.gz"),), f"git-tree:{tree}@recordings")
    unpacked = extract(fetch(resource, tmp_path / "dl", progress=False), tmp_path / "dl" / "release")
    assert (unpacked / "repo-1.0" / "recordings" / "a" / "b.wav").read_bytes() == b"nested"
    (root / "recordings" / "0_alice_1.wav").write_bytes(b"One")  # one byte of one file
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "recordings", "repo-1.0/recordings")
    assert not verify(archive, f"git-tree:{tree}@recordings")
    server.files["/release.tar.gz"] = archive.read_bytes()
    with pytest.raises(InputError, match="checksum mismatch"):
        fetch(resource, tmp_path / "dl2", progress=False)
    with pytest.raises(InputError, match="git-tree:HEX@FOLDER"):
        Resource("x.tar.gz", ("https://x",), f"git-tree:{tree}")


def test_download_command(server: _Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "table.yaml"
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    table.write_text(f"blob:\n  file: data.bin\n  urls: [{_url(server)}]\n  checksum: sha256:{digest}\n")
    assert main(["download", "blob", "--out", str(tmp_path / "dl"), "--table", str(table), "--quiet"]) == 0
    assert "blob: " in capsys.readouterr().out and (tmp_path / "dl" / "data.bin").read_bytes() == PAYLOAD
    assert main(["download", "nothing", "--out", str(tmp_path / "dl"), "--table", str(table)]) == 2
    assert "unknown download 'nothing'" in capsys.readouterr().err
