"""A whole streaming session, as ``gatescope stream`` runs it: a source of audio chunks -> :class:`Recognizer`
(optionally with live noise injection) -> events printed as they come (partials in place, finals on their own
line, or JSON lines).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from gatescope.asr.decoding.grammar import word_count_grammar
from gatescope.asr.streaming import sources
from gatescope.asr.streaming.recognizer import Event, Recognizer
from gatescope.errors import ConfigError


@dataclass(frozen=True)
class StreamSettings:
    """What to stream from and how: exactly one of ``mic``, ``wav``, ``stdin_pcm``."""

    model: Path
    mic: bool = False
    wav: Path | None = None
    channel: int | None = None  # of a multi-channel --wav (0: the first); None: the file must be mono
    stdin_pcm: bool = False
    realtime: bool = False
    rate: int | None = None  # of --stdin-pcm (default: the model's)
    chunk_ms: float = 100.0
    beam: int = 0
    max_words: int = 0  # word models: each final the best path of 1 to max_words words; 0: no grammar
    cmvn: str | None = None  # None: as the model was trained
    endpoint_ms: float = 600.0
    json: bool = False
    inject: str | None = None
    show_memory: bool = False
    babble_data: Path | None = None
    seed: int = 0
    device: str | None = None
    seconds: float = 0.0
    record: Path | None = None  # also write the audio as the recogniser received it (16-bit WAV, model rate)


class Printer:
    """Shows events: partials rewritten in place on a terminal, finals on their own line; or JSON lines."""

    def __init__(self, out: IO[str], as_json: bool, show_memory: bool) -> None:
        self.out, self.as_json, self.show_memory = out, as_json, show_memory
        self.live = out.isatty() and not as_json
        self.width = 0

    def show(self, events: list[Event], memory: list[float]) -> None:
        """Print ``events``, with the per-layer memory distances when asked to."""
        for event in events:
            if self.as_json:
                record = event.as_dict()
                if self.show_memory and memory:
                    record["memory"] = [round(m, 3) for m in memory]
                self.out.write(json.dumps(record) + "\n")
            elif event.kind == "final":
                self._line(f"[{event.start_s:7.2f}-{event.end_s:7.2f}] {event.text}", end="\n")
            elif self.live:
                suffix = f"   |memory {' '.join(f'{m:.2f}' for m in memory)}" if self.show_memory and memory else ""
                self._line(f"... {event.text[-100:]}{suffix}", end="")
        self.out.flush()

    def end(self, text: str, seconds: float) -> None:
        """JSON only: the stream's last record, ``{"type": "end"}`` with the whole transcript (empty when nothing was
        recognised) and the audio's length, so a program reading the stream always learns that it ended."""
        if self.as_json:
            self.out.write(json.dumps({"type": "end", "text": text, "start": 0.0, "end": round(seconds, 3)}) + "\n")
            self.out.flush()

    def _line(self, text: str, end: str) -> None:
        if self.live:
            pad = max(0, self.width - len(text))
            self.out.write("\r" + text + " " * pad + end)
            self.width = 0 if end else len(text)
        else:
            self.out.write(text + end)


def run_stream(recognizer: Recognizer, chunks: Iterator[np.ndarray], printer: Printer) -> str:
    """Feed every chunk, print the events, finish the stream; returns the whole transcript."""
    for chunk in chunks:
        printer.show(recognizer.accept(chunk), recognizer.memory_distance())
    printer.show(recognizer.finish(), recognizer.memory_distance())
    printer.end(recognizer.text, recognizer.frames * recognizer.frame_s)
    return recognizer.text


def _recognizer(settings: StreamSettings) -> Recognizer:
    """The recogniser, with a live perturber and a clean shadow when ``inject`` asks for one."""
    if settings.show_memory and not settings.inject:
        raise ConfigError("--show-memory compares with a clean shadow: it needs --inject NOISE:SNR")
    grammar = word_count_grammar(settings.max_words)
    recognizer = Recognizer(settings.model, settings.beam, settings.cmvn, settings.endpoint_ms, grammar=grammar)
    if not settings.inject:
        return recognizer
    from gatescope.asr.data.perturb import noise_bank_for
    from gatescope.noise import NoiseBank, StreamPerturber

    rate = recognizer.sample_rate
    bank = noise_bank_for(settings.babble_data, rate) if settings.babble_data else NoiseBank(sample_rate=rate)
    perturber = StreamPerturber.from_spec(settings.inject, bank, seed=settings.seed)
    return Recognizer(
        recognizer.model, settings.beam, settings.cmvn, settings.endpoint_ms, perturber, settings.show_memory,
        recognizer.features_config, recognizer.cmvn_stats, grammar=grammar,
    )  # fmt: skip


def _chunks(settings: StreamSettings, rate: int, stats: sources.SourceStats, err: IO[str]) -> Iterator[np.ndarray]:
    if settings.wav is not None:
        return sources.wav_chunks(settings.wav, rate, settings.chunk_ms, settings.realtime, settings.channel, stats)
    if settings.stdin_pcm:
        return sources.pcm_chunks(sources.stdin_bytes(), settings.rate or rate, rate, settings.chunk_ms)

    def listening() -> None:
        print("listening (Ctrl-C to stop)...", file=err, flush=True)

    return sources.mic_chunks(rate, settings.chunk_ms, settings.device, stats, settings.seconds, listening)


def _write_wav(path: Path, chunks: list[np.ndarray], rate: int) -> None:
    """The received audio as a 16-bit WAV, written atomically."""
    import soundfile as sf

    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    tmp = path.with_name(f".{path.name}.tmp.wav")
    sf.write(tmp, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16")
    tmp.replace(path)


def run_session(settings: StreamSettings, out: IO[str] | None = None, err: IO[str] | None = None) -> str:
    """Stream the chosen source through the model, printing events to ``out`` and notes to ``err`` (default: the
    process's standard output and error); returns the whole transcript."""
    out, err = out or sys.stdout, err or sys.stderr
    if sum([settings.mic, settings.wav is not None, settings.stdin_pcm]) != 1:
        raise ConfigError("choose one audio source: --mic, --wav FILE or --stdin-pcm")
    if settings.channel is not None and settings.wav is None:
        raise ConfigError("--channel picks a channel of a --wav file; the other sources are mono")
    recognizer = _recognizer(settings)
    stats = sources.SourceStats()
    chunks = _chunks(settings, recognizer.sample_rate, stats, err)
    printer = Printer(out, settings.json, settings.show_memory)
    received: list[np.ndarray] = []
    try:
        try:
            for chunk in chunks:
                if settings.record is not None:
                    received.append(chunk)
                printer.show(recognizer.accept(chunk), recognizer.memory_distance())
        except KeyboardInterrupt:
            if not settings.mic:
                raise
            # Ctrl-C is how a microphone session ends: what was heard is finished below, exit 0
        finally:  # the device closes here, before the last decode, not whenever the generator is collected
            if isinstance(chunks, Generator):
                chunks.close()
        printer.show(recognizer.finish(), recognizer.memory_distance())
        printer.end(recognizer.text, recognizer.frames * recognizer.frame_s)
    finally:  # what arrived is kept even when the device fails mid-stream
        if settings.record is not None:
            _write_wav(settings.record, received, recognizer.sample_rate)
    for note in stats.notes:
        print(f"note: {note}", file=err)
    if stats.overflows:
        print(f"warning: {stats.overflows} input overflows (audio was dropped)", file=err)
    if recognizer.perturber is not None and recognizer.perturber.clipped_samples:
        print(f"warning: {recognizer.perturber.clipped_samples} samples clipped by the injected noise", file=err)
    return recognizer.text
