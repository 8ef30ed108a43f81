"""Noise specifications (``pink``, ``babble:8``, ``file:DIR``, ``reverb:0.6`` ...) and the bank that renders them.

A spec is ``KIND[:ARG]``:

=================  =====================================================================================
``white`` ...      coloured noise: ``white pink brown blue violet``
``babble[:K]``     K talkers (default 5) from the bank's pool of other speakers' utterances
``file:PATH``      a noise recording or a folder of them (MUSAN/NOISEX-style), looped, random offset
``hum[:HZ]``       mains hum, 50 Hz by default
``clicks[:RATE]``  impulsive clicks, RATE per second (default 4)
``reverb[:X]``     reverberation: X an RT60 in seconds (default 0.5, a synthetic room) or a folder/file of RIRs
=================  =====================================================================================

All but ``reverb`` are additive (mixed at an SNR); ``reverb`` convolves and has no SNR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import Tensor

from gatescope.errors import InputError
from gatescope.noise.colored import COLOR_EXPONENTS, colored
from gatescope.noise.mixing import mix
from gatescope.noise.reverb import reverberate, synthetic_rir
from gatescope.noise.sources import babble, clicks, file_noise, hum, load_noise_files

KINDS = (*COLOR_EXPONENTS, "babble", "file", "hum", "clicks", "reverb")
DEFAULT_RT60_S = 0.5
ROOMS_PER_RT60 = 4  # synthetic rooms drawn per RT60; utterances cycle through them (RIRs are cached)


@dataclass(frozen=True)
class NoiseSpec:
    """One noise type, parsed from ``KIND[:ARG]``."""

    kind: str
    arg: str = ""

    @classmethod
    def parse(cls, text: str) -> NoiseSpec:
        """Parse ``KIND[:ARG]``; raises InputError for an unknown kind or a bad argument."""
        kind, _, arg = text.strip().partition(":")
        if kind not in KINDS:
            raise InputError(f"unknown noise {text!r}; kinds: {', '.join(KINDS)} (e.g. pink, babble:8, file:DIR)")
        if kind in COLOR_EXPONENTS and arg:
            raise InputError(f"noise {text!r}: colours take no argument")
        if kind == "file" and not arg:
            raise InputError("noise 'file' needs a path: file:DIR or file:NOISE.wav")
        spec = cls(kind, arg)
        spec.number()  # validates numeric arguments early
        return spec

    @property
    def additive(self) -> bool:
        return self.kind != "reverb"

    def number(self) -> float | None:
        """The numeric argument of babble/hum/clicks/reverb (talkers, Hz, rate, RT60), or None."""
        if not self.arg or self.kind == "file" or (self.kind == "reverb" and not _is_number(self.arg)):
            return None
        if not _is_number(self.arg) or float(self.arg) <= 0:
            raise InputError(f"noise '{self}': {self.arg!r} is not a positive number")
        return float(self.arg)

    @property
    def label(self) -> str:
        """The name reports and file names use: a recorded noise is ``recorded:<file or folder name>``, never a
        path of the machine that ran it; the other kinds are written as parsed."""
        if self.kind == "file":
            path = Path(self.arg.rstrip("/"))
            return f"recorded:{path.stem if path.suffix else path.name}"
        return str(self)

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class NoiseBank:
    """Renders noise specs at a sample rate. Holds what the specs draw from: a babble pool of
    ``(speaker, waveform)`` pairs and the recordings/RIRs loaded once per path."""

    sample_rate: int = 16000
    babble_pool: Sequence[tuple[str, Tensor]] = ()
    _files: dict[str, list[Tensor]] = field(default_factory=dict, repr=False)
    _rirs: dict[tuple[str, int], Tensor] = field(default_factory=dict, repr=False)

    def noise(
        self, spec: NoiseSpec | str, num_samples: int, seed: int = 0, exclude_speaker: str | None = None
    ) -> Tensor:
        """``(num_samples,)`` float32 of an additive noise at the reference RMS, reproducible by ``seed``.
        ``exclude_speaker`` keeps a speaker's own voice out of babble."""
        spec = NoiseSpec.parse(spec) if isinstance(spec, str) else spec
        if spec.kind in COLOR_EXPONENTS:
            return colored(spec.kind, num_samples, seed)
        if spec.kind == "babble":
            pool = [wave for speaker, wave in self.babble_pool if speaker != exclude_speaker]
            if not pool:
                raise InputError(
                    "babble needs other speakers' utterances and this pool has none (e.g. --babble-data DIR)"
                )
            return babble(pool, num_samples, int(spec.number() or 5), seed)
        if spec.kind == "file":
            if spec.arg not in self._files:
                self._files[spec.arg] = [w for _, w in load_noise_files(Path(spec.arg), self.sample_rate)]
            return file_noise(self._files[spec.arg], num_samples, seed)
        if spec.kind == "hum":
            return hum(num_samples, self.sample_rate, spec.number() or 50.0)
        if spec.kind == "clicks":
            return clicks(num_samples, self.sample_rate, spec.number() or 4.0, seed)
        raise InputError(f"noise '{spec}' is not additive")

    def rir(self, spec: NoiseSpec | str, seed: int = 0) -> Tensor:
        """The room impulse response a ``reverb`` spec gives for ``seed`` (one of a few rooms or files)."""
        spec = NoiseSpec.parse(spec) if isinstance(spec, str) else spec
        if spec.kind != "reverb":
            raise InputError(f"noise '{spec}' is not reverberation")
        rt60 = spec.number() if spec.arg else DEFAULT_RT60_S
        if rt60 is not None:
            key = (str(rt60), seed % ROOMS_PER_RT60)
            if key not in self._rirs:
                self._rirs[key] = synthetic_rir(rt60, self.sample_rate, seed=key[1])
            return self._rirs[key]
        if spec.arg not in self._files:
            self._files[spec.arg] = [w for _, w in load_noise_files(Path(spec.arg), self.sample_rate)]
        rirs = self._files[spec.arg]
        return rirs[int(np.random.default_rng(seed).integers(len(rirs)))]

    def perturb(
        self,
        speech: Tensor,
        spec: NoiseSpec | str,
        snr_db: float | None,
        seed: int = 0,
        exclude_speaker: str | None = None,
        active_only: bool = False,
    ) -> Tensor:
        """``speech`` ``(samples,)`` under one condition: an additive noise at ``snr_db``, or reverberation."""
        spec = NoiseSpec.parse(spec) if isinstance(spec, str) else spec
        if not spec.additive:
            return reverberate(speech, self.rir(spec, seed))
        if snr_db is None:
            raise InputError(f"noise '{spec}' needs an SNR")
        noise = self.noise(spec, speech.shape[-1], seed, exclude_speaker)
        return mix(speech, noise, snr_db, active_only, self.sample_rate)
