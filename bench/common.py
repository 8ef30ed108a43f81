"""Shared by the benchmark scripts: where results go and what machine made them."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
    }


def write_result(name: str, result: dict[str, object]) -> Path:
    """Write ``bench/results/<name>.json`` (atomically) and print it."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n")
    tmp.replace(path)
    print(path.read_text())
    return path
