"""Self-contained HTML reports: headings, paragraphs, tables and matplotlib figures embedded as PNG (base64),
so one file can be mailed or opened offline. Written atomically."""

from __future__ import annotations

import base64
import html
import io
import platform
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # reports are written headless
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gatescope.files import write_bytes_atomic, write_text_atomic

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}
.ok{color:#176117;font-weight:bold}.no{color:#a11;font-weight:bold}code{background:#f5f5f5;padding:0 .2em}
.small{font-size:.85em;color:#555}"""


def versions(extra: Sequence[str] = ()) -> dict[str, str]:
    """Versions of Python, the platform and the packages that shape the numbers in a report."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("gatescope", "torch", "torchaudio", "numpy", *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class HtmlReport:
    """Build a report section by section, then :meth:`write` it."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = [f"<h1>{html.escape(title)}</h1>"]

    def heading(self, text: str, level: int = 2) -> None:
        """Add a heading (``<h2>`` by default)."""
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, raw: bool = False, css: str = "") -> None:
        """Add a paragraph; ``raw`` keeps HTML markup in ``text`` instead of escaping it."""
        body = text if raw else html.escape(text)
        self.parts.append(f'<p class="{css}">{body}</p>' if css else f"<p>{body}</p>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], raw_cells: bool = False) -> None:
        """Add a table with a header row; cells are formatted and escaped unless ``raw_cells``."""
        cell = (lambda v: str(v)) if raw_cells else (lambda v: html.escape(_fmt(v)))
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, fig: Figure, caption: str = "") -> None:
        """Embed a matplotlib figure as a PNG (base64) with an optional caption, and close it."""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode()
        self.parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">')
        self.parts.append(f"<figcaption class='small'>{html.escape(caption)}</figcaption></figure>")

    def settings(self, values: dict[str, Any]) -> None:
        """Add the run's settings as a two-column table."""
        self.table(["setting", "value"], [(k, v) for k, v in values.items()])

    def write(self, path: Path) -> Path:
        """Write the page atomically to ``path``; returns it."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.paragraph(f"Written {stamp} by gatescope.", css="small")
        text = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(self.title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(self.parts)}</body></html>\n"
        )
        write_text_atomic(path, text)
        return path


def save_figure(fig: Figure, path: Path) -> None:
    """A PNG next to the report (atomic), for people who want the plots as files."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    write_bytes_atomic(path, buffer.getvalue())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)
