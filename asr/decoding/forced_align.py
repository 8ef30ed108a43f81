"""Phone alignments for real recordings: forced alignment with PocketSphinx's US-English acoustic model (trained on
real speech), so that frame labels, phone selectivity and noise-burst windows work on real speech, not only on the
synthetic corpora whose synthesizers give exact boundaries.

In: a Kaldi data dir with ``wav.scp`` and the words of each recording (``text.wrd``, else ``text``). Out:
``phones.ctm`` beside them in TIMIT's 61 labels, as the corpora write it, then read by ``gatescope features``
(frame labels) and ``gatescope analyze``. Per recording, PocketSphinx searches the transcript's words (any of
their dictionary pronunciations, optional silence between them) over its 10 ms frames, then aligns the best path
to HMM states, which gives each phone's start and length. Its CMU phones become TIMIT labels through
``conf/radio_timit.map`` with the rules of the synthesizers' timed alignments (a stop's first half is its
closure; see :mod:`~gatescope.asr.corpora.synth.timed`). Recordings with a word missing from PocketSphinx's
dictionary, or that it cannot align, are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gatescope.asr.corpora.synth.align import Alignment, load_symbol_map, tokenize
from gatescope.asr.corpora.synth.timed import TimedSynthesis, align_timed
from gatescope.asr.data.audio import read_audio
from gatescope.asr.data.datadir import CTM_FILE, ctm_line, read_table, read_transcripts, require_files
from gatescope.asr.decoding.anchor import pocketsphinx_decoder, to_pocketsphinx_pcm
from gatescope.errors import InputError
from gatescope.files import write_text_atomic
from gatescope.resources import conf_path

FRAME_S = 0.01  # PocketSphinx's frame shift


@dataclass
class AlignmentSummary:
    """What :func:`align_data_dir` did: the recordings aligned, and those left out with the reason of each."""

    ctm: Path
    aligned: int = 0
    left_out: dict[str, str] = field(default_factory=dict)  # utt -> why


class PocketsphinxAligner:
    """Align one recording to its words with PocketSphinx; :meth:`align` gives TIMIT-labelled phone segments."""

    def __init__(self) -> None:
        self.decoder = pocketsphinx_decoder(lm=None, bestpath=False)  # bestpath off: its alignment needs that
        self.symbol_map = {**load_symbol_map(conf_path("radio_timit.map")), "sil": ("pau",)}

    def pronunciation(self, word: str) -> list[str] | None:
        """The word's first dictionary pronunciation in lower-case CMU phones (None: not in the dictionary)."""
        phones = self.decoder.lookup_word(word)
        return phones.lower().split() if phones else None

    def align(self, wave: np.ndarray, sample_rate: int, words: list[str]) -> Alignment:
        """Phone and word segments of ``wave`` (mono float at ``sample_rate``) saying ``words``, in samples at
        ``sample_rate``. InputError: a word is not in the dictionary, or no alignment was found."""
        unknown = [w for w in words if self.pronunciation(w) is None]
        if unknown:
            raise InputError(f"no pronunciation for {unknown[0]!r} in PocketSphinx's dictionary")
        pcm = to_pocketsphinx_pcm(wave, sample_rate)
        self.decoder.set_align_text(" ".join(words))
        self._run(pcm)  # the words (and their pronunciations) on the best path
        try:
            self.decoder.set_alignment()  # fails when the first pass found no path through the words
            self._run(pcm)  # that path aligned to HMM states: phone boundaries
            alignment = self.decoder.get_alignment()
        except RuntimeError:
            alignment = None
        if alignment is None:
            raise InputError("PocketSphinx found no alignment of the words to the audio")
        scale = sample_rate * FRAME_S
        segments = [(self._symbol(p.name), round((p.start + p.duration) * scale)) for p in alignment.phones()]
        synthesis = TimedSynthesis(wave, sample_rate, segments, backend="pocketsphinx")
        tokens = tokenize(" ".join(words))
        return align_timed(synthesis, tokens, self.symbol_map, lambda w: self.pronunciation(w) or [])

    def _run(self, pcm: bytes) -> None:
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()

    def _symbol(self, name: str) -> str:
        symbol = name.lower()
        if symbol not in self.symbol_map:
            raise InputError(f"PocketSphinx aligned phone {name!r}, which conf/radio_timit.map lacks")
        return symbol


def align_data_dir(
    data_dir: Path, progress: bool = True, aligner: PocketsphinxAligner | None = None
) -> AlignmentSummary:
    """Write ``data_dir/phones.ctm`` from PocketSphinx's forced alignment of every recording to its words (see the
    module). Refuses a data dir that already has one (the corpora's own alignments are exact: keep them)."""
    require_files(data_dir, ("wav.scp",))
    ctm = data_dir / CTM_FILE
    if ctm.is_file():
        raise InputError(f"{ctm}: the data dir is aligned already (remove the file to align it again)")
    wavs = read_table(data_dir / "wav.scp")
    words = read_transcripts(data_dir, wavs)
    aligner = aligner or PocketsphinxAligner()
    summary = AlignmentSummary(ctm)
    lines: list[str] = []
    for utt in tqdm(sorted(wavs), desc=f"align {data_dir.name}", disable=not progress):
        wave, rate = read_audio(wavs[utt])
        try:
            alignment = aligner.align(wave, rate, words[utt].lower().split())
        except InputError as err:
            summary.left_out[utt] = str(err)
            continue
        lines += [ctm_line(utt, s.start, s.end, s.label, rate) for s in alignment.phones]
        summary.aligned += 1
    if not summary.aligned:
        first = next(iter(summary.left_out.items()), ("", "no recordings"))
        raise InputError(f"{data_dir}: no recording could be aligned ({first[0]}: {first[1]})")
    write_text_atomic(ctm, "".join(lines))
    return summary
