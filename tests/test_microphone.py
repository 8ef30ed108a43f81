"""The microphone path through real PortAudio: a private PulseAudio server with a virtual microphone (a null sink
whose monitor feeds a virtual source) plays a WAV while ``gatescope stream --mic --device pulse`` listens.

Skipped where PulseAudio's programs are missing (Debian: pulseaudio pulseaudio-utils libasound2-plugins).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import correlate

from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import read_table

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("pulseaudio", "pactl", "paplay")),
    reason="PulseAudio is not installed (Debian: pulseaudio pulseaudio-utils libasound2-plugins)",
)


def _gatescope(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gatescope", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_mic_through_portaudio_hears_the_played_wav(
    virtual_mic: dict[str, str], tiny_models: list[Path], tiny_data: Path, tmp_path: Path
) -> None:
    utt, source = next(iter(read_table(tiny_data / "test" / "wav.scp").items()))
    speech, rate = read_audio(source)
    rng = np.random.default_rng(0)
    pad = (rng.standard_normal(rate // 2) * 1e-3).astype(np.float32)
    played = tmp_path / f"{utt}.wav"
    sf.write(played, np.concatenate([pad, speech, pad]), rate, subtype="PCM_16")

    listed = _gatescope("stream", "--list-devices", env=virtual_mic).communicate(timeout=60)[0]
    assert "pulse" in listed, listed
    recorded = tmp_path / "received.wav"
    model = str(tiny_models[1])
    mic = _gatescope(
        "stream", "--model", model, "--mic", "--device", "pulse", "--seconds", str(len(speech) / rate + 2.5),
        "--record", str(recorded), env=virtual_mic,
    )  # fmt: skip
    assert mic.stderr is not None
    assert "listening" in mic.stderr.readline(), "the recogniser did not start listening"
    time.sleep(0.3)
    subprocess.run(["paplay", "--device=vspk", str(played)], env=virtual_mic, check=True, timeout=30)
    out, err = mic.communicate(timeout=60)
    assert mic.returncode == 0, err

    # The audio arrived intact: the played file lies in the capture (after PulseAudio's resampling).
    received, _ = read_audio(recorded)
    reference, _ = read_audio(played)
    lag = int(np.argmax(correlate(received, reference, mode="full", method="fft"))) - (len(reference) - 1)
    # PulseAudio may drop the start of a stream (its first 100 ms here): that falls in the file's quiet padding.
    assert -len(pad) < lag, f"the capture misses the start of the speech (lag {lag} samples)"
    skip = max(0, -lag)
    segment, reference = received[lag + skip : lag + len(reference)], reference[skip:]
    assert len(segment) == len(reference), "the capture ends before the file did"
    similarity = float(np.dot(segment, reference) / (np.linalg.norm(segment) * np.linalg.norm(reference)))
    assert similarity > 0.9, similarity
    assert abs(np.abs(segment).max() / np.abs(reference).max() - 1) < 0.1

    # What the live microphone printed is what the same audio gives as a file: the device path adds nothing.
    replay = subprocess.run(
        [sys.executable, "-m", "gatescope", "stream", "--model", model, "--wav", str(recorded)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    final = lambda text: [line for line in text.splitlines() if line.startswith("[")]  # noqa: E731
    assert final(out) == final(replay.stdout)
