"""The microphone path through real PortAudio: a private PulseAudio server whose microphone is the monitor of a
16 kHz null sink plays a WAV while ``gatescope stream --mic --device pulse`` listens.

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
from gatescope.asr.decoding.scoring import count_errors

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("pulseaudio", "pactl", "paplay")),
    reason="PulseAudio is not installed (Debian: pulseaudio pulseaudio-utils libasound2-plugins)",
)


def _gatescope(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gatescope", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_mic_through_portaudio_hears_the_played_wav(
    virtual_mic: dict[str, str], memorised: tuple[Path, Path], tmp_path: Path
) -> None:
    exp, train_dir = memorised  # a model that knows this utterance by heart, even behind exact zeros
    utt, source = sorted(read_table(train_dir / "wav.scp").items())[0]
    speech, rate = read_audio(source)
    rng = np.random.default_rng(0)
    pad = (rng.standard_normal(rate // 2) * 1e-3).astype(np.float32)
    lead = np.zeros(rate // 2, np.float32)  # exact digital silence, as a muted microphone sends before speech
    played = tmp_path / f"{utt}.wav"
    sf.write(played, np.concatenate([lead, pad, speech, pad]), rate, subtype="PCM_16")

    listed = _gatescope("stream", "--list-devices", env=virtual_mic).communicate(timeout=60)[0]
    assert "pulse" in listed, listed
    recorded = tmp_path / "received.wav"
    # The training set's statistics: the memorised model loses phones to any other normalisation (see
    # tests/test_digital_silence.py), and this test is about the device path, not the CMVN.
    model = str(exp)
    mic = _gatescope(
        "stream", "--model", model, "--cmvn", "global", "--mic", "--device", "pulse",
        "--seconds", str(len(speech) / rate + 3.5), "--record", str(recorded), env=virtual_mic,
    )  # fmt: skip
    assert mic.stderr is not None
    assert "listening" in mic.stderr.readline(), "the recogniser did not start listening"
    time.sleep(0.3)
    subprocess.run(["paplay", "--device=vspk", str(played)], env=virtual_mic, check=True, timeout=30)
    out, err = mic.communicate(timeout=60)
    assert mic.returncode == 0, err

    # The audio arrived intact: the played file lies in the capture, sample for sample.
    received, _ = read_audio(recorded)
    reference, _ = read_audio(played)
    lag = int(np.argmax(correlate(received, reference, mode="full", method="fft"))) - (len(reference) - 1)
    # PulseAudio's ALSA plugin drops the first block played into an idle virtual sink (100 ms here): that falls
    # in the file's leading digital silence.
    assert -len(lead) < lag, f"the capture misses the start of the speech (lag {lag} samples)"
    skip = max(0, -lag)
    segment, reference = received[lag + skip : lag + len(reference)], reference[skip:]
    assert len(segment) == len(reference), "the capture ends before the file did"
    assert np.abs(segment - reference).max() <= 1 / 32768, "the capture is not the played file"

    # What the live microphone printed is what the capture gives as a file, word for word: the device path adds
    # nothing. The played WAV gives nearly the same: the microphone also heard the exact zeros before the playback
    # (how many depends on timing), and a change before the speech may move a phone even for a model that knows
    # the utterance (measured: 'epi' and one 'ih' of 42 phones in one run of 2).
    final = lambda text: [line.split("]", 1)[1].split() for line in text.splitlines() if line.startswith("[")]  # noqa: E731
    heard = [word for line in final(out) for word in line]
    replayed = {}
    for wav in (played, recorded):
        replay = subprocess.run(
            [sys.executable, "-m", "gatescope", "stream", "--model", model, "--cmvn", "global", "--wav", str(wav)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        replayed[wav] = [word for line in final(replay.stdout) for word in line]
    assert heard == replayed[recorded], (out, replayed[recorded])
    assert len(heard) > 2, f"the model should know {utt}: {out}"
    errors = count_errors(replayed[played], heard)
    assert errors.rate <= 10.0, (heard, replayed[played])
