"""gatescope: a streaming speech-recognition robustness toolkit.

The package joins three parts that live in top-level folders of the repository: ``gatescope.asr`` (asr/),
``gatescope.noise`` (noise/) and ``gatescope.analysis`` (analysis/). This folder holds only the command line.
"""

__version__ = "0.1.0"
