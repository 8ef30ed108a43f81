"""A "lang" dir for word decoding, as Kaldi's ``data/lang``: ``lm.arpa`` (a word n-gram LM), ``lexicon.txt``
(each word spelled in the acoustic model's characters, ending with ``|``), ``words.txt``, and ``lang.json``.

Decoding uses torchaudio's lexicon-constrained CTC beam search (flashlight-text) with the LM through KenLM:
``score = acoustic + lm_weight * log p_LM + word_score * words``; both weights are tuned on a dev set.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gatescope.asr.data.datadir import read_table
from gatescope.asr.decoding.lm import UNK, read_sentences, train_kneser_ney
from gatescope.asr.tokens import WORD_BOUNDARY
from gatescope.errors import InputError
from gatescope.files import write_text_atomic


@dataclass(frozen=True)
class LangDir:
    """A lang dir for word decoding: ``lm.arpa``, ``lexicon.txt``, ``words.txt``, ``lang.json``."""

    path: Path

    @property
    def lm(self) -> Path:
        return self.path / "lm.arpa"

    @property
    def lexicon(self) -> Path:
        return self.path / "lexicon.txt"

    def check(self) -> None:
        """Raise InputError naming the first required file that is missing."""
        for needed in (self.lm, self.lexicon):
            if not needed.is_file():
                raise InputError(f"{needed}: missing (build the lang dir with gatescope lm)")


@dataclass(frozen=True)
class SearchWeights:
    """The lexicon + LM search's weights: LM weight, word insertion score, beam size."""

    lm_weight: float = 1.0
    word_score: float = 0.0
    beam: int = 32


def transcript_words(data_dirs: list[Path]) -> set[str]:
    """Every word in the ``text`` files of ``data_dirs`` (to put the training words in a lexicon)."""
    return {w for d in data_dirs for line in read_table(d / "text", allow_empty=True).values() for w in line.split()}


def build_lang(text: Path, out_dir: Path, order: int = 3, extra_words: set[str] | None = None) -> dict[str, Any]:
    """Train a modified Kneser-Ney LM of ``order`` on ``text`` (one sentence per line) and write the lang dir;
    the lexicon covers the LM's words and ``extra_words`` (e.g. the training transcripts' words)."""
    sentences = read_sentences(text)
    if not any(sentences):
        raise InputError(f"{text}: no words (the LM text is empty)")
    words = sorted({w for s in sentences for w in s} | (extra_words or set()))
    bad = [w for w in words if WORD_BOUNDARY in w]
    if bad:
        raise InputError(f"{text}: word {bad[0]!r} contains the word boundary symbol {WORD_BOUNDARY!r}")
    lm = train_kneser_ney(sentences, order)  # everything checked before the first file is written
    lm.write_arpa(out_dir / "lm.arpa")
    write_text_atomic(out_dir / "lexicon.txt", "".join(f"{w}\t{' '.join(w)} {WORD_BOUNDARY}\n" for w in words))
    write_text_atomic(out_dir / "words.txt", "".join(f"{w}\n" for w in words))
    info = {
        "text": str(text),
        "order": order,
        "sentences": len(sentences),
        "ngrams": {n: len(lm.logprob[n]) for n in lm.logprob},
        "lexicon_words": len(words),
    }
    write_text_atomic(out_dir / "lang.json", json.dumps(info, indent=1) + "\n")
    return info


def lexicon_decoder(tokens: list[str], lang: LangDir, weights: SearchWeights) -> Any:
    """torchaudio's lexicon + KenLM CTC decoder over character ``tokens`` (blank first, ``|`` ends words)."""
    lang.check()
    if WORD_BOUNDARY not in tokens:
        raise InputError("LM decoding needs a character model (target=chars: words spelled, ending with '|')")
    # Words with a character the model never saw in training cannot be spelled: leave them out.
    known = set(tokens)
    entries = [line for line in lang.lexicon.read_text().splitlines() if set(line.split("\t", 1)[-1].split()) <= known]
    if not entries:
        raise InputError(f"{lang.lexicon}: no word can be spelled with the model's characters")
    with tempfile.TemporaryDirectory() as tmp:
        lexicon = Path(tmp) / "lexicon.txt"
        lexicon.write_text("\n".join(entries) + "\n")
        return _decoder(tokens, lexicon, lang, weights)


def _decoder(tokens: list[str], lexicon: Path, lang: LangDir, weights: SearchWeights) -> Any:
    from torchaudio.models.decoder import ctc_decoder

    return ctc_decoder(
        lexicon=str(lexicon),
        tokens=tokens,
        lm=str(lang.lm),
        nbest=1,
        beam_size=weights.beam,
        lm_weight=weights.lm_weight,
        word_score=weights.word_score,
        blank_token=tokens[0],
        sil_token=WORD_BOUNDARY,
        unk_word=UNK,
        log_add=False,
    )


def lexicon_search(decoder: Any, emissions: list[Tensor]) -> list[list[str]]:
    """The best word sequence for each ``(frames, tokens)`` log-prob matrix."""
    out = []
    for emission in emissions:
        hyps = decoder(emission.float().unsqueeze(0).contiguous(), torch.tensor([emission.shape[0]], dtype=torch.int32))
        out.append([w for w in hyps[0][0].words if w != UNK] if hyps[0] else [])
    return out


def save_weights(path: Path, weights: SearchWeights, lang: LangDir, table: list[dict[str, float]]) -> None:
    """Write tuned weights (with the lang dir they were tuned for and the whole grid) to ``path``."""
    write_text_atomic(path, json.dumps({**asdict(weights), "lang": str(lang.path), "grid": table}, indent=1) + "\n")


def load_weights(path: Path) -> SearchWeights:
    """The weights saved by :func:`save_weights`."""
    data = json.loads(path.read_text())
    return SearchWeights(float(data["lm_weight"]), float(data["word_score"]), int(data["beam"]))
