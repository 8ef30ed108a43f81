"""An external recognizer as an anchor: CMU PocketSphinx (PyPI ``pocketsphinx``, with its own US-English model
trained on real speech), run on exactly the audio our models hear.

In: mono float waveforms at any rate (resampled to the model's 16 kHz). Out: word lists (:class:`PocketsphinxAnchor`,
for word and character tasks) or 39-phone lists (:class:`PocketsphinxPhoneLoop`, for phone tasks), so its errors
are counted as our models' are; :func:`anchor_for` picks the one for a task.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import numpy as np
import torch
import torchaudio.functional as AF

from gatescope.asr.corpora.synth.align import load_symbol_map
from gatescope.asr.decoding.scoring import SCORING_DROPS
from gatescope.asr.phones import PhoneMap
from gatescope.errors import InputError
from gatescope.resources import conf_path

POCKETSPHINX_RATE = 16000  # its default acoustic model is a 16 kHz model
PHONE_LOOP_LM_WEIGHT = 2.0  # CMU's documented setting for phone decoding (with beams of 1e-20)


def pocketsphinx_decoder(**options: Any) -> Any:
    """A PocketSphinx decoder of its US-English model at 16 kHz, quiet, with ``options`` (its config keys)."""
    try:
        from pocketsphinx import Decoder
    except ImportError:
        raise InputError("the anchor needs pocketsphinx: pip install pocketsphinx==5.1.1") from None
    return Decoder(samprate=POCKETSPHINX_RATE, loglevel="FATAL", **options)


def to_pocketsphinx_pcm(wave: np.ndarray, sample_rate: int) -> bytes:
    """A mono float waveform as PocketSphinx takes it: resampled to 16 kHz, 16-bit PCM."""
    audio = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
    if sample_rate != POCKETSPHINX_RATE:
        audio = AF.resample(audio, sample_rate, POCKETSPHINX_RATE)
    return (audio.clamp(-1, 1).numpy() * 32767).astype(np.int16).tobytes()


def _decode(decoder: Any, wave: np.ndarray, sample_rate: int) -> None:
    """One whole utterance through ``decoder``."""
    pcm = to_pocketsphinx_pcm(wave, sample_rate)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


class PocketsphinxAnchor:
    """Transcribe waveforms with PocketSphinx. For short-utterance tasks (at most ``GRAMMAR_MAX_WORDS`` words per
    utterance, e.g. isolated digits) a JSGF grammar accepts 1 to ``max_words`` of the task's words, as a real
    system for such a task would; longer read speech uses PocketSphinx's own US-English LM. Task words missing
    from its dictionary are left out of the grammar (they count as errors)."""

    name = "pocketsphinx"
    GRAMMAR_MAX_WORDS = 3

    def __init__(self, words: list[str], max_words: int = 1) -> None:
        self.decoder = pocketsphinx_decoder()
        vocabulary = sorted({w.lower() for w in words})
        known = [w for w in vocabulary if self.decoder.lookup_word(w) is not None]
        self.missing = sorted(set(vocabulary) - set(known))
        if max_words > self.GRAMMAR_MAX_WORDS:
            return
        if not known:
            raise InputError("none of the task's words is in PocketSphinx's dictionary")
        rule = "<word>" + "".join(" [ <word>" for _ in range(max_words - 1)) + " ]" * (max_words - 1)
        grammar = f"#JSGF V1.0;\ngrammar task;\n<word> = {' | '.join(known)} ;\npublic <utterance> = {rule} ;\n"
        self.decoder.add_jsgf_string("task", grammar)
        self.decoder.activate_search("task")

    def transcribe(self, wave: np.ndarray, sample_rate: int) -> list[str]:
        """Words recognised in a mono float waveform (resampled to 16 kHz when needed)."""
        _decode(self.decoder, wave, sample_rate)
        hyp = self.decoder.hyp()
        return hyp.hypstr.split() if hyp is not None else []


@cache
def _cmu_to_39() -> dict[str, tuple[str, ...]]:
    """PocketSphinx's phone (CMU's set, upper case) -> its 39-phone labels, through ``conf/radio_timit.map`` (the
    same set, which flite and festival speak) and the TIMIT folding; silence maps to nothing."""
    fold = PhoneMap.load().to39
    table: dict[str, tuple[str, ...]] = {}
    for symbol, labels in load_symbol_map(conf_path("radio_timit.map")).items():
        folded = [fold[label] for label in labels if label in fold and fold[label] not in SCORING_DROPS]
        table[symbol.upper()] = tuple(folded)
    table["SIL"] = ()
    return table


class PocketsphinxPhoneLoop:
    """PocketSphinx's US-English acoustic model decoding phones in a loop, weighted by its own phone trigram
    (``en-us-phone.lm.bin``), no lexicon: the anchor of a phone task. Its phones are mapped to the 39-phone
    folding; fillers (``+NSN+``, ``+SPN+``) and silence are dropped. Its model is a 16 kHz one (filters up to
    6.8 kHz): band-limited audio such as 8 kHz recordings reaches it with its upper bands empty."""

    name = "pocketsphinx"

    def __init__(self, lm_weight: float = PHONE_LOOP_LM_WEIGHT) -> None:
        from pocketsphinx import get_model_path

        phone_lm = os.path.join(get_model_path(), "en-us", "en-us-phone.lm.bin")
        if not os.path.isfile(phone_lm):
            raise InputError(f"{phone_lm}: PocketSphinx's phone LM is missing from its package")
        self.decoder = pocketsphinx_decoder(allphone=phone_lm, lm=None, lw=lm_weight, beam=1e-20, pbeam=1e-20)
        self.table = _cmu_to_39()

    def transcribe(self, wave: np.ndarray, sample_rate: int) -> list[str]:
        """39-phone labels recognised in a mono float waveform (resampled to 16 kHz when needed)."""
        _decode(self.decoder, wave, sample_rate)
        phones: list[str] = []
        for segment in self.decoder.seg():
            if segment.word.startswith("+"):
                continue
            if segment.word not in self.table:
                raise InputError(f"PocketSphinx emitted phone {segment.word!r}, which conf/radio_timit.map lacks")
            phones += self.table[segment.word]
        return phones


def anchor_for(target: str, transcripts: list[list[str]]) -> PocketsphinxAnchor | PocketsphinxPhoneLoop:
    """The anchor of a task: the phone loop for ``phones``; for word and character tasks PocketSphinx restricted to
    the words of ``transcripts`` (each utterance's words), as long as their longest allows a grammar."""
    if target == "phones":
        return PocketsphinxPhoneLoop()
    vocabulary = sorted({w for words in transcripts for w in words})
    return PocketsphinxAnchor(vocabulary, max(map(len, transcripts)))
