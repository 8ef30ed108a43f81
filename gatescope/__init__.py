"""gatescope: a streaming speech-recognition robustness toolkit.

The package joins three parts that live in top-level folders of the repository: ``gatescope.asr`` (asr/),
``gatescope.noise`` (noise/) and ``gatescope.analysis`` (analysis/), with its package data in ``gatescope.conf``
(conf/). This folder holds what they share (``errors``, ``files``: atomic writes, ``config``: YAML into
dataclasses, ``resources``: package data) and the command line (``cli/``).
"""

from pathlib import Path

__version__ = "0.1.0"

# An install (wheel, or `make setup`'s strict editable tree of links) has asr/, noise/, analysis/ and conf/ inside
# this folder. When Python finds the checkout's own gatescope/ folder instead (the repository root on sys.path, as
# `python -m pytest` or a `python` started there puts it), they are found beside it: the same files either way.
_here = Path(__file__).parent
if not (_here / "asr").is_dir() and (_here.parent / "asr" / "__init__.py").is_file():
    __path__.append(str(_here.parent))
