"""Shared by the benchmark scripts: where results go and what machine made them."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
# As the gatescope command runs (gatescope/cli): PyTorch backs CPU tensors of 2 MB and more with transparent huge
# pages. Set before any large tensor exists; ``THP_MEM_ALLOC_ENABLE=0 python bench/...`` measures without.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "thp_mem_alloc_enable": os.environ.get("THP_MEM_ALLOC_ENABLE", ""),
    }


def call_times(fn: Callable[[], object], repeats: int = 3, warmup: int = 1, device: str = "cpu") -> list[float]:
    """The seconds of each of ``repeats`` timed calls after ``warmup`` untimed ones (GPU work is synchronised)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def best_time(fn: Callable[[], object], repeats: int = 3, warmup: int = 1, device: str = "cpu") -> float:
    """The fastest of ``repeats`` timed calls after ``warmup`` untimed ones: what a call can cost at best."""
    return min(call_times(fn, repeats, warmup, device))


def mean_time(fn: Callable[[], object], repeats: int = 3, warmup: int = 1, device: str = "cpu") -> float:
    """The mean of ``repeats`` timed calls after ``warmup`` untimed ones: what a run of many steps pays."""
    return sum(call_times(fn, repeats, warmup, device)) / repeats


def write_result(name: str, result: dict[str, object]) -> Path:
    """Write ``bench/results/<name>.json`` (atomically) and print it."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n")
    tmp.replace(path)
    print(path.read_text())
    return path
