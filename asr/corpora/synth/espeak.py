"""eSpeak NG through its C library (bundled by PyPI's espeakng-loader), driven with ctypes.

Why the C library and not the ``espeak-ng`` program: with ``espeakINITIALIZE_PHONEME_EVENTS`` the synth callback
receives one event per phoneme carrying its start sample, so phone boundaries are exact by construction.

The library keeps global state and is not thread-safe: use one :class:`Espeak` per process (the corpus generator
runs worker processes, never threads). It also carries state from one call to the next, which
Terminate/Initialize does not reset: waveform phase (the same text comes out a few samples longer or shorter
depending on what was said before) and translator context (``TextToPhonemes`` can change how the next synthesis
splits its first words). :func:`run_isolated` runs a piece of eSpeak work in a child forked from a process whose
eSpeak has never been used, which makes its result a pure function of its arguments, as a reproducible corpus
needs.
"""

from __future__ import annotations

import ctypes
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

# espeak_AUDIO_OUTPUT / espeakINITIALIZE_* / espeak_EVENT_TYPE / espeak_PARAMETER values from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4
_PHONEME_SEPARATOR = ord("|") << 8  # espeak_TextToPhonemes: bits 8-23 hold the separator character
_PHONEMES_IPA = 0x02  # espeak_TextToPhonemes: IPA instead of eSpeak's own phoneme names


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class PhonemeEvent:
    """One phoneme as eSpeak reports it: its symbol (stress marks kept), start sample and word's text offset."""

    symbol: str
    sample: int
    text_position: int  # 1-based character offset of the word the phoneme belongs to


@dataclass(frozen=True)
class WordEvent:
    """Start of a word: the sample where eSpeak begins it and its 1-based character offset and length."""

    sample: int
    text_position: int
    length: int


@dataclass(frozen=True)
class Synthesis:
    """What one call of :meth:`Espeak.synthesize` returns. ``audio`` is int16 at ``sample_rate`` Hz."""

    audio: np.ndarray
    sample_rate: int
    phonemes: list[PhonemeEvent]
    words: list[WordEvent]


@dataclass(frozen=True)
class VoiceSettings:
    """A speaker: an eSpeak voice (``en-us+m3``) plus rate in words/minute, pitch and pitch range (0..100)."""

    voice: str
    rate_wpm: int = 175
    pitch: int = 50
    pitch_range: int = 50

    def describe(self) -> str:
        """One line for the corpus's speaker table."""
        return f"espeak:{self.voice} rate={self.rate_wpm} pitch={self.pitch} range={self.pitch_range}"


class Espeak:
    """A handle on the eSpeak NG library of this process."""

    _instance: Espeak | None = None

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = int(
            self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_PHONEME_EVENTS)
        )
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed for data at {data_path.decode()}")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, int, str]] = []
        self._callback = _SynthCallback(self._on_synth)  # keep a reference: ctypes does not
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: VoiceSettings | None = None
        self._lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]

    @classmethod
    def get(cls) -> Espeak:
        """The process-wide instance (the library can be initialised once per process)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_synth(self, wav: ctypes._Pointer, num_samples: int, events: ctypes._Pointer) -> int:
        if num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type == _EVENT_PHONEME:
                self._events.append((e.type, e.sample, e.text_position, e.length, e.id.string.decode()))
            elif e.type == _EVENT_WORD:
                self._events.append((e.type, e.sample, e.text_position, e.length, ""))
            i += 1
        return 0

    def set_voice(self, settings: VoiceSettings) -> None:
        """Select the voice variant and set its rate, pitch and pitch range for the next synthesis."""
        if settings == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(settings.voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {settings.voice!r}")
        for param, value in (
            (_PARAM_RATE, settings.rate_wpm),
            (_PARAM_PITCH, settings.pitch),
            (_PARAM_RANGE, settings.pitch_range),
        ):
            self._lib.espeak_SetParameter(param, value, 0)
        self._voice = settings

    def word_phonemes(self, word: str, settings: VoiceSettings) -> list[str]:
        """The phoneme symbols eSpeak gives ``word`` said alone (stress marks kept), in the voice's dialect."""
        return [
            p
            for clause in self.clause_phonemes(word, settings)
            for chunk in clause.split()
            for p in chunk.split("|")
            if p
        ]

    def clause_phonemes(self, text: str, settings: VoiceSettings, ipa: bool = False) -> list[str]:
        """eSpeak's phonemization of ``text``, one string per clause (the library stops at each clause's
        punctuation, which it drops): phonemes separated by ``|``, words by a space, stress marks kept; IPA
        (as Piper's voices read it) where ``ipa``, else eSpeak's phoneme names."""
        self.set_voice(settings)
        buffer = ctypes.c_char_p(text.encode())
        mode = _PHONEME_SEPARATOR | (_PHONEMES_IPA if ipa else 0)
        clauses: list[str] = []
        while buffer.value:
            result = self._lib.espeak_TextToPhonemes(ctypes.byref(buffer), _CHARS_UTF8, mode)
            clauses.append((result or b"").decode().strip())
        return clauses

    def synthesize(self, text: str, settings: VoiceSettings) -> Synthesis:
        """Speak ``text`` (plain text, UTF-8) and return int16 audio with phoneme and word events.

        The result depends on earlier calls (see the module docstring): wrap the work in :func:`run_isolated`
        where reproducibility matters.
        """
        self.set_voice(settings)
        self._chunks, self._events = [], []
        encoded = text.encode()
        self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        phonemes = [PhonemeEvent(sym, s, pos) for t, s, pos, _, sym in self._events if t == _EVENT_PHONEME]
        words = [WordEvent(s, pos, n) for t, s, pos, n, _ in self._events if t == _EVENT_WORD]
        return Synthesis(audio.astype(np.int16), self.sample_rate, phonemes, words)


T = TypeVar("T")


def run_isolated(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child; its result (or exception) comes back pickled.

    Call it from a process that never uses eSpeak itself, and every call starts from the same eSpeak state.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: do the work, send the result, exit without running the parent's cleanup
        status = 0
        try:
            os.close(read_fd)
            try:
                payload = pickle.dumps((True, fn(*args)))
            except Exception as err:  # report to the parent instead of dying silently
                payload = pickle.dumps((False, err))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not payload or status != 0:
        raise RuntimeError(f"isolated eSpeak worker failed (exit status {status})")
    ok, result = pickle.loads(payload)
    if not ok:
        raise result
    return result
