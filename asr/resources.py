"""Where gatescope's data files (conf/) are, in a source checkout and in an installed wheel alike.

In the checkout ``asr/`` and ``conf/`` are siblings; in a wheel they are ``gatescope/asr`` and ``gatescope/conf``
(pyproject.toml maps both). Either way conf/ is the parent's ``conf`` folder.
"""

from __future__ import annotations

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def conf_path(name: str) -> Path:
    """The path of ``conf/<name>``; raises FileNotFoundError naming it if it is missing."""
    path = CONF_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"gatescope data file {path} is missing (broken installation?)")
    return path
