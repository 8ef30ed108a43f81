"""Perturbing a live stream chunk by chunk, with exactly the result of perturbing the whole signal at once.

:class:`StreamPerturber` adds a looped noise at a fixed level (set from an SNR against a nominal speech level,
since a stream's speech power is not known in advance), optionally only in periodic bursts, after optional
reverberation. Its state is the stream position and the reverberation history, so any chunking of the input gives
the same output (the noise is read by absolute sample index; the convolution carries its tail across chunks).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torchaudio.functional as AF
from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.bank import NoiseBank, NoiseSpec
from gatescope.noise.mixing import fit_length
from gatescope.noise.reverb import align_rir

# ITU-T P.56's customary active speech level for telephony tests; a live microphone sits near it after AGC.
NOMINAL_SPEECH_LEVEL_DB = -26.0
LOOP_SECONDS = 30.0  # length of the noise loop buffer rendered from a spec


@dataclass(frozen=True)
class BurstSchedule:
    """Bursts of ``dur_s`` seconds every ``every_s`` seconds, the first at ``first_s``."""

    every_s: float
    dur_s: float
    first_s: float

    def span(self, k: int, sample_rate: int) -> tuple[int, int]:
        """Burst ``k``'s ``(start, end)`` in samples (end exclusive); rounding per burst, so masks and spans agree."""
        begin = self.first_s + k * self.every_s
        return round(begin * sample_rate), round((begin + self.dur_s) * sample_rate)

    def mask(self, start: int, num_samples: int, sample_rate: int) -> Tensor:
        """Which of samples ``[start, start + num_samples)`` fall inside a burst."""
        out = torch.zeros(num_samples, dtype=torch.bool)
        first_k = max(0, math.floor((start / sample_rate - self.first_s - self.dur_s) / self.every_s))
        last_k = math.ceil(((start + num_samples) / sample_rate - self.first_s) / self.every_s)
        for k in range(first_k, last_k + 1):
            begin, end = self.span(k, sample_rate)
            out[max(0, begin - start) : max(0, min(num_samples, end - start))] = True
        return out

    def spans(self, num_samples: int, sample_rate: int) -> list[tuple[int, int]]:
        """Burst spans ``(start, end)`` in samples within the first ``num_samples``."""
        out, k = [], 0
        while (span := self.span(k, sample_rate))[0] < num_samples:
            out.append((span[0], min(num_samples, span[1])))
            k += 1
        return out


class StreamPerturber:
    """Stateful perturbation of a stream: ``process(chunk) -> chunk`` (float32 ``(samples,)``, any length).

    Args:
        noise: a loop buffer ``(loop_samples,)`` of additive noise, or None.
        snr_db: the noise level relative to ``speech_level_db`` (dBFS RMS of active speech).
        bursts: add the noise only inside these bursts (None: all the time).
        rir: a room impulse response to convolve the speech with first, or None.
    Samples beyond [-1, 1] are limited to it and counted in ``clipped_samples`` (a stream cannot be rescaled).
    """

    def __init__(
        self,
        noise: Tensor | None = None,
        snr_db: float | None = None,
        speech_level_db: float = NOMINAL_SPEECH_LEVEL_DB,
        bursts: BurstSchedule | None = None,
        rir: Tensor | None = None,
        sample_rate: int = 16000,
    ) -> None:
        if noise is not None and snr_db is None:
            raise InputError("a stream noise needs an SNR")
        self.sample_rate, self.bursts = sample_rate, bursts
        self.noise = None
        if noise is not None:
            rms = noise.double().pow(2).mean().sqrt()
            if rms <= 0:
                raise InputError("stream noise is silent")
            assert snr_db is not None
            self.noise = (noise.double() * (10 ** ((speech_level_db - snr_db) / 20) / rms)).float()
        # A fixed scale (unit energy) rather than the offline per-utterance RMS match, which a stream cannot know.
        self.rir = None if rir is None else align_rir(rir) / align_rir(rir).norm()
        self.reset()

    def reset(self) -> None:
        """Back to the start of a stream."""
        self.position = 0
        self.clipped_samples = 0
        self._history = torch.zeros(0 if self.rir is None else self.rir.numel() - 1)

    def noise_at(self, start: int, num_samples: int) -> Tensor:
        """The additive part for samples ``[start, start + num_samples)`` of the stream (zeros if none)."""
        if self.noise is None:
            return torch.zeros(num_samples)
        part = fit_length(self.noise, num_samples, start)
        if self.bursts is not None:
            part = part * self.bursts.mask(start, num_samples, self.sample_rate)
        return part

    def process(self, chunk: Tensor) -> Tensor:
        """The perturbed ``chunk`` (the next samples of the stream)."""
        chunk = chunk.float().reshape(-1)
        n = chunk.numel()
        speech = chunk
        if self.rir is not None:
            joined = torch.cat([self._history, chunk])
            speech = AF.fftconvolve(joined.double(), self.rir.double())[self._history.numel() : joined.numel()].float()
            self._history = joined[-self._history.numel() :] if self._history.numel() else self._history
        out = speech + self.noise_at(self.position, n)
        self.position += n
        clipped = out.abs() > 1.0
        self.clipped_samples += int(clipped.sum())
        return out.clamp(-1.0, 1.0)

    @classmethod
    def from_spec(cls, text: str, bank: NoiseBank, seed: int = 0) -> StreamPerturber:
        """Build from ``NOISE:SNR[@every=S,dur=D[,first=F]]`` (e.g. ``pink:10``, ``babble:5:0@every=3,dur=0.5``,
        ``reverb:0.6``); as the streaming command's ``--inject`` takes it."""
        head, _, schedule = text.partition("@")
        bursts = _parse_schedule(schedule, text) if schedule else None
        if head.startswith("reverb"):
            if bursts:
                raise InputError(f"--inject {text!r}: reverberation cannot come in bursts")
            return cls(rir=bank.rir(NoiseSpec.parse(head), seed), sample_rate=bank.sample_rate)
        noise_text, _, snr_text = head.rpartition(":")
        try:
            snr = float(snr_text)
        except ValueError:
            raise InputError(
                f"--inject {text!r}: expected NOISE:SNR, e.g. pink:10 or white:0@every=3,dur=0.5"
            ) from None
        spec = NoiseSpec.parse(noise_text)
        loop = bank.noise(spec, int(LOOP_SECONDS * bank.sample_rate), seed)
        return cls(noise=loop, snr_db=snr, bursts=bursts, sample_rate=bank.sample_rate)


def _parse_schedule(text: str, whole: str) -> BurstSchedule:
    values = {}
    for item in text.split(","):
        match = re.fullmatch(r"\s*(every|dur|first)\s*=\s*([0-9.]+)\s*", item)
        if not match:
            raise InputError(f"--inject {whole!r}: burst schedule must be every=S,dur=D[,first=F]")
        values[match[1]] = float(match[2])
    if "every" not in values or "dur" not in values or not 0 < values["dur"] <= values["every"]:
        raise InputError(f"--inject {whole!r}: need every=S and dur=D with 0 < D <= S")
    return BurstSchedule(values["every"], values["dur"], values.get("first", values["every"]))
