"""Reading audio for gatescope: WAV, NIST SPHERE (TIMIT, WSJ) and Kaldi ``wav.scp`` pipe entries.

Everything comes back as mono float32 in [-1, 1]. Bad files are refused with one line naming the file and what
is wrong: unreadable, empty, truncated, multi-channel, with NaN or infinite samples, or at another rate than
expected. (libsndfile itself reads a truncated file silently, so the header's announced length is checked
against the bytes present.)
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from gatescope.asr.data import sphere
from gatescope.errors import InputError

# libsndfile's note on a chunk whose announced size the file does not hold: "data : 7172 (should be 3546)". (Its
# other "should be" note, "'data' chunk should be an even number of bytes", is a missing pad byte after an odd
# number of 8-bit samples: a complete file.)
_SHORT_CHUNK = re.compile(r"\(should be \d+\)")


def _check_header_length(path: Path) -> None:
    if sphere.is_sphere(path):
        sphere.check_complete(path)
        return
    info = sf.info(str(path))
    if _SHORT_CHUNK.search(info.extra_info):
        raise InputError(f"{path}: truncated audio file (header announces more data than the file holds)")


def _decode(source: str | io.BytesIO, name: str) -> tuple[np.ndarray, int]:
    try:
        audio, rate = sf.read(source, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise InputError(f"{name}: unreadable audio ({err}); WAV, FLAC, Ogg, MP3 and SPHERE are read, convert "
                         f"others first (ffmpeg -i FILE -ac 1 FILE.wav)") from None  # fmt: skip
    return audio, rate


def read_audio(
    source: str | Path, expected_rate: int | None = None, channel: int | None = None
) -> tuple[np.ndarray, int]:
    """Read mono audio from a file path or a Kaldi extended filename (``"sph2pipe -f wav x.wv1 |"``).

    ``channel`` picks one channel of a multi-channel file (0: the first, as Kaldi's ``--channel``); None expects
    mono.

    Returns:
        ``(samples, sample_rate)`` with ``samples`` float32 of shape ``(num_samples,)``.

    Raises:
        InputError: the file is missing, unreadable, empty, truncated, has more than one channel (without
            ``channel``) or not ``channel``, or its rate differs from ``expected_rate``.
    """
    text = str(source).strip()
    if text.endswith("|"):
        command = text[:-1].strip()
        result = subprocess.run(command, shell=True, capture_output=True, check=False)
        if result.returncode != 0:
            raise InputError(
                f"{command}: command failed with status {result.returncode}: "
                f"{result.stderr.decode(errors='replace').strip()[:200]}"
            )
        audio, rate = _decode(io.BytesIO(result.stdout), command)
        name = command
    else:
        path = Path(text)
        if not path.is_file():
            raise InputError(f"{path}: no such audio file")
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty audio file (0 bytes)")
        audio, rate = _decode(str(path), str(path))
        _check_header_length(path)
        name = str(path)
    if audio.shape[0] == 0:
        raise InputError(f"{name}: audio has no samples")
    if channel is not None and not 0 <= channel < audio.shape[1]:
        raise InputError(f"{name}: has {audio.shape[1]} channel(s), no channel {channel} (channels count from 0)")
    if channel is None and audio.shape[1] != 1:
        raise InputError(f"{name}: expected mono audio, found {audio.shape[1]} channels "
                         f"(pick one: stream's --channel N; in a wav.scp, 'sox FILE -t wav - remix 1 |')")  # fmt: skip
    if not np.isfinite(audio).all():
        raise InputError(f"{name}: audio contains NaN or infinite samples")
    if expected_rate is not None and rate != expected_rate:
        raise InputError(f"{name}: sample rate {rate} Hz, expected {expected_rate} Hz")
    return np.ascontiguousarray(audio[:, channel or 0]), rate


def write_resampled_copy(samples: np.ndarray, rate: int, new_rate: int, out: Path) -> int:
    """``samples`` at ``rate`` resampled to ``new_rate`` (torchaudio's windowed sinc) and written atomically as a
    16-bit WAV ``out``; returns its length in samples."""
    import torch
    import torchaudio.functional as AF

    wave = AF.resample(torch.from_numpy(samples), rate, new_rate).numpy()
    tmp = out.with_name(f".{out.name}.tmp.wav")
    sf.write(tmp, np.clip(wave, -1.0, 1.0), new_rate, subtype="PCM_16")
    tmp.replace(out)
    return len(wave)
