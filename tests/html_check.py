"""Checks that an HTML report opens as a reader sees it: every image resolves and no path of this machine shows.

``check_report`` parses the file (stdlib ``html.parser``) and decodes every ``<img>``: a ``data:image/png`` URI must
hold a PNG with a real size, any other source must be a file beside the report. Where Chromium is installed,
``chromium_image_states`` also loads a copy of the report in headless Chromium and asks the browser whether each
image decoded (``complete`` with a natural width), without a screenshot.
"""

from __future__ import annotations

import base64
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_REPORT_SCRIPT = (
    "<script>window.addEventListener('load', () => { for (const image of document.images) "
    "image.setAttribute('data-loaded', String(image.complete && image.naturalWidth > 0)); });</script>"
)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (ValueError if ``data`` is not a PNG)."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_report(path: Path, machine_paths: list[str]) -> int:
    """Assert that every image of the report at ``path`` resolves to a real picture and that none of
    ``machine_paths`` appears in it; returns the number of images."""
    html = path.read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(html)
    for source in parser.sources:
        if source.startswith("data:"):
            header, _, payload = source.partition(",")
            assert header == "data:image/png;base64", header[:40]
            data = base64.b64decode(payload, validate=True)
        else:
            assert not re.match(r"^(/|[a-z]+:)", source), f"image source is not beside the report: {source}"
            data = (path.parent / source).read_bytes()
        width, height = png_size(data)
        assert width > 10 and height > 10, (width, height)
    for machine_path in machine_paths:
        assert machine_path not in html, f"{path} shows a path of this machine: {machine_path}"
    return len(parser.sources)


def chromium() -> str | None:
    """The headless browser used for the rendering check, where installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium_image_states(path: Path, work_dir: Path) -> list[str]:
    """Open a copy of the report in headless Chromium; for each ``<img>``, ``"true"`` if the browser decoded it."""
    program = chromium()
    assert program is not None
    copy = work_dir / path.name
    copy.write_text(path.read_text(encoding="utf-8").replace("</body>", _REPORT_SCRIPT + "</body>"), encoding="utf-8")
    for sibling in path.parent.glob("*.png"):  # images referenced by file name, if any
        shutil.copy(sibling, work_dir / sibling.name)
    dom = subprocess.run(
        [program, "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
         f"--user-data-dir={work_dir / 'profile'}", "--dump-dom", copy.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    return re.findall(r'data-loaded="(\w+)"', dom)
