"""Recorded network states on disk: one HDF5 file per run, plus a small JSON index beside it.

Layout (every array is per utterance, frames at the model's output rate)::

    /                       attrs: model, cell, family, num_layers, units, frame_shift_ms, gates, phones, condition
    /utts/<utt>/labels      (frames,) int16   39-phone class per frame (index into attrs["phones"]; -1: none)
    /utts/<utt>/layer<k>/<gate>   (frames, units)   e.g. i f o g c h (LSTM), z r n h (GRU), h (RNN)
    /utts/<utt>             attrs: first_frame (frames before it were not stored), burst (start, end) or absent

The analyses read these files only; they never run a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from gatescope.errors import InputError
from gatescope.files import write_text_atomic


@dataclass(frozen=True)
class RunInfo:
    """What a state file holds (its root attributes)."""

    model: str
    cell: str
    family: str  # "lstm", "gru" or "rnn": which gates exist and which state is the memory
    num_layers: int
    units: int
    frame_shift_ms: float
    gates: tuple[str, ...]
    phones: tuple[str, ...]
    condition: dict[str, Any]

    @property
    def memory(self) -> str:
        """The state that carries memory: the cell ``c`` for the LSTM family, ``h`` otherwise."""
        return "c" if self.family == "lstm" else "h"


class StateWriter:
    """Streams utterances into ``path`` (written to a temporary name, renamed when closed without error)."""

    def __init__(self, path: Path, info: RunInfo, dtype: str = "float16") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.info, self.dtype = path, info, np.dtype(dtype)
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.file = h5py.File(self.tmp, "w")
        for key, value in info.__dict__.items():
            self.file.attrs[key] = json.dumps(value) if isinstance(value, dict) else value
        self.index: list[dict[str, Any]] = []

    def add(
        self,
        utt: str,
        states: list[dict[str, np.ndarray]],
        labels: np.ndarray | None,
        first_frame: int = 0,
        burst: tuple[int, int] | None = None,
    ) -> None:
        """One utterance: ``states[layer][gate]`` ``(frames, units)`` from ``first_frame`` on; labels for all
        frames of the utterance (cut to the stored ones here)."""
        group = self.file.create_group(f"utts/{utt}")
        frames = 0
        for k, layer in enumerate(states):
            for gate in self.info.gates:
                group.create_dataset(f"layer{k}/{gate}", data=layer[gate].astype(self.dtype))
                frames = layer[gate].shape[0]
        if labels is not None:
            group.create_dataset("labels", data=labels[first_frame : first_frame + frames].astype(np.int16))
        group.attrs["first_frame"] = first_frame
        if burst is not None:
            group.attrs["burst"] = np.asarray(burst)
        self.index.append({"utt": utt, "frames": frames, "first_frame": first_frame, "burst": burst})

    def close(self) -> Path:
        """Finish the file: write the index, move it into place; returns its path."""
        self.file.close()
        self.tmp.replace(self.path)
        index = {"file": self.path.name, **{k: v for k, v in self.info.__dict__.items()}, "utterances": self.index}
        write_text_atomic(self.path.with_suffix(".json"), json.dumps(index, indent=1) + "\n")
        return self.path

    def abort(self) -> None:
        """Drop the half-written file (nothing is left behind)."""
        self.file.close()
        self.tmp.unlink(missing_ok=True)


class StateFile:
    """Read access to a recorded run."""

    def __init__(self, path: Path) -> None:
        try:
            self.file = h5py.File(path, "r")
        except OSError as err:
            raise InputError(f"{path}: not a readable state recording ({err})") from None
        attrs = dict(self.file.attrs)
        try:
            self.info = RunInfo(
                model=str(attrs["model"]),
                cell=str(attrs["cell"]),
                family=str(attrs["family"]),
                num_layers=int(attrs["num_layers"]),
                units=int(attrs["units"]),
                frame_shift_ms=float(attrs["frame_shift_ms"]),
                gates=tuple(str(g) for g in attrs["gates"]),
                phones=tuple(str(p) for p in attrs["phones"]),
                condition=json.loads(str(attrs["condition"])),
            )
        except KeyError as err:
            raise InputError(f"{path}: not a gatescope state recording (no {err} attribute)") from None
        self.path = path

    @property
    def utts(self) -> list[str]:
        return sorted(self.file["utts"])

    def state(self, utt: str, layer: int, gate: str) -> np.ndarray:
        """``(frames, units)`` float32 from the utterance's ``first_frame`` on."""
        return np.asarray(self.file[f"utts/{utt}/layer{layer}/{gate}"], dtype=np.float32)

    def labels(self, utt: str) -> np.ndarray | None:
        """The utterance's 39-phone frame label ids, or None when the run has no labels."""
        group = self.file[f"utts/{utt}"]
        return np.asarray(group["labels"], dtype=np.int64) if "labels" in group else None

    def first_frame(self, utt: str) -> int:
        """The first recorded frame of the utterance (burst runs keep frames from the burst on)."""
        return int(self.file[f"utts/{utt}"].attrs["first_frame"])

    def burst(self, utt: str) -> tuple[int, int] | None:
        """The burst's ``(start, end)`` output frames in the utterance, or None in a clean run."""
        attrs = self.file[f"utts/{utt}"].attrs
        return (int(attrs["burst"][0]), int(attrs["burst"][1])) if "burst" in attrs else None

    def frames(self, layer: int, gate: str, utts: list[str] | None = None) -> Iterator[tuple[str, np.ndarray]]:
        """``(utt, states)`` for each utterance, one at a time (memory stays bounded)."""
        for utt in utts or self.utts:
            yield utt, self.state(utt, layer, gate)

    def stacked(self, layer: int, gate: str) -> tuple[np.ndarray, np.ndarray | None]:
        """All frames of all utterances ``(frames, units)`` and their labels (None if not recorded)."""
        states = [s for _, s in self.frames(layer, gate)]
        labels = [self.labels(u) for u in self.utts]
        present = [lab for lab in labels if lab is not None]
        joined: np.ndarray | None = np.concatenate(present) if len(present) == len(labels) else None
        return np.concatenate(states), joined

    def close(self) -> None:
        """Close the HDF5 file."""
        self.file.close()
