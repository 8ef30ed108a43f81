"""An external recognizer as an anchor: CMU PocketSphinx (PyPI ``pocketsphinx``, with its own US-English model),
restricted by a JSGF grammar to the task's words, run on exactly the audio our models hear."""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.functional as AF

from gatescope.errors import InputError

POCKETSPHINX_RATE = 16000  # its default acoustic model is a 16 kHz model


class PocketsphinxAnchor:
    """Transcribe waveforms with PocketSphinx. For short-utterance tasks (at most ``GRAMMAR_MAX_WORDS`` words per
    utterance, e.g. isolated digits) a JSGF grammar accepts 1 to ``max_words`` of the task's words, as a real
    system for such a task would; longer read speech uses PocketSphinx's own US-English LM. Task words missing
    from its dictionary are left out of the grammar (they count as errors)."""

    name = "pocketsphinx"
    GRAMMAR_MAX_WORDS = 3

    def __init__(self, words: list[str], max_words: int = 1) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise InputError("the anchor needs pocketsphinx: pip install pocketsphinx==5.1.1") from None
        self.decoder = Decoder(samprate=POCKETSPHINX_RATE, loglevel="FATAL")
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
        audio = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
        if sample_rate != POCKETSPHINX_RATE:
            audio = AF.resample(audio, sample_rate, POCKETSPHINX_RATE)
        pcm = (audio.clamp(-1, 1).numpy() * 32767).astype(np.int16).tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr.split() if hyp is not None else []
