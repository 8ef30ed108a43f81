"""Where gatescope's package data (the ``gatescope.conf`` files: phone maps, speaker lists, eSpeak maps, voice
tables, default feature configs) is, in a source checkout, an editable install and a wheel alike."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def conf_path(name: str) -> Path:
    """The path of package data file ``name``; raises FileNotFoundError naming it if it is missing."""
    path = Path(str(files("gatescope.conf") / name))
    if not path.exists():
        raise FileNotFoundError(f"gatescope data file {path} is missing (broken installation?)")
    return path
