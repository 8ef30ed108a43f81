"""Audio sources for ``gatescope stream`` (a WAV file as a simulated microphone, raw PCM on stdin, a microphone
through sounddevice) and the printers for its events (a live line on a terminal, or one JSON object per event)."""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from gatescope.asr.data.audio import read_audio
from gatescope.asr.features.online import StreamResampler
from gatescope.errors import InputError

PORTAUDIO_HINT = "microphone input needs the PortAudio library (Debian/Ubuntu: sudo apt install libportaudio2)"


@dataclass
class SourceStats:
    """What a source reports at the end: input overflows (dropped audio) and the rate it was opened at."""

    overflows: int = 0
    device_rate: int = 0
    notes: list[str] = field(default_factory=list)


def _resampled(chunks: Iterator[np.ndarray], rate: int, target: int) -> Iterator[np.ndarray]:
    if rate == target:
        yield from chunks
        return
    resampler = StreamResampler(rate, target)
    for chunk in chunks:
        yield resampler.process(chunk)


CLIPPED_LEVEL = 0.999  # a sample at or above this magnitude (of full scale 1.0) counts as clipped
CLIPPED_NOTE_FRACTION = 0.001  # noted when more of the file's samples than this are clipped


def audio_notes(name: str, audio: np.ndarray, rate: int, target_rate: int) -> list[str]:
    """What a user should know about a recording before trusting its transcript: a rate below the model's
    (the band above half its rate is empty) and clipping."""
    notes = []
    if rate < target_rate:
        notes.append(f"{name}: recorded at {rate} Hz, below the model's {target_rate} Hz: nothing above "
                     f"{rate // 2} Hz reaches the model")  # fmt: skip
    clipped = int(np.count_nonzero(np.abs(audio) >= CLIPPED_LEVEL))
    if clipped > CLIPPED_NOTE_FRACTION * audio.size:
        notes.append(f"{name}: {clipped} of {audio.size} samples clipped at full scale (recorded too loud)")
    return notes


def wav_chunks(
    path: Path,
    target_rate: int,
    chunk_ms: float,
    realtime: bool = False,
    channel: int | None = None,
    stats: SourceStats | None = None,
) -> Iterator[np.ndarray]:
    """A WAV (or any soundfile format) as a microphone: chunks of ``chunk_ms``, resampled to ``target_rate``,
    delivered at real-time pace when ``realtime``; ``channel`` picks one of a multi-channel file's. ``stats``
    gets :func:`audio_notes` on the file."""
    audio, rate = read_audio(path, channel=channel)
    if stats is not None:
        stats.notes.extend(audio_notes(str(path), audio, rate, target_rate))
    step = max(1, round(rate * chunk_ms / 1000))

    def raw() -> Iterator[np.ndarray]:
        start = time.perf_counter()
        for i, offset in enumerate(range(0, audio.size, step)):
            if realtime:  # chunk i is complete (i + 1) chunk durations after the stream began
                time.sleep(max(0.0, start + (i + 1) * step / rate - time.perf_counter()))
            yield audio[offset : offset + step]

    return _resampled(raw(), rate, target_rate)


def pcm_chunks(stream: IO[bytes], rate: int, target_rate: int, chunk_ms: float) -> Iterator[np.ndarray]:
    """Raw 16-bit little-endian mono PCM at ``rate`` (e.g. ``arecord -f S16_LE -r 16000 -c 1 -t raw``)."""
    step = max(1, round(rate * chunk_ms / 1000)) * 2

    def raw() -> Iterator[np.ndarray]:
        leftover = b""
        while True:
            data = stream.read(step)
            if not data:
                if leftover:
                    raise InputError("standard input: ended on an odd byte (not whole 16-bit samples)")
                break
            data = leftover + data
            usable = len(data) // 2 * 2
            leftover = data[usable:]
            yield np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0

    return _resampled(raw(), rate, target_rate)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:
        raise InputError(PORTAUDIO_HINT) from None
    return sounddevice


def list_devices() -> str:
    """The input devices PortAudio sees, one per line, the default marked."""
    sd = _sounddevice()
    devices = sd.query_devices()
    lines = []
    default = sd.default.device[0] if sd.default.device else -1
    for index, device in enumerate(devices):
        if device["max_input_channels"] > 0:
            mark = "*" if index == default else " "
            lines.append(f"{mark} {index}: {device['name']} ({device['default_samplerate']:.0f} Hz)")
    if not lines:
        raise InputError("no audio input device found; use --wav FILE to stream a file as a simulated microphone")
    return "\n".join(lines)


SILENT_DEVICE_S = 3.0  # no callback for this long: the input device is taken as lost


def mic_chunks(
    target_rate: int,
    chunk_ms: float,
    device: str | None,
    stats: SourceStats,
    seconds: float = 0.0,
    on_open: Callable[[], None] | None = None,
) -> Iterator[np.ndarray]:
    """Microphone audio through sounddevice: opened at ``target_rate`` when the device supports it, else at the
    device's default rate and resampled. The device opens when the first chunk is asked for, and ``on_open`` is
    called once it records (opening can take a fraction of a second; what is said before is not heard).
    Overflows are counted in ``stats``; Ctrl-C ends the stream, and so does a device that sends nothing for
    :data:`SILENT_DEVICE_S` (a note in ``stats``; the transcript so far is kept)."""
    sd = _sounddevice()
    device_id: int | str | None = int(device) if device is not None and device.isdigit() else device
    try:
        info = sd.query_devices(device_id, "input")
    except (ValueError, sd.PortAudioError) as err:
        raise InputError(f"no usable input device {device!r} ({err}); see --list-devices") from None
    rate = target_rate
    try:
        sd.check_input_settings(device=device_id, samplerate=target_rate, channels=1, dtype="float32")
    except (ValueError, sd.PortAudioError):
        rate = int(info["default_samplerate"])
        stats.notes.append(f"device does not record at {target_rate} Hz: recording at {rate} Hz and resampling")
    stats.device_rate = rate
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def callback(indata: np.ndarray, frames: int, when: Any, status: Any) -> None:
        if status.input_overflow:
            stats.overflows += 1
        blocks.put(indata[:, 0].copy())

    def raw() -> Iterator[np.ndarray]:
        block = max(1, round(rate * chunk_ms / 1000))
        try:
            stream = sd.InputStream(
                device=device_id, samplerate=rate, channels=1, dtype="float32", blocksize=block, callback=callback
            )
        except sd.PortAudioError as err:
            raise InputError(f"cannot open the microphone: {err}") from None
        received = 0
        with stream:
            if on_open is not None:
                on_open()
            try:
                while not seconds or received < seconds * rate:
                    try:
                        chunk = blocks.get(timeout=SILENT_DEVICE_S)
                    except queue.Empty:  # a device that was unplugged, or never delivers: end with what we have
                        stats.notes.append(f"the device sent no audio for {SILENT_DEVICE_S:g} s (lost?): stopped")
                        return
                    received += chunk.size
                    yield chunk
            except KeyboardInterrupt:
                return

    return _resampled(raw(), rate, target_rate)


def stdin_bytes() -> IO[bytes]:
    """Standard input as bytes (raw PCM)."""
    return sys.stdin.buffer
