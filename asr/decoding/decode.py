"""Decoding and scoring a data dir (the search itself is in :mod:`gatescope.asr.decoding.search` and
:mod:`gatescope.asr.decoding.lang`).

``decode_data_dir`` writes the scored files of :mod:`~gatescope.asr.decoding.score_files` (``hyp.txt``,
``ref.txt``, ``per_utt.txt``, ``align.txt``, ``confusions.txt``) and ``result.json`` into the output folder, and
returns the error rate (PER on 39 phones for phone tasks, WER for word
and character tasks). ``tune_lm`` picks the LM weight and word score on a dev set.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from torch import Tensor
from tqdm import tqdm

from gatescope.asr.data.datadir import read_table
from gatescope.asr.data.dataset import CTCDataset
from gatescope.asr.decoding.grammar import WordCountGrammar, require_word_model
from gatescope.asr.decoding.lang import (
    LangDir,
    SearchWeights,
    lexicon_decoder,
    lexicon_search,
    load_weights,
    save_weights,
)
from gatescope.asr.decoding.score_files import write_score_files
from gatescope.asr.decoding.scoring import fold_for_scoring, score_utterances
from gatescope.asr.decoding.search import emissions, search
from gatescope.asr.models.acoustic import AcousticModel
from gatescope.asr.models.checkpoint import load_model
from gatescope.asr.phones import PhoneMap
from gatescope.asr.tokens import TokenTable
from gatescope.errors import InputError
from gatescope.files import refuse_overlap, write_text_atomic

TUNING_FILE = "lm_tuning.json"


@dataclass
class Emissions:
    """A data dir run through a model once: scored references and CTC log-probs per utterance."""

    model: AcousticModel
    tokens: TokenTable
    target: str
    utts: list[str]
    refs: dict[str, list[str]]
    log_probs: list[Tensor]


def check_target(model_path: Path, target: str, data_dir: Path) -> None:
    """InputError when a phone model meets word transcripts or a word/character model phone transcripts (a data dir
    is phone-level when every token of its ``text`` is a TIMIT phone label)."""
    if not (data_dir / "text").is_file():
        return
    phone_map = PhoneMap.load()
    labels = set(phone_map.labels61) | set(phone_map.to48.values())
    seen = {tok for line in read_table(data_dir / "text", allow_empty=True).values() for tok in line.split()}
    phone_level = bool(seen) and seen <= labels
    if (target == "phones") != phone_level:
        kind = "phone-level" if phone_level else "word-level"
        raise InputError(f"{data_dir / 'text'}: {kind} transcripts, but {model_path} is a {target} model")


def run_model(model_path: Path, data_dir: Path, batch_size: int, grammar_beam: int | None = None) -> Emissions:
    """Load the model, run it over every utterance of the data dir and keep the log-probs with the references.
    With ``grammar_beam`` (the beam asked for beside a word-count grammar), a model the grammar cannot search is
    refused before it runs (:func:`require_word_model`)."""
    model = load_model(model_path)
    hp = model.train_config
    check_target(model_path, hp["target"], data_dir)
    if grammar_beam is not None:
        require_word_model(hp["target"], model_path, grammar_beam)
    tokens = TokenTable(tuple(model.tokens), hp["target"])
    dataset = CTCDataset(
        data_dir, tokens, cmvn=model.cmvn_mode, norm_vars=hp["norm_vars"], skip_bad=False, frame_stack=model.frame_stack
    )
    if dataset.input_dim != model.input_dim:
        raise InputError(
            f"{data_dir / 'feats.scp'}: features have {dataset.input_dim} dims, the model expects {model.input_dim}"
        )
    phone_map = PhoneMap.load() if hp["target"] == "phones" else None
    examples = [dataset[i] for i in range(len(dataset))]
    refs = {e.utt: fold_for_scoring(tokens.decode(e.targets.tolist()), hp["target"], phone_map) for e in examples}
    log_probs = emissions(model, [e.feats for e in examples], batch_size)
    return Emissions(model, tokens, hp["target"], [e.utt for e in examples], refs, log_probs)


def _hypotheses(
    run: Emissions, beam: int, lang: LangDir | None, weights: SearchWeights, grammar: WordCountGrammar | None = None
) -> dict[str, list[str]]:
    """Scored hypothesis tokens per utterance: greedy, prefix beam, lexicon + LM beam search (words), or the best
    path under a word-count grammar."""
    if lang is not None:
        decoder = lexicon_decoder(list(run.model.tokens), lang, weights)
        return dict(zip(run.utts, lexicon_search(decoder, run.log_probs), strict=True))
    phone_map = PhoneMap.load() if run.target == "phones" else None
    found = search(run.log_probs, list(run.model.tokens), beam, grammar)
    return {
        u: fold_for_scoring(run.tokens.decode(h.ids), run.target, phone_map)
        for u, h in zip(run.utts, found, strict=True)
    }


def _mode_name(beam: int, lm_beam: int, with_lm: bool, grammar: WordCountGrammar | None) -> str:
    """How the search is named in the output folder and result.json: ``greedy``, ``beam8``, ``beam32_lm`` or
    ``words1to1`` (a word-count grammar)."""
    if with_lm:
        return f"beam{lm_beam}_lm"
    if grammar is not None:
        return f"words{grammar.min_words}to{grammar.max_words}"
    return f"beam{beam}" if beam else "greedy"


def decode_data_dir(
    model_path: Path,
    data_dir: Path,
    out_dir: Path | None = None,
    beam: int = 0,
    batch_size: int = 16,
    lang: LangDir | None = None,
    lm_weight: float | None = None,
    word_score: float | None = None,
    grammar: WordCountGrammar | None = None,
) -> tuple[float, Path]:
    """Decode every utterance of ``data_dir``; returns (error rate in %, output folder).

    With ``lang``, a character model is decoded with the lexicon and LM; ``lm_weight`` and ``word_score`` default
    to the tuned ones in the model's ``lm_tuning.json`` (from ``gatescope tune-lm``), else to 1 and 0. With
    ``grammar``, a word model's best path with a word count it allows (no beam, no lang)."""
    exp_dir = Path(model_path if Path(model_path).is_dir() else Path(model_path).parent)
    if out_dir is not None:
        refuse_overlap(out_dir, {"--data": data_dir})
    if grammar is not None and lang is not None:
        raise InputError("--max-words and --lang are two different searches: choose one")
    tuned = load_weights(exp_dir / TUNING_FILE) if (exp_dir / TUNING_FILE).is_file() else SearchWeights()
    weights = SearchWeights(
        tuned.lm_weight if lm_weight is None else lm_weight,
        tuned.word_score if word_score is None else word_score,
        beam or tuned.beam,
    )
    run = run_model(Path(model_path), data_dir, batch_size, None if grammar is None else beam)
    hyps = _hypotheses(run, beam, lang, weights, grammar)
    mode = _mode_name(beam, weights.beam, lang is not None, grammar)
    out_dir = out_dir or exp_dir / f"decode_{data_dir.name}_{mode}"
    total = write_score_files(out_dir, run.refs, hyps)
    metric = "PER" if run.target == "phones" else "WER"
    result = {
        "metric": metric,
        "error_rate": round(total.rate, 2),
        "decoding": mode,
        "data": str(data_dir),
        "model": str(model_path),
        "utterances": len(run.refs),
        **({"lang": str(lang.path), **asdict(weights)} if lang else {}),
        **asdict(total),
    }
    write_text_atomic(out_dir / "result.json", json.dumps(result, indent=2) + "\n")
    return total.rate, out_dir


class Tuning(NamedTuple):
    """The outcome of :func:`tune_lm`."""

    weights: SearchWeights
    wer: float  # in %, on the tuning set
    path: Path  # the lm_tuning.json written


def tune_lm(
    model_path: Path,
    data_dir: Path,
    lang: LangDir,
    lm_weights: list[float],
    word_scores: list[float],
    beam: int = 32,
    progress: bool = True,
) -> Tuning:
    """Grid search of LM weight x word score on ``data_dir`` (a dev set); writes the model's ``lm_tuning.json``
    and returns the best weights with their WER and that file's path."""
    run = run_model(Path(model_path), data_dir, 16)
    table = []
    best: tuple[float, SearchWeights] | None = None
    grid = [(w, s) for w in lm_weights for s in word_scores]
    for lm_weight, word_score in tqdm(grid, desc="tune LM weights", disable=not progress):
        weights = SearchWeights(lm_weight, word_score, beam)
        rate = score_utterances(run.refs, _hypotheses(run, beam, lang, weights)).rate
        table.append({"lm_weight": lm_weight, "word_score": word_score, "wer": round(rate, 2)})
        if best is None or rate < best[0]:
            best = (rate, weights)
    assert best is not None
    exp_dir = Path(model_path if Path(model_path).is_dir() else Path(model_path).parent)
    save_weights(exp_dir / TUNING_FILE, best[1], lang, table)
    return Tuning(best[1], best[0], exp_dir / TUNING_FILE)
