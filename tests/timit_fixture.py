"""Small corpora in the real TIMIT layout, written byte by byte as LDC ships them (for tests only).

The SPHERE header is the literal TIMIT form (``NIST_1A``, ``   1024``, the ``database_id -s5 TIMIT`` fields,
``end_head``, space padding to 1024 bytes), written here independently of gatescope's own SPHERE writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TIMIT_HEADER = """NIST_1A
   1024
database_id -s5 TIMIT
database_version -s3 1.0
utterance_id -s{id_len} {utt_id}
channel_count -i 1
sample_count -i {count}
sample_rate -i {rate}
sample_min -i {smin}
sample_max -i {smax}
sample_n_bytes -i 2
sample_byte_format -s2 01
sample_sig_bits -i 16
end_head
"""

# (phone, duration in samples): a TIMIT-like "she had" with closures.
PHONES = [("h#", 2000), ("sh", 1600), ("iy", 1800), ("hv", 900), ("ae", 2100), ("dcl", 700), ("d", 400), ("h#", 1500)]
WORDS = [("she", 2000, 5400), ("had", 5400, 9400)]


def timit_wav_bytes(samples: np.ndarray, utt_id: str, rate: int = 16000) -> bytes:
    pcm = samples.astype("<i2")
    header = TIMIT_HEADER.format(
        id_len=len(utt_id), utt_id=utt_id, count=len(pcm), rate=rate, smin=int(pcm.min()), smax=int(pcm.max())
    ).encode("ascii")
    return header + b" " * (1024 - len(header)) + pcm.tobytes()


def write_utterance(
    folder: Path, name: str, speaker: str, seed: int, upper: bool = True, phones: list[tuple[str, int]] | None = None
) -> None:
    """One utterance: WAV (SPHERE) + PHN + WRD + TXT whose phones tile the audio."""
    phones = phones or PHONES
    total = sum(d for _, d in phones)
    rng = np.random.default_rng(seed)
    audio = (rng.standard_normal(total) * 800).astype(np.int16)
    folder.mkdir(parents=True, exist_ok=True)
    ext = (lambda e: e.upper()) if upper else (lambda e: e.lower())
    stem = name.upper() if upper else name.lower()
    (folder / f"{stem}.{ext('wav')}").write_bytes(timit_wav_bytes(audio, f"{speaker.lower()[1:]}_{name.lower()}"))
    lines, t = [], 0
    for label, dur in phones:
        lines.append(f"{t} {t + dur} {label}")
        t += dur
    (folder / f"{stem}.{ext('phn')}").write_text("\n".join(lines) + "\n")
    (folder / f"{stem}.{ext('wrd')}").write_text("".join(f"{s} {e} {w}\n" for w, s, e in WORDS))
    (folder / f"{stem}.{ext('txt')}").write_text(f"0 {total} She had.\n")


def make_timit(root: Path, upper: bool = True) -> dict[str, list[str]]:
    """A TIMIT tree: 3 TRAIN speakers, 4 TEST speakers (1 dev, 2 core test, 1 in neither), SA1 for each.

    Returns the speaker lists to pass as dev/core-test lists.
    """
    case = (lambda s: s.upper()) if upper else (lambda s: s.lower())
    layout = {
        "train": [("dr1", "fcjf0"), ("dr2", "mdab1"), ("dr1", "mrws0")],
        "test": [("dr1", "faks0"), ("dr2", "mdab0"), ("dr3", "felc0"), ("dr4", "mzzz9")],
    }
    seed = 0
    for split, speakers in layout.items():
        for region, speaker in speakers:
            folder = root / case(split) / case(region) / case(speaker)
            for name in ("sa1", "sx101", "si1027"):
                seed += 1
                write_utterance(folder, name, speaker, seed, upper)
    return {"dev": ["faks0"], "test": ["mdab0", "felc0"]}
