"""Reader fuzzing: valid files in each real format, mutated at random (bytes flipped, cut, inserted, repeated), fed
to gatescope's readers. A reader may accept a mutated file or refuse it with a GatescopeError; anything else
escaping is a bug. ``python -m tests.fuzz_readers --per-format 100000`` runs the long version (README,
Reliability); ``tests/test_fuzz.py`` runs a few thousand in ``make test``.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from gatescope.asr.corpora.timit import read_phn, read_txt, read_wrd
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table
from gatescope.asr.features import ark
from gatescope.asr.phones import PhoneMap
from gatescope.errors import GatescopeError
from tests.timit_fixture import PHONES, WORDS, timit_wav_bytes

SAMPLES = sum(n for _, n in PHONES)


def _seeds(folder: Path) -> dict[str, tuple[bytes, Callable[[Path], object]]]:
    """Each format's valid example and the reader that takes it."""
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(SAMPLES) * 1000).astype(np.int16)
    wav = io.BytesIO()
    sf.write(wav, audio, 16000, format="WAV", subtype="PCM_16")
    starts = np.cumsum([0] + [n for _, n in PHONES])
    phn = "".join(f"{s} {s + n} {p}\n" for s, (p, n) in zip(starts, PHONES, strict=False))
    wrd = "".join(f"{s} {e} {w}\n" for w, s, e in WORDS)
    table = "".join(f"spk1-utt{i} value {i}\n" for i in range(5))
    scp = ark.write_matrices(folder / "seed.ark", [(f"u{i}", rng.standard_normal((4 + i, 3))) for i in range(2)])
    offset = int(scp["u1"].rsplit(":", 1)[1])
    phone_map = PhoneMap.load()
    return {
        "sphere": (timit_wav_bytes(audio, "fcjf0_sx101"), read_audio),
        "wav": (wav.getvalue(), read_audio),
        "phn": (phn.encode(), lambda p: read_phn(p, SAMPLES, phone_map)),
        "wrd": (wrd.encode(), lambda p: read_wrd(p, SAMPLES)),
        "txt": (f"0 {SAMPLES} She had your dark suit.\n".encode(), read_txt),
        "table": (table.encode(), read_table),
        "ark": ((folder / "seed.ark").read_bytes(), lambda p: ark.read_matrix(f"{p}:{offset}", "u1")),
    }


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random mutation: flip bytes, cut the end, insert bytes, repeat a span, or drop in a tricky character."""
    out = bytearray(data)
    kind = int(rng.integers(5))
    at = int(rng.integers(len(out) + 1))
    if kind == 0 and out:
        for i in rng.integers(len(out), size=int(rng.integers(1, 8))):
            out[i] = int(rng.integers(256))
    elif kind == 1:
        del out[at:]
    elif kind == 2:
        out[at:at] = bytes(rng.integers(256, size=int(rng.integers(1, 16)), dtype=np.uint8))
    elif kind == 3:
        span = bytes(out[at : at + int(rng.integers(1, 64))])
        out[at:at] = span * int(rng.integers(1, 4))
    else:
        out[at:at] = [b"\xc2\xb2", b"\x00", b"-", b" ", b"\n", b"9" * 12, b"\xff\xfe", b"nan"][int(rng.integers(8))]
    return bytes(out)


def fuzz(per_format: int, seed: int = 0) -> dict[str, dict[str, int | list[str]]]:
    """Mutate each format ``per_format`` times; returns per format the counts accepted / refused and the escapes
    (``"ExceptionType: message"``, at most 5 kept)."""
    report: dict[str, dict[str, int | list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, (data, reader) in _seeds(folder).items():
            rng = np.random.default_rng([seed, len(name)])
            accepted = refused = 0
            escapes: list[str] = []
            path = folder / f"input.{name}"
            for _ in range(per_format):
                path.write_bytes(mutate(data, rng))
                try:
                    reader(path)
                    accepted += 1
                except GatescopeError:
                    refused += 1
                except Exception as err:  # the bug this harness looks for
                    if len(escapes) < 5:
                        escapes.append(f"{type(err).__name__}: {str(err)[:160]}")
                    else:
                        escapes.append("")
            report[name] = {"accepted": accepted, "refused": refused, "escaped": len(escapes),
                            "examples": [e for e in escapes if e][:5]}  # fmt: skip
    return report


def main() -> None:
    """Run the long fuzzing and write ``bench/results/fuzz_readers.json``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-format", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    report = fuzz(args.per_format, args.seed)
    out = Path(__file__).resolve().parents[1] / "bench" / "results" / "fuzz_readers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"per_format": args.per_format, "seconds": round(time.perf_counter() - started, 1), "formats": report}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
