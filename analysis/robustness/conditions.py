"""The conditions of a robustness run: what ``gatescope robustness`` is asked to measure.

In: the noises, SNRs and burst settings of a :class:`RobustnessConfig`. Out: the ordered list of
:class:`Condition` s (clean first, as relative degradation needs it), each with the name reports and files use.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatescope.errors import InputError
from gatescope.noise import NoiseSpec


@dataclass(frozen=True)
class RobustnessConfig:
    """What to measure. ``snrs`` holds dB values and ``clean``; ``noises`` holds noise specs
    (see :mod:`gatescope.noise.bank`); ``reverb`` without an RT60 means RT60s of :data:`REVERB_RT60S`."""

    noises: tuple[str, ...] = ("white", "pink", "babble")
    snrs: tuple[str, ...] = ("clean", "20", "10", "5", "0", "-5")
    bursts: bool = False
    burst_dur_s: float = 0.3
    burst_at: float = 0.5  # burst start as a fraction of each utterance
    burst_bins_ms: tuple[int, ...] = (0, 100, 200, 300, 400, 600)  # window edges after the burst's end
    beam: int = 0
    max_words: int = 0  # word models: the best path with 1 to max_words words (a task grammar); 0: none
    seed: int = 0
    active_only: bool = False
    anchor: str = "auto"  # "auto": PocketSphinx for word tasks; "none"; "pocketsphinx"
    jobs: int = 1  # conditions decoded at once, each in its own process (results do not depend on it)


REVERB_RT60S = (0.3, 0.6, 0.9)


@dataclass(frozen=True)
class Condition:
    """One noise condition: clean, an additive noise at an SNR, reverberation, or a burst."""

    kind: str  # "clean", "noise", "reverb" or "burst"
    noise: str = ""
    snr_db: float | None = None

    @property
    def name(self) -> str:
        """``white@10dB``, ``recorded:dishes@0dB``, ``reverb:0.6``, ``burst:pink``: recorded noises by their file
        or folder name (see :attr:`NoiseSpec.label`)."""
        if self.kind == "clean":
            return "clean"
        label = NoiseSpec.parse(self.noise).label
        if self.kind == "noise":
            return f"{label}@{self.snr_db:g}dB"
        return f"burst:{label}" if self.kind == "burst" else label


def parse_snrs(values: tuple[str, ...]) -> tuple[bool, list[float]]:
    """(whether ``clean`` is listed, the dB values)."""
    numbers = []
    for value in values:
        if value == "clean":
            continue
        try:
            numbers.append(float(value))
        except ValueError:
            raise InputError(f"--snr: {value!r} is neither a number (dB) nor 'clean'") from None
    return "clean" in values, numbers


def conditions(config: RobustnessConfig) -> list[Condition]:
    """The conditions a config asks for; clean always comes first (relative degradation needs it)."""
    _, snrs = parse_snrs(config.snrs)
    out = [Condition("clean")]
    try:
        specs = [NoiseSpec.parse(text) for text in config.noises]
    except InputError as err:
        raise InputError(f"--noise: {err}") from None
    for spec in specs:
        if spec.additive:
            out += [Condition("noise", str(spec), snr) for snr in snrs]
        elif spec.arg:
            out.append(Condition("reverb", str(spec)))
        else:
            out += [Condition("reverb", f"reverb:{rt60}") for rt60 in REVERB_RT60S]
    if config.bursts:
        out += [Condition("burst", str(spec)) for spec in specs if spec.additive]
    return out
