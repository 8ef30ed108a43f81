"""An external recognizer as an anchor: CMU PocketSphinx (PyPI ``pocketsphinx``, with its own US-English model),
restricted by a JSGF grammar to the task's words, run on exactly the audio our models hear."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

from gatescope.asr.errors import InputError

POCKETSPHINX_RATE = 16000  # its default acoustic model is a 16 kHz model


class PocketsphinxAnchor:
    """Transcribe waveforms with PocketSphinx; the grammar accepts 1 to ``max_words`` words from ``words`` (the
    longest reference of the task: isolated-word tasks get an isolated-word grammar, as a real system would)."""

    name = "pocketsphinx"

    def __init__(self, words: list[str], max_words: int = 1) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise InputError("the anchor needs pocketsphinx: pip install pocketsphinx==5.1.1") from None
        vocabulary = sorted({w.lower() for w in words})
        if not vocabulary:
            raise InputError("the anchor needs the task's word list")
        rule = "<word>" + "".join(" [ <word>" for _ in range(max_words - 1)) + " ]" * (max_words - 1)
        grammar = f"#JSGF V1.0;\ngrammar task;\n<word> = {' | '.join(vocabulary)} ;\npublic <utterance> = {rule} ;\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "task.gram"
            path.write_text(grammar)
            try:
                self.decoder = Decoder(jsgf=str(path), samprate=POCKETSPHINX_RATE, loglevel="FATAL")
            except RuntimeError as err:
                raise InputError(
                    f"pocketsphinx refused the task grammar (a word not in its dictionary?): {err}"
                ) from None

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
